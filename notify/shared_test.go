package notify

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"liaisond/store"
	"liaisond/templates"
)

// sharedStatement is a statement whose notification goes to every kind of
// reader: the assignee, chairs and managers who may act, contacts who may
// not, and a list.
func sharedStatement(title, body string, contacts ...string) *store.Statement {
	st := &store.Statement{ID: 7, Direction: store.Incoming, State: store.StateOpen,
		From:  store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To:    []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}, {ID: "mpls", Name: "IETF MPLS Working Group"}},
		Title: title, Purpose: "action", Deadline: "2027-01-31", Submitter: "rapp@itu.example", Assignee: "alice@ccamp.example",
		ReceivedAt: t0, Body: body, ThreadID: "orig@itu.example",
		ResponseContacts: []store.Contact{{Addr: "rapp@itu.example"}},
		Attachments:      []store.Attachment{{Pos: 1, Name: "LS 123.pdf", ContentType: "application/pdf", Size: 4}}}
	for _, a := range contacts {
		st.TechnicalContacts = append(st.TechnicalContacts, store.Contact{Addr: a})
	}
	return st
}

// checkShared renders the notification's copies once per group and each
// copy whole, and requires the same bytes (with the same Message-ID).
func checkShared(t *testing.T, c *Composer, st *store.Statement, wantSpliced bool) {
	t.Helper()
	checkSharedTemplate(t, c, st, "notification.txt", nil, wantSpliced)
}

// checkSharedTemplate is checkShared for mail template tmpl, its data
// completed by mutate (nil: none).
func checkSharedTemplate(t *testing.T, c *Composer, st *store.Statement, tmpl string, mutate func(*mailData), wantSpliced bool) {
	t.Helper()
	to, cc := NotificationRecipients(c.Directory(), st, true)
	copies, err := c.collectCopies(nil, "notification", st, to, cc, false, mutate)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Templates.PrintsVerbatim(tmpl, sharedFields...) {
		t.Fatalf("%s is not rendered once for all copies", tmpl)
	}
	rows, spliced, err := c.renderShared(tmpl, st.ID, 0, append([]personalCopy(nil), copies...))
	if err != nil {
		// Only what cannot be rendered whole either (a header value with
		// a line break) may fail.
		for _, pc := range copies {
			m := pc.m
			if m.subject, m.body, err = c.Templates.Mail(tmpl, pc.data); err != nil {
				return
			}
			if _, _, err := c.renderMIME(m, "x@y", t0); err != nil {
				return
			}
		}
		t.Fatalf("the copies render whole, but not from shared pieces: %v", err)
	}
	byRcpt := map[string]*store.OutboxMail{}
	for _, r := range rows {
		byRcpt[r.Rcpt] = r
	}
	for _, pc := range copies {
		row := byRcpt[pc.m.rcpt]
		if c.isOwn(pc.m.rcpt) {
			if row != nil {
				t.Errorf("a copy to ourselves (%s)", pc.m.rcpt)
			}
			continue
		}
		if row == nil {
			t.Fatalf("no copy for %s", pc.m.rcpt)
		}
		m := pc.m
		if m.subject, m.body, err = c.Templates.Mail(tmpl, pc.data); err != nil {
			t.Fatal(err)
		}
		want, _, err := c.renderMIME(m, row.MessageID, t0)
		if err != nil {
			t.Fatal(err)
		}
		if got := row.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("copy to %s differs from the copy rendered whole:\n--- got\n%s\n--- want\n%s", pc.m.rcpt, got, want)
		}
		if row.Shared != nil && row.Raw != nil {
			t.Errorf("copy to %s: kept both whole and in shared parts", pc.m.rcpt)
		}
		if row.Subject != m.subject || row.Rcpt != pc.m.rcpt || strings.Join(row.To, ",") != strings.Join(bareAddrs(pc.m.to), ",") {
			t.Errorf("row of %s: subject %q rcpt %s to %v", pc.m.rcpt, row.Subject, row.Rcpt, row.To)
		}
	}
	if wantSpliced && (len(rows) < 5 || spliced != len(rows)) {
		t.Errorf("%d of %d copies made from the shared pieces, want all", spliced, len(rows))
	}
	// The copies for every kind of reader differ in the slots alone
	// (templates.SlotCalls): one set of shared parts for all of them.
	if shared := map[*store.SharedParts]bool{}; wantSpliced {
		for _, r := range rows {
			shared[r.Shared] = true
		}
		if len(shared) != 1 {
			t.Errorf("the copies share %d sets of parts, want 1", len(shared))
		}
	}
}

