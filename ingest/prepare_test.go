package ingest

import (
	"bytes"
	"context"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"liaisond/notify"
	"liaisond/store"
	"liaisond/templates"
)

// realComposer is notify's composer as serve wires it, over p's directory
// and keys.
func realComposer(t *testing.T, p *Processor) *notify.Composer {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Composer{
		Config: notify.Config{Domain: "liaison.example", From: mail.Address{Name: "LSM", Address: "statements@liaison.example"},
			PublicURL: "https://liaison.example/", TokenPrefix: "ls", CommandsLocal: "commands", StatementsLocal: "statements",
			ReplyMargin: 7 * 24 * time.Hour},
		Keys: p.Keys, Templates: tmpl, Directory: p.Directory, Now: p.Now,
	}
}

// composeOnly hides MailPreparer: every mail is composed inside the
// transaction, as before mails were prepared.
type composeOnly struct{ c *notify.Composer }

func (c composeOnly) Compose(ctx context.Context, tx *store.Tx, ev *store.Event) error {
	return c.c.Compose(ctx, tx, ev)
}

// countingPreparer counts the mails queued as prepared.
type countingPreparer struct {
	*notify.Composer
	queued int
}

func (c *countingPreparer) QueuePrepared(tx *store.Tx, ev *store.Event, mails []*store.OutboxMail) error {
	c.queued += len(mails)
	return c.Composer.QueuePrepared(tx, ev, mails)
}

// varying are the header lines that differ between two renderings of the
// same mail (and, with them, the DKIM signature if any).
var varying = regexp.MustCompile(`(?m)^(Message-Id|Date): .*\r\n`)

