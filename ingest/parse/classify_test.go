package parse

import (
	"bufio"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

// header parses a header block written with "\n" line ends.
func header(t testing.TB, s string) mail.Header {
	t.Helper()
	r := textproto.NewReader(bufio.NewReader(strings.NewReader(strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\r\n") + "\r\n\r\n")))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("header %q: %v", s, err)
	}
	return mail.Header(h)
}

func TestAutoReasonFixtures(t *testing.T) {
	tests := []struct {
		file   string
		reason string
		bounce bool
		loop   bool
	}{
		{"plain-ascii", "", false, false},
		{"html-only", "", false, false},
		{"several-attachments", "", false, false},
		{"auto-replied", "Auto-Submitted: auto-replied", false, false},
		{"out-of-office-x-autoreply", "X-Autoreply header", false, false},
		{"precedence-bulk", "Precedence: bulk", false, false},
		{"dsn-delivery-status", "Auto-Submitted: auto-replied", true, false},
		{"mdn-disposition-notification", "Content-Type: multipart/report", false, false},
		{"own-loop", "", false, true},
	}
	for _, tc := range tests {
		m := parseMailFixture(t, tc.file)
		if got := AutoReason(m.Header, "", false); got != tc.reason {
			t.Errorf("%s: AutoReason %q, want %q", tc.file, got, tc.reason)
		}
		if got := IsBounce(m.Header); got != tc.bounce {
			t.Errorf("%s: IsBounce %v, want %v", tc.file, got, tc.bounce)
		}
		if got := IsOwnLoop(m.Header, "liaison.example.org"); got != tc.loop {
			t.Errorf("%s: IsOwnLoop %v, want %v", tc.file, got, tc.loop)
		}
	}

	// The DSN without its Auto-Submitted is still automatic, for three reasons.
	m := parseMailFixture(t, "dsn-delivery-status")
	delete(m.Header, "Auto-Submitted")
	if got := AutoReason(m.Header, "", false); got != "Content-Type: multipart/report" {
		t.Errorf("DSN without Auto-Submitted: %q", got)
	}
	delete(m.Header, "Content-Type")
	if got := AutoReason(m.Header, "", false); got != "null Return-Path" {
		t.Errorf("DSN without Content-Type: %q", got)
	}
	delete(m.Header, "Return-Path")
	if got := AutoReason(m.Header, "", false); got != "From: MAILER-DAEMON" {
		t.Errorf("DSN without Return-Path: %q", got)
	}
}

func TestAutoReason(t *testing.T) {
	const from = "From: Jane <jane@example.org>\n"
	tests := []struct {
		name          string
		header        string
		envelopeFrom  string
		envelopeKnown bool
		want          string
	}{
		{"person", from + "Subject: LS", "jane@example.org", true, ""},
		{"auto-submitted no", from + "Auto-Submitted: no", "", false, ""},
		{"auto-submitted No with comment", from + "Auto-Submitted: No (a person)", "", false, ""},
		{"auto-generated", from + "Auto-Submitted: auto-generated", "", false, "Auto-Submitted: auto-generated"},
		{"auto-replied upper case with params", from + "Auto-Submitted: Auto-Replied; owner-email=x@example.org", "", false, "Auto-Submitted: auto-replied"},
		{"auto-notified comment", from + "Auto-Submitted: (sieve) auto-notified", "", false, "Auto-Submitted: auto-notified"},
		{"auto-submitted empty", from + "Auto-Submitted:", "", false, "Auto-Submitted header"},
		{"x-autoreply", from + "X-Autoreply: yes", "", false, "X-Autoreply header"},
		{"x-autorespond", from + "X-Autorespond: on", "", false, "X-Autorespond header"},
		{"x-autoreply empty", from + "X-Autoreply:", "", false, ""},
		{"x-auto-response-suppress alone", from + "X-Auto-Response-Suppress: All", "", false, ""},
		{"precedence bulk", from + "Precedence: BULK", "", false, "Precedence: bulk"},
		{"precedence junk", from + "Precedence: junk", "", false, "Precedence: junk"},
		{"precedence list", from + "Precedence: list", "", false, "Precedence: list"},
		{"precedence first-class", from + "Precedence: first-class", "", false, ""},
		{"mailing list", from + "List-Id: <ccamp.ietf.org>\nList-Unsubscribe: <mailto:x@ietf.org>", "", false, ""},
		{"report", from + "Content-Type: multipart/report; report-type=delivery-status; boundary=x", "", false, "Content-Type: multipart/report"},
		{"report unparseable", from + "Content-Type: Multipart/Report; ;;=\"", "", false, "Content-Type: multipart/report"},
		{"mixed", from + "Content-Type: multipart/mixed; boundary=x", "", false, ""},
		{"null return-path", from + "Return-Path: <>", "", false, "null Return-Path"},
		{"null return-path spaced", from + "Return-Path: < >", "", false, "null Return-Path"},
		{"return-path", from + "Return-Path: <jane@example.org>", "", false, ""},
		{"null envelope", from, "<>", true, "null envelope sender"},
		{"empty envelope", from, "", true, "null envelope sender"},
		{"empty envelope unknown", from, "", false, ""},
		{"mailer-daemon", "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)", "", false, "From: MAILER-DAEMON"},
		{"mailer-daemon lower", "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "", false, "From: MAILER-DAEMON"},
		{"mailer-daemon bare", "From: MAILER-DAEMON", "", false, "From: MAILER-DAEMON"},
		{"postmaster", "From: Postmaster@example.org", "", false, "From: postmaster"},
		{"sender postmaster", from + "Sender: postmaster@example.org", "", false, "Sender: postmaster"},
		{"postmaster in name only", "From: \"postmaster\" <jane@example.org>", "", false, ""},
		{"mailer-daemon unparseable", "From: Mail Delivery System <MAILER-DAEMON@mx.example.org", "", false, "From: MAILER-DAEMON"},
		{"daemon-like person", "From: daemon.mailer@example.org", "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := header(t, tc.header)
			if got := AutoReason(h, tc.envelopeFrom, tc.envelopeKnown); got != tc.want {
				t.Errorf("AutoReason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsBounce(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Content-Type: multipart/report; report-type=delivery-status; boundary=x", true},
		{"Content-Type: multipart/report; report-type=\"Delivery-Status\";\n\tboundary=\"x\"", true},
		{"Content-Type: MULTIPART/REPORT; boundary=x; report-type=delivery-status", true},
		{"Content-Type: multipart/report; report-type=disposition-notification; boundary=x", false},
		{"Content-Type: multipart/report; boundary=x", false},
		{"Content-Type: multipart/mixed; report-type=delivery-status; boundary=x", false},
		{"Content-Type: text/plain", false},
		{"Subject: Undelivered Mail Returned to Sender", false},
	}
	for _, tc := range tests {
		if got := IsBounce(header(t, tc.header)); got != tc.want {
			t.Errorf("IsBounce(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestIsOwnLoop(t *testing.T) {
	tests := []struct {
		header, domain string
		want           bool
	}{
		{LoopHeader + ": liaison.example.org", "liaison.example.org", true},
		{LoopHeader + ":  LIAISON.example.ORG ", "liaison.example.org", true},
		{LoopHeader + ": liaison.example.org", " Liaison.Example.Org ", true},
		{LoopHeader + ": other.example.org\n" + LoopHeader + ": liaison.example.org", "liaison.example.org", true},
		{LoopHeader + ": other.example.org", "liaison.example.org", false},
		{LoopHeader + ": sub.liaison.example.org", "liaison.example.org", false},
		{"x-liaisond-loop: liaison.example.org", "liaison.example.org", true},
		{"Subject: liaison.example.org", "liaison.example.org", false},
		{LoopHeader + ":", "", false},
	}
	for _, tc := range tests {
		if got := IsOwnLoop(header(t, tc.header), tc.domain); got != tc.want {
			t.Errorf("IsOwnLoop(%q, %q) = %v, want %v", tc.header, tc.domain, got, tc.want)
		}
	}
}
