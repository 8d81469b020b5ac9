package parse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"liaisond/internal/benchmail"
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
		_, a := Identity([]byte(tc.a), "a")
		_, b := Identity([]byte(tc.b), "b")
		if (a == b) != tc.same {
			t.Errorf("%s: identities %s and %s, want same=%v", tc.name, a, b, tc.same)
		}
	}
	// The identity an earlier version stored stays known for the same bytes.
	mid, _ := Identity([]byte(withID), "sum")
	legacy := LegacyIdentity([]byte(withID), "sum")
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
		_, a := Identity([]byte(lf), "lf")
		_, b := Identity([]byte(crlfText), "crlf")
		if strings.HasPrefix(a, "raw:") || strings.HasPrefix(b, "raw:") {
			return // not a mail: its raw bytes are its identity
		}
		if a != b {
			t.Errorf("CRLF changes the identity of %q", lf)
		}
		_, c := Identity([]byte("Received: from relay by mx; Mon, 30 Nov 2026 11:00:01 +0000\n"+lf), "received")
		if !strings.HasPrefix(lf, "From ") && c != a {
			t.Errorf("a Received line changes the identity of %q", lf)
		}
	})
}

// normalizedLinesByByte is normalizedLines as first written, a byte at a
// time: the reference for FuzzNormalizedLines.
func normalizedLinesByByte(raw []byte, fn func(line []byte, nl bool)) {
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\r':
			fn(bytes.TrimRight(raw[start:i], " \t"), true)
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			start = i + 1
		case '\n':
			fn(bytes.TrimRight(raw[start:i], " \t"), true)
			start = i + 1
		}
	}
	if start < len(raw) {
		fn(raw[start:], false)
	}
}

func FuzzNormalizedLines(f *testing.F) {
	for _, s := range []string{"", "a", "a\r\nb\n", "a\rb\r\r\n\n", "x \t\r\n y\t", "\r", "\n", "\r\n", "a\n\r", "a \r \n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		collect := func(split func([]byte, func([]byte, bool))) string {
			var b strings.Builder
			split(raw, func(line []byte, nl bool) { fmt.Fprintf(&b, "%q %v\n", line, nl) })
			return b.String()
		}
		if got, want := collect(normalizedLines), collect(normalizedLinesByByte); got != want {
			t.Errorf("normalizedLines(%q):\n%s\nwant\n%s", raw, got, want)
		}
	})
}

func BenchmarkIdentity(b *testing.B) {
	raw := benchmail.Submission(1, "bench-1@itu.example", benchmail.PDF(1, 36*1024))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		Identity(raw, "x")
	}
}

func BenchmarkNormalizedLines(b *testing.B) {
	raw := benchmail.Submission(1, "bench-1@itu.example", benchmail.PDF(1, 36*1024))
	b.SetBytes(int64(len(raw)))
	for _, impl := range []struct {
		name  string
		split func([]byte, func([]byte, bool))
	}{{"indexbyte", normalizedLines}, {"bytewise", normalizedLinesByByte}} {
		b.Run(impl.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				impl.split(raw, func(line []byte, nl bool) { n += len(line) })
			}
		})
	}
}