// outboxMails lists every outbox row with its raw content, the varying
// headers removed.
func outboxMails(t *testing.T, s *store.Store) []store.OutboxMail {
	t.Helper()
	var out []store.OutboxMail
	err := s.View(context.Background(), func(tx *store.Tx) error {
		list, err := tx.Outbox(store.OutboxFilter{})
		if err != nil {
			return err
		}
		for _, m := range list {
			full, err := tx.OutboxMail(m.ID)
			if err != nil {
				return err
			}
			full.Raw = varying.ReplaceAll(full.Raw, nil)
			full.MessageID, full.ID = "", 0
			out = append(out, *full)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPreparedMailsAsComposed: the notification and receipt rendered before
// the transaction (prepare.go) are the mails Compose renders inside it, for
// every kind of submission that is prepared (attachments, unknown
// addressees, a reused Message-ID, an automatic sender, an answer to an
// earlier statement), under the same LS numbers.
func TestPreparedMailsAsComposed(t *testing.T) {
	var mails []string
	for _, name := range []string{"auto-generated-statement.eml", "list-relay-statement.eml", "same-message-id-1.eml",
		"same-message-id-2.eml", "many-attachments.eml", "in-response-words.eml", "no-message-id.eml"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "realmail", name))
		if err != nil {
			t.Fatal(err)
		}
		mails = append(mails, strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n"))
	}
	mails = append(mails, submissionMail("<a1@itu.example>", "IETF CCAMP WG, MPLS WG, Nonexistent WG", "In-Response-To: LS-1\r\nTechnical-Contact: expert@vendor.example\r\n"))

	run := func(prepare bool) ([]store.OutboxMail, int) {
		now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		p, s, _, _ := newTestProcessor(t, Config{}, func() time.Time { return now })
		real := realComposer(t, p)
		counting := &countingPreparer{Composer: real}
		if prepare {
			p.Composer = counting
		} else {
			p.Composer = composeOnly{real}
		}
		for i, raw := range mails {
			res, err := p.Receive(context.Background(), Envelope{Source: "test", MailFrom: "rapp@itu.example",
				Rcpt: []string{"statements@liaison.example"}, Known: true}, []byte(raw))
			if err != nil || res.Statement == 0 {
				t.Fatalf("mail %d: %+v, %v", i, res, err)
			}
		}
		return outboxMails(t, s), counting.queued
	}
	composed, _ := run(false)
	prepared, queued := run(true)
	if queued == 0 || len(composed) == 0 {
		t.Fatalf("%d mails prepared, %d composed: the test compares nothing", queued, len(composed))
	}
	if len(prepared) != len(composed) {
		t.Fatalf("%d mails with preparing, %d without", len(prepared), len(composed))
	}
	for i := range composed {
		a, b := composed[i], prepared[i]
		a.CreatedAt, b.CreatedAt, a.NextAttempt, b.NextAttempt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !bytes.Equal(a.Raw, b.Raw) {
			t.Errorf("mail %d (%s to %s): prepared differs from composed:\n--- composed\n%s\n--- prepared\n%s", i, a.Kind, a.Rcpt, a.Raw, b.Raw)
		}
		a.Raw, b.Raw = nil, nil
		if !equalMail(a, b) {
			t.Errorf("mail %d: composed %+v, prepared %+v", i, a, b)
		}
	}
}

func equalMail(a, b store.OutboxMail) bool {
	return a.StatementID == b.StatementID && a.EventID == b.EventID && a.Kind == b.Kind && a.Rcpt == b.Rcpt &&
		strings.Join(a.To, ",") == strings.Join(b.To, ",") && strings.Join(a.Cc, ",") == strings.Join(b.Cc, ",") &&
		a.Subject == b.Subject && a.From == b.From && a.EnvelopeFrom == b.EnvelopeFrom && a.State == b.State
}

// submissionMail is a plain statement from ITU-T SG15 to the given bodies.
func submissionMail(msgID, to, extra string) string {
	return "From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: LS on OTN\r\nMessage-ID: " + msgID +
		"\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nFrom: ITU-T SG15\r\nTo: " + to +
		"\r\nTitle: LS on OTN\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\n" + extra + "\r\nDear colleagues.\r\n"
}

// TestReservedIDs: a statement whose id was reserved and not used gives it
// back (a second delivery, a rejection), so LS numbers keep no gap; an id
// taken meanwhile by another process (a pipe delivery on the same
// database) is not used, and the mails name the id the statement got.
func TestReservedIDs(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "db")
	p, s, _, _ := newTestProcessorAt(t, path, Config{}, func() time.Time { return now })
	p.Composer = realComposer(t, p)
	receive := func(raw string) Result {
		t.Helper()
		res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "rapp@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true}, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := submissionMail("<r1@itu.example>", "IETF CCAMP WG", "")
	if res := receive(first); res.Statement != 1 {
		t.Fatalf("first statement: %+v", res)
	}
	if res := receive(first); !res.Duplicate {
		t.Fatalf("second delivery: %+v", res)
	}
	if res := receive(submissionMail("<r2@itu.example>", "IETF CCAMP WG", "In-Response-To: LS-99\r\n")); res.Statement != 0 {
		t.Fatalf("answer to a missing statement: %+v", res)
	}
	if res := receive(submissionMail("<r3@itu.example>", "IETF CCAMP WG", "")); res.Statement != 2 {
		t.Fatalf("after a second delivery and a rejection, want LS-2: %+v", res)
	}

	// Another process inserts LS-3 behind this one's back.
	other, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Update(ctx, func(tx *store.Tx) error {
		return tx.InsertStatement(&store.Statement{Direction: store.Incoming, State: store.StateOpen, From: store.BodyRef{Name: "X"},
			Title: "by another process", Purpose: "information", Submitter: "x@x.example", Assignee: "x@x.example", ReceivedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	res := receive(submissionMail("<r4@itu.example>", "IETF CCAMP WG", ""))
	if res.Statement != 4 {
		t.Fatalf("with LS-3 taken by another process, want LS-4: %+v", res)
	}
	var subjects []string
	if err := s.View(ctx, func(tx *store.Tx) error {
		list, err := tx.Outbox(store.OutboxFilter{StatementID: 4})
		for _, m := range list {
			subjects = append(subjects, m.Subject)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(subjects) == 0 {
		t.Fatal("no mails for LS-4")
	}
	for _, sub := range subjects {
		if !strings.Contains(sub, "LS-4") {
			t.Errorf("a mail of LS-4 has the subject %q", sub)
		}
	}
	if res := receive(submissionMail("<r5@itu.example>", "IETF CCAMP WG", "")); res.Statement != 5 {
		t.Fatalf("next, want LS-5: %+v", res)
	}
}
