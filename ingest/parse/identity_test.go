package parse

import (
	"strings"
	"testing"
)

// TestIdentity: a re-delivery by another path is the same message (DESIGN
// 5.1); other content is not.
func TestIdentity(t *testing.T) {
	const withID = "From: a@itu.example\r\nTo: statements@liaison.example\r\nSubject: LS\r\nMessage-ID: <x1@itu.example>\r\n\r\nFrom: ITU-T SG15\r\nTo: CCAMP\r\n\r\nText. \r\n"
	const noID = "From: a@itu.example\r\nTo: statements@liaison.example\r\nSubject: LS\r\nDate: Mon, 30 Nov 2026 11:00:00 +0000\r\n\r\nText.\r\n"
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	trace := "Return-Path: <a@itu.example>\r\nDelivered-To: statements@liaison.example\r\nX-Original-To: statements@liaison.example\r\n" +
		"Received: from mx by local; Mon, 30 Nov 2026 11:00:05 +0000\r\nAuthentication-Results: mx.liaison.example; dkim=pass\r\n"
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"LF instead of CRLF", withID, lf(withID), true},
		{"trace fields added", withID, trace + withID, true},
		{"pipe: LF, trace fields and an mbox From line", withID, "From a@itu.example Mon Nov 30 11:00:05 2026\n" + lf(trace+withID), true},
		{"no Message-ID, a Received line added", noID, "Received: from relay by mx; Mon, 30 Nov 2026 11:00:01 +0000\r\n" + noID, true},
		{"no Message-ID, LF", noID, lf(noID), true},
		{"trailing white space and newlines", withID, strings.Replace(withID, "Text. \r\n", "Text.\r\n\r\n", 1), true},
		{"same Message-ID, other body", withID, strings.Replace(withID, "Text.", "Other text.", 1), false},
		{"no Message-ID, other subject", noID, strings.Replace(noID, "Subject: LS", "Subject: LS 2", 1), false},
		{"no Message-ID, other body", noID, strings.Replace(noID, "Text.", "Other.", 1), false},
	}
	for _, tc := range tests {
		_, a, _ := Identity([]byte(tc.a), "a")
		_, b, _ := Identity([]byte(tc.b), "b")
		if (a == b) != tc.same {
			t.Errorf("%s: identities %s and %s, want same=%v", tc.name, a, b, tc.same)
		}
	}
	// The identity an earlier version stored stays known for the same bytes.
	mid, _, legacy := Identity([]byte(withID), "sum")
	if mid != "x1@itu.example" || !strings.HasPrefix(legacy, "mid:") {
		t.Errorf("message id %q, legacy %q", mid, legacy)
	}
}

// FuzzIdentity: line endings and added trace fields never change a
// message's identity (DESIGN 5.1), whatever the message.
func FuzzIdentity(f *testing.F) {
	f.Add("From: a@b.example\nMessage-ID: <x@y>\n\nbody\n")
	f.Add("From: a@b.example\nSubject: s\n\nbody \n\n")
	f.Add("not a mail")
	f.Add("From x Mon Nov 30 2026\nFrom: a@b\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		lf := strings.ReplaceAll(text, "\r", "")
		crlfText := strings.ReplaceAll(lf, "\n", "\r\n")
		_, a, _ := Identity([]byte(lf), "lf")
		_, b, _ := Identity([]byte(crlfText), "crlf")
		if strings.HasPrefix(a, "raw:") || strings.HasPrefix(b, "raw:") {
			return // not a mail: its raw bytes are its identity
		}
		if a != b {
			t.Errorf("CRLF changes the identity of %q", lf)
		}
		_, c, _ := Identity([]byte("Received: from relay by mx; Mon, 30 Nov 2026 11:00:01 +0000\n"+lf), "received")
		if !strings.HasPrefix(lf, "From ") && c != a {
			t.Errorf("a Received line changes the identity of %q", lf)
		}
	})
}
