package parse

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// identity reads the message line by line without a normalized copy; it
// must give the identities of identityRef (the implementation that
// normalized a copy first), which messages stored earlier carry.
func TestIdentityStreamingSameAsCopy(t *testing.T) {
	var inputs [][]byte
	files, _ := filepath.Glob("testdata/*.eml")
	more, _ := filepath.Glob("testdata/*/*.eml")
	shared, _ := filepath.Glob("../../testdata/*/*.eml")
	more = append(more, shared...)
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	if len(inputs) < 10 {
		t.Fatalf("only %d fixtures found", len(inputs))
	}
	for _, s := range []string{"", "\n", "\r\n", "\r", "From x\n", "From \nA: b\n\nbody", "From x\n\nbody \n\n",
		"\nbody only\n", "\r\n\r\nbody", "A: b", "A: b\n", "A: b\n\n", "A: b\r\n\r\n  \r\n\t\r\n", "Subject: x \r\n\r\nline \t\r\nend\t \r\n \r\n",
		"Message-ID: <a@b>\r\n\r\nx\r\r\ny", "Message-ID: <a@b>\n\nx\n\n\n", "no header at all\nreally", "Bad Header\n\nbody",
		"A: b\r\nB: c\r\n\r\nbody\r\n.\r\n", "X: y\r\n\r\n \t \r\n\r\n"} {
		inputs = append(inputs, []byte(s))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"\r", "\n", "\r\n", " ", "\t", "a", "Subject: s", "Message-ID: <m@x>", "From ", ":", "b"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, []byte(b.String()))
	}
	for i, in := range inputs {
		mid, id := Identity(in, "sum")
		wmid, wid := identityRef(in, "sum")
		if mid != wmid || id != wid {
			t.Errorf("input %d %q: got (%q, %q), want (%q, %q)", i, truncateUTF8(string(in), 200), mid, id, wmid, wid)
		}
	}
}

func identityRef(raw []byte, rawSum string) (messageID, id string) {
	norm := normalizeLinesRef(raw)
	if bytes.HasPrefix(norm, []byte("From ")) {
		if i := bytes.IndexByte(norm, '\n'); i >= 0 {
			norm = norm[i+1:]
		}
	}
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(norm)))
	if err != nil {
		return "", "raw:" + rawSum
	}
	messageID = strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
	var body []byte
	switch i := bytes.Index(norm, []byte("\n\n")); {
	case bytes.HasPrefix(norm, []byte("\n")): // no header fields at all
		body = norm[1:]
	case i >= 0:
		body = norm[i+2:]
	}
	body = bytes.TrimRight(body, " \t\n")
	h := sha256.New()
	if messageID != "" {
		h.Write([]byte(messageID))
		h.Write([]byte{0})
		h.Write(body)
		return messageID, "mid2:" + hex.EncodeToString(h.Sum(nil))
	}
	// No Message-ID: the header fields a sender wrote, in a fixed order
	// (relays may reorder, never rewrite them), then the body.
	var names []string
	for k := range m.Header {
		if !traceHeaders[textproto.CanonicalMIMEHeaderKey(k)] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range m.Header[k] {
			h.Write([]byte(strings.ToLower(k)))
			h.Write([]byte{':'})
			h.Write([]byte(strings.Join(strings.Fields(v), " ")))
			h.Write([]byte{'\n'})
		}
	}
	h.Write([]byte{0})
	h.Write(body)
	return "", "hdr2:" + hex.EncodeToString(h.Sum(nil))
}
func normalizeLinesRef(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	lineStart := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\r' {
			if i+1 < len(raw) && raw[i+1] == '\n' {
				continue
			}
			c = '\n'
		}
		if c == '\n' {
			trimmed := bytes.TrimRight(out[lineStart:], " \t")
			out = append(out[:lineStart+len(trimmed)], '\n')
			lineStart = len(out)
			continue
		}
		out = append(out, c)
	}
	return out
}