func TestRenderSharedAsWhole(t *testing.T) {
	tests := []struct {
		name, title, body string
		contacts          []string
		spliced           bool
	}{
		{"ascii", "OTN control", strings.Repeat("Dear colleagues, text.\n", 40), []string{"expert@vendor.example"}, true},
		{"non-ascii title and body: quoted-printable", "OTN — contrôle", "Chère collègue", []string{"expert@vendor.example"}, false},
		{"non-ascii contact address", "OTN", "text", []string{"jöhn@vendor.example", "expert@vendor.example"}, false},
		{"a line of 990 octets", "OTN", strings.Repeat("x", 990) + "\n", []string{"expert@vendor.example"}, true},
		{"a line of 998 octets", "OTN", strings.Repeat("x", 998) + "\nnext", []string{"expert@vendor.example"}, true},
		{"a line of 999 octets", "OTN", strings.Repeat("x", 999) + "\nnext", []string{"expert@vendor.example"}, false},
		{"CRLF and bare CR", "OTN", "a\r\nb\rc\n", []string{"expert@vendor.example"}, false},
		{"a line too long for 7bit", "OTN", strings.Repeat("x", 1000) + "\n", []string{"expert@vendor.example"}, false},
		{"a value makes a line too long", "OTN", "text", []string{strings.Repeat("x", 980) + "@vendor.example", "expert@vendor.example"}, false},
		{"address that needs quoting", "OTN", "text", []string{`"odd local"@vendor.example`, "expert@vendor.example"}, false},
		{"text that looks like a mark", "LSMARK", "LSMARK00 LSMARKr", []string{"expert@vendor.example"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newComposer(t)
			checkShared(t, c, sharedStatement(tt.title, tt.body, tt.contacts...), tt.spliced)
		})
	}
}

// TestRenderSharedRedirected: the mail of a redirect, whose assignment line
// is a slot too, renders from one set of parts as each copy would whole.
func TestRenderSharedRedirected(t *testing.T) {
	c := newComposer(t)
	st := sharedStatement("OTN control", "text\n", "expert@vendor.example")
	checkSharedTemplate(t, c, st, "redirected.txt", func(d *mailData) {
		d.Actor, d.Old, d.ToNames = "dan@lm.example", "IETF MPLS Working Group", "IETF CCAMP Working Group"
	}, true)
}

func FuzzRenderShared(f *testing.F) {
	f.Add("OTN control", "Dear colleagues\n", "expert@vendor.example", "ITU-T SG15")
	f.Add("OTN — contrôle", strings.Repeat("y", 997), "a.b+c@x.example", "Groupe")
	f.Add("t", "b", "x y@z", "n")
	f.Add("0", "0", "@\r0", "0") // a line break in a header value: no copy renders
	c := newComposer(f)
	f.Fuzz(func(t *testing.T, title, body, contact, fromName string) {
		st := sharedStatement(title, body, contact, "expert@vendor.example")
		st.From.Name = fromName
		checkShared(t, c, st, false)
	})
}

