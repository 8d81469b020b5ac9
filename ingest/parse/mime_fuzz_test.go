package parse

import (
	"bufio"
	"bytes"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// mailFixtures returns the contents of testdata/mail and of the HTML
// submissions in ingest/parse/testdata/submissions, as fuzz seeds.
func mailFixtures(f *testing.F) [][]byte {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "mail", "*.eml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	html, err := filepath.Glob(filepath.Join("testdata", "submissions", "*.eml"))
	if err != nil || len(html) == 0 {
		f.Fatalf("no HTML submission fixtures: %v", err)
	}
	files = append(files, html...)
	var l [][]byte
	for _, file := range files {
		buf, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		l = append(l, buf)
	}
	return l
}

func FuzzParseMessage(f *testing.F) {
	for _, buf := range mailFixtures(f) {
		f.Add(buf)
	}
	f.Add([]byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n"))
	f.Add([]byte("Content-Type: text/html\r\n\r\n<a href=x><p>t</a><pre>\x00\xff</pre>"))
	// Parts longer than the 4 KB of a part enmime checks at every byte.
	long := strings.Repeat(strings.Repeat("A", 76)+"\r\n", 60)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\n" + long + "--a\r\nContent-Transfer-Encoding: base64\r\n\r\n" + long + "--a--\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + long + "AAAA\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkScans(t, raw)
		m, err := ParseMessage(raw)
		if err != nil {
			if m != nil {
				t.Fatalf("message and error")
			}
			if h := bytes.TrimPrefix(raw, []byte("From ")); len(h) == len(raw) && startsWithHeaderField(raw) {
				t.Fatalf("error for a message with a header: %v", err)
			}
			return
		}
		checkSane(t, m)
		// Values that end up in reply headers must not break lines.
		for _, a := range append(append(append([]Address{m.From}, m.ReplyTo...), m.To...), m.Cc...) {
			if strings.ContainsAny(a.Name+a.Addr, "\r\n") {
				t.Fatalf("address with line break: %+v", a)
			}
		}
		for _, id := range append(append([]string{m.MessageID}, m.InReplyTo...), m.References...) {
			if strings.ContainsAny(id, "\r\n \t<>") {
				t.Fatalf("id %q", id)
			}
		}
		if m.Header == nil {
			t.Fatalf("nil Header")
		}
		for _, a := range m.Attachments {
			if a.Name != sanitizeFilename(a.Name) && a.Name[:min(len(a.Name), 11)] != "attachment-" {
				t.Fatalf("name %q not stable under sanitizing", a.Name)
			}
		}
		// Parsing is deterministic.
		m2, err := ParseMessage(raw)
		if err != nil || m2.Text != m.Text || m2.Subject != m.Subject || len(m2.Attachments) != len(m.Attachments) || len(m2.Problems) != len(m.Problems) {
			t.Fatalf("second parse differs")
		}
		// Bodies kept out of enmime (mime_large.go), all of them or the
		// usual ones, change nothing.
		checkSpans(t, raw, m)
		whole, err := parseMessage(raw, -1)
		if err != nil || !reflect.DeepEqual(whole, withoutSpans(m)) {
			t.Fatalf("parsed differently when enmime reads every body (%v):\ngot  %+v\nwant %+v", err, m, whole)
		}
		if all, err := parseMessage(raw, 0); err != nil || !reflect.DeepEqual(whole, withoutSpans(all)) {
			t.Fatalf("parsed differently when every body is kept out of enmime (%v):\ngot  %+v\nwant %+v", err, all, whole)
		}
	})
}

func FuzzAutoReason(f *testing.F) {
	for _, buf := range mailFixtures(f) {
		if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
			buf = buf[:i+2]
		} else if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			buf = buf[:i+4]
		}
		f.Add(buf, "", false)
	}
	f.Add([]byte("Auto-Submitted: (x) no; y\r\nFrom: <>\r\n\r\n"), "<>", true)
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status\r\n\r\n"), "a@b", true)
	f.Fuzz(func(t *testing.T, hdr []byte, envelopeFrom string, envelopeKnown bool) {
		h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(hdr))).ReadMIMEHeader()
		if err != nil && len(h) == 0 {
			return
		}
		mh := mail.Header(h)
		reason := AutoReason(mh, envelopeFrom, envelopeKnown)
		if !utf8.ValidString(reason) || len(reason) > 100 {
			t.Fatalf("reason %q", reason)
		}
		// A bounce is a multipart/report, hence automatic.
		if IsBounce(mh) && reason == "" {
			t.Fatalf("bounce without reason")
		}
		if reason != AutoReason(mh, envelopeFrom, envelopeKnown) {
			t.Fatalf("not deterministic")
		}
		_ = IsOwnLoop(mh, "liaison.example.org")
	})
}

// withoutSpans is m with its attachments' Encoded spans zeroed: parsing
// with bodies kept out of enmime gives them, parsing whole does not.
func withoutSpans(m *Message) *Message {
	if m == nil {
		return nil
	}
	c := *m
	c.Attachments = slices.Clone(m.Attachments)
	for i := range c.Attachments {
		c.Attachments[i].Encoded = Span{}
	}
	return &c
}

// checkSpans checks that each attachment's Encoded span is where its bytes
// lie in raw: decoding the range gives them.
func checkSpans(t *testing.T, raw []byte, m *Message) {
	t.Helper()
	for i, a := range m.Attachments {
		at := a.Encoded
		if at.Length == 0 {
			continue
		}
		if at.Offset < 0 || at.Offset+at.Length > len(raw) {
			t.Fatalf("attachment %d: span %+v outside the message (%d bytes)", i, at, len(raw))
		}
		enc := raw[at.Offset : at.Offset+at.Length]
		var data []byte
		switch at.Encoding {
		case "":
			data = enc
		case "base64":
			data, _ = decodeBase64(enc)
		case "quoted-printable":
			data, _ = decodeQP(enc)
		default:
			t.Fatalf("attachment %d: span encoding %q", i, at.Encoding)
		}
		if !bytes.Equal(data, a.Data) {
			t.Fatalf("attachment %d: span %+v decodes to %d other bytes than its %d", i, at, len(data), len(a.Data))
		}
	}
}
