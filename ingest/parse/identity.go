package parse

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
)

// traceHeaders are the fields that MTAs and delivery agents add on the way
// (RFC 5321 4.4 trace fields, RFC 5598 5, and the common local-delivery and
// filter headers). A re-delivery along another path differs in these alone,
// so they do not count for a message's identity (DESIGN 5.1).
var traceHeaders = map[string]bool{
	"Received": true, "Return-Path": true, "Delivered-To": true, "X-Original-To": true,
	"Envelope-To": true, "X-Envelope-From": true, "X-Envelope-To": true, "X-Received": true,
	"Received-Spf": true, "Authentication-Results": true, "Arc-Seal": true,
	"Arc-Message-Signature": true, "Arc-Authentication-Results": true, "X-Original-Authentication-Results": true,
	"X-Spam-Status": true, "X-Spam-Flag": true, "X-Spam-Score": true, "X-Spam-Level": true, "X-Spam-Checker-Version": true,
	"X-Virus-Scanned": true, "X-Virus-Status": true, "X-Ms-Exchange-Organization-Authas": true,
	"X-Rcpt-To": true, "X-Orig-To": true, "Status": true, "X-Status": true, "X-Uid": true,
	"X-Keywords": true, "Lines": true, "Content-Length": true,
}

// Identity is what makes a re-delivery the same message (DESIGN 5.1): the
// Message-ID and the body when there is a Message-ID; otherwise every
// header field that is not a trace field, and the body. Line endings (CRLF
// from SMTP, LF from a pipe), an mbox "From " separator line, and trailing
// white space at the ends of lines and of the message do not count.
//
// LegacyIdentity is the identity liaisond computed before this rule; the
// store checks it too, where it may hold one, so that a message stored by
// an earlier version is still recognized when it comes again.
func Identity(raw []byte, rawSum string) (messageID, id string) {
	// The message is read line by line, normalized on the way (see
	// normalizedLines): the header section is collected and, at its end,
	// read and hashed; the body goes straight into the hash after it, so a
	// large message is not copied.
	var (
		header  []byte // normalized header section, through its blank line
		started bool   // the header section was read
		bad     bool   // ... and is not a header
		first   = true
		sum     = sha256.New()
		// The body comes a line at a time: sha256's Write has a cost per
		// call that, for lines of 76 bytes, was most of Identity's time.
		h       = bufio.NewWriterSize(sum, 16<<10)
		pending []byte // white space and newlines not yet known to be inside the body
	)
	start := func() {
		started = true
		m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(header)))
		if err != nil {
			bad = true
			return
		}
		messageID = strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
		if messageID != "" {
			h.Write([]byte(messageID))
			h.Write([]byte{0})
			return
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
	}
	// The body counts without the white space at its end.
	writeBody := func(b []byte) {
		if bad {
			return
		}
		// A byte scan, not LastIndexFunc: that gives the first byte of the
		// last rune, and a body ending in "ß" would lose its last byte.
		j := len(b) - 1
		for j >= 0 && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n') {
			j--
		}
		if j < 0 {
			pending = append(pending, b...)
			return
		}
		h.Write(pending)
		pending = pending[:0]
		h.Write(b[:j+1])
		pending = append(pending, b[j+1:]...)
	}
	newline := []byte{'\n'}
	normalizedLines(raw, func(line []byte, nl bool) {
		if first {
			first = false
			if nl && bytes.HasPrefix(append(line[:len(line):len(line)], '\n'), []byte("From ")) {
				return // an mbox separator line
			}
			if nl && len(line) == 0 {
				// No header fields at all: the rest is the body.
				header = []byte{'\n'}
				start()
				return
			}
		}
		if started {
			writeBody(line)
			if nl {
				writeBody(newline)
			}
			return
		}
		header = append(header, line...)
		if nl {
			header = append(header, '\n')
			if len(line) == 0 {
				start() // the blank line that ends the header section
			}
		}
	})
	if !started {
		start() // a header section without a body
	}
	if bad {
		return "", "raw:" + rawSum
	}
	h.Flush() // into sum, which cannot fail
	if messageID != "" {
		return messageID, "mid2:" + hex.EncodeToString(sum.Sum(nil))
	}
	return "", "hdr2:" + hex.EncodeToString(sum.Sum(nil))
}

// normalizedLines calls fn with each line of raw as identity counts it:
// CRLF and lone CR end a line like LF, and white space at the end of a
// line is dropped (a pipe or a mailbox may lose or keep it). nl is false
// for a last line without a line end, which is passed as it is. line is a
// slice of raw: fn must not keep it.
func normalizedLines(raw []byte, fn func(line []byte, nl bool)) {
	// Line ends are found with bytes.IndexByte (vectorized) rather than a
	// byte loop: this runs over every message. nextLF is where the next LF
	// is, kept across lines so that a message of lone CRs is not searched
	// again for each of them.
	nextLF := -2 // not searched yet
	off := 0     // raw[off:] is what is left
	for off < len(raw) {
		if nextLF != -1 && nextLF < off {
			if i := bytes.IndexByte(raw[off:], '\n'); i >= 0 {
				nextLF = off + i
			} else {
				nextLF = -1
			}
		}
		end := len(raw)
		if nextLF >= 0 {
			end = nextLF
		}
		if cr := bytes.IndexByte(raw[off:end], '\r'); cr >= 0 {
			cr += off
			fn(trimBlank(raw[off:cr]), true)
			off = cr + 1
			if off == nextLF {
				off++ // CRLF
			}
			continue
		}
		if nextLF < 0 {
			fn(raw[off:], false)
			return
		}
		fn(trimBlank(raw[off:end]), true)
		off = end + 1
	}
}

// trimBlank is b without the spaces and tabs at its end (bytes.TrimRight
// builds its set of characters on every call).
func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// LegacyIdentity is the identity of liaisond before trace headers and line
// endings were ignored: the Message-ID and the body bytes, or the raw bytes.
func LegacyIdentity(raw []byte, rawSum string) string {
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return "raw:" + rawSum
	}
	messageID := strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
	if messageID == "" {
		return "raw:" + rawSum
	}
	h := sha256.New()
	h.Write([]byte(messageID))
	h.Write([]byte{0})
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		h.Write(raw[i+4:])
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		h.Write(raw[i+2:])
	}
	return "mid:" + hex.EncodeToString(h.Sum(nil))
}