// BenchmarkRenderCopies renders a notification's copies: once per group
// and spliced, against each copy whole.
func BenchmarkRenderCopies(b *testing.B) {
	c := newComposer(b)
	st := sharedStatement("OTN control", strings.Repeat("Dear colleagues, this paragraph stands for the text.\n", 40), "expert@vendor.example")
	to, cc := NotificationRecipients(c.Directory(), st, true)
	for _, shared := range []bool{true, false} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			for b.Loop() {
				copies, err := c.collectCopies(nil, "notification", st, to, cc, false, nil)
				if err != nil {
					b.Fatal(err)
				}
				if shared {
					_, _, err = c.renderShared("notification.txt", st.ID, 0, copies)
				} else {
					for i := range copies {
						pc := &copies[i]
						if pc.m.subject, pc.m.body, err = c.Templates.Mail("notification.txt", pc.data); err == nil {
							_, err = c.render(st.ID, 0, pc.m)
						}
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestPartLinesTooLong(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		before, value, next string
		want                bool
	}{
		{"a\r\n" + x(10), "v", "rest\r\nnext", false},
		{"a\r\n" + x(990), x(8), "\r\n", false},
		{"a\r\n" + x(990), x(9), "\r\n", true},
		{x(990), x(4), "abcd\r\n", false},
		{x(990), x(4), "abcde\r\n", true},
		{"a\r\n", x(500), x(499), true},  // the line goes on: too long already
		{"a\r\n", x(500), x(498), false}, // the next value's check measures it whole
		{"a\r\n" + x(998), "", "\r\n", false},
		{"", x(998), "", false}, // a last line without CRLF
		{"", x(999), "", true},
		// A value with line ends (a slot's text): the line it ends, the
		// lines inside it, and the one it begins with the next part.
		{x(990), x(8) + "\r\nshort\r\n" + x(4), "tail\r\n", false},
		{x(990), x(9) + "\r\nshort\r\n", "\r\n", true},
		{"a\r\n", "b\r\n" + x(998) + "\r\nc", "\r\n", false},
		{"a\r\n", "b\r\n" + x(999) + "\r\nc", "\r\n", true},
		{"a\r\n", "b\r\n" + x(990), x(8) + "\r\n", false},
		{"a\r\n", "b\r\n" + x(990), x(9) + "\r\n", true},
	}
	for _, tt := range tests {
		lines := newPartLines([][]byte{[]byte(tt.before), []byte(tt.next)})
		if got := lines.tooLong([][]byte{[]byte(tt.value)}); got != tt.want {
			t.Errorf("tooLong(%d+%d, next %q...) = %v, want %v", len(tt.before), len(tt.value), tt.next[:min(len(tt.next), 8)], got, tt.want)
		}
	}
}

// Two values on one line: the line is measured with both.
func TestPartLinesTwoValues(t *testing.T) {
	x := func(n int) []byte { return bytes.Repeat([]byte("x"), n) }
	lines := newPartLines([][]byte{[]byte("h\r\nAt "), []byte(" or "), []byte(".\r\nnext\r\n")})
	if lines.tooLong([][]byte{x(495), x(495)}) { // 3+495+4+495+1 = 998
		t.Error("a line of 998 octets called too long")
	}
	if !lines.tooLong([][]byte{x(495), x(496)}) {
		t.Error("a line of 999 octets not called too long")
	}
}

// TestSlotTemplatesUnchanged: notification.txt and redirected.txt, whose
// reader-dependent lines moved into named templates (the slots), render
// what they rendered before (testdata/before-slots), for every kind of
// reader, with and without the lines for the secretariat.
func TestSlotTemplatesUnchanged(t *testing.T) {
	before, err := templates.Load("testdata/before-slots")
	if err != nil {
		t.Fatal(err)
	}
	c := newComposer(t)
	st := sharedStatement("OTN control", "Dear colleagues,\ntext.\n", "expert@vendor.example")
	to, cc := NotificationRecipients(c.Directory(), st, true)
	for _, attention := range [][]string{nil, {"unknown addressee: IETF Foo WG"}} {
		copies, err := c.collectCopies(nil, "notification", st, to, cc, false, func(d *mailData) { d.Attention = attention })
		if err != nil {
			t.Fatal(err)
		}
		for _, pc := range copies {
			for _, name := range []string{"notification.txt", "redirected.txt"} {
				s1, b1, err1 := before.Mail(name, pc.data)
				s2, b2, err2 := c.Templates.Mail(name, pc.data)
				if err1 != nil || err2 != nil || s1 != s2 || b1 != b2 {
					t.Errorf("%s for %s (%s): changed:\n--- before (%v)\n%s\n%s\n--- now (%v)\n%s\n%s", name, pc.m.rcpt, pc.data.Role, err1, s1, b1, err2, s2, b2)
				}
			}
		}
	}
}
