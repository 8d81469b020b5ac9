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
// legacy is the identity liaisond computed before this rule (raw bytes);
// the store also checks it, so that a message stored by an earlier version
// is still recognized when it comes again.
func Identity(raw []byte, rawSum string) (messageID, id, legacy string) {
	legacy = LegacyIdentity(raw, rawSum)
	norm := normalizeLines(raw)
	if bytes.HasPrefix(norm, []byte("From ")) {
		if i := bytes.IndexByte(norm, '\n'); i >= 0 {
			norm = norm[i+1:]
		}
	}
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(norm)))
	if err != nil {
		return "", "raw:" + rawSum, legacy
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
		return messageID, "mid2:" + hex.EncodeToString(h.Sum(nil)), legacy
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
	return "", "hdr2:" + hex.EncodeToString(h.Sum(nil)), legacy
}

// normalizeLines turns CRLF and lone CR into LF and drops white space at
// the ends of lines (a pipe or a mailbox may lose or keep it).
func normalizeLines(raw []byte) []byte {
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
