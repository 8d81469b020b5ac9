package ingest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/store"
	"liaisond/token"
)

// TestDecide: what a message means is decided from its bytes, envelope,
// directory and clock alone (DESIGN 10); no store is given here.
func TestDecide(t *testing.T) {
	p, dir, now := decideSetup(t)
	const fields = "From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: Optical things\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\nTechnical-Contact: expert@vendor.example\r\n\r\nDear all"
	mail := func(extra, body string) []byte {
		return []byte("From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: An LS\r\nMessage-ID: <a@itu.example>\r\n" + extra + "\r\n" + body + "\r\n")
	}
	to := func(rcpt string) Envelope {
		return Envelope{Source: "smtp", MailFrom: "rapp@itu.example", Rcpt: []string{rcpt}, Known: true}
	}
	tests := []struct {
		name      string
		env       Envelope
		raw       []byte
		class     string
		state     string // the final state of messages with nothing to apply
		target    string
		problems  bool   // a submission with problems to answer
		assignee  string // a submission's statement
		direction string
	}{
		{name: "not a mail", env: to("statements@liaison.example"), raw: []byte("\x00\x01 garbage"), class: ClassUnknown, state: store.MessageFailed},
		{name: "own loop", env: to("statements@liaison.example"), raw: mail(parse.LoopHeader+": liaison.example\r\n", fields), class: ClassLoop, state: store.MessageIgnored},
		{name: "bounce", env: to("statements@liaison.example"),
			raw:   mail("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", "--b\r\n\r\nx\r\n--b--"),
			class: ClassBounce},
		{name: "automatic to commands", env: to("commands@liaison.example"), raw: mail("Auto-Submitted: auto-replied\r\n", "close"),
			class: ClassAuto, state: store.MessageIgnored},
		{name: "command mail", env: to("commands@liaison.example"), raw: mail("", "close LS-1"), class: ClassCommand, target: "commands"},
		{name: "personal address", env: to("ls+7.abc@liaison.example"), raw: mail("", "close"), class: ClassCommand, target: "token"},
		{name: "not ours", env: to("someone@else.example"), raw: mail("", fields), class: ClassUnknown, state: store.MessageIgnored},
		{name: "submission", env: to("statements@liaison.example"), raw: mail("", fields), class: ClassSubmission, target: "statements",
			assignee: "alice@ccamp.example", direction: store.Incoming},
		{name: "submission without fields", env: to("statements@liaison.example"), raw: mail("", "hello"), class: ClassSubmission,
			target: "statements", problems: true},
		{name: "pipe without envelope", env: Envelope{Source: "pipe"}, raw: mail("", fields), class: ClassSubmission, target: "statements",
			assignee: "alice@ccamp.example", direction: store.Incoming},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.env, tc.raw, dir, now)
			if d.Class != tc.class || d.State != tc.state {
				t.Fatalf("class, state = %q, %q (%s); want %q, %q", d.Class, d.State, d.Why, tc.class, tc.state)
			}
			if tc.target != "" && d.Target.kind != tc.target {
				t.Errorf("target = %+v, want %s", d.Target, tc.target)
			}
			if tc.class != ClassSubmission {
				if d.Submission != nil {
					t.Errorf("a %s has a submission decision", tc.class)
				}
				return
			}
			sd := d.Submission
			if got := len(sd.Problems) > 0; got != tc.problems {
				t.Fatalf("problems = %v, want some: %v", sd.Problems, tc.problems)
			}
			if tc.problems {
				return
			}
			st := sd.Statement
			if st.Assignee != tc.assignee || st.Direction != tc.direction || st.Title != "Optical things" ||
				st.From.ID != "itu-t-sg15" || len(st.To) != 1 || st.To[0].ID != "ccamp" || !st.ReceivedAt.Equal(now) {
				t.Errorf("statement = %+v", st)
			}
			if sd.Sender != "rapp@itu.example" {
				t.Errorf("sender = %q", sd.Sender)
			}
		})
	}
}

// TestCommandStoreErrorAborts: a store error while checking who may act is
// never turned into a refusal sent back to the sender (it used to be, and
// the refusal was committed); the message is kept as failed instead.
func TestCommandStoreErrorAborts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir, err := directory.Parse(directory.Demo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	comp := &nopComposer{}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := &Processor{Config: Config{Domain: "liaison.example", StatementsLocal: "statements", CommandsLocal: "commands", TokenPrefix: "ls", AuthservID: "mx.liaison.example"},
		Store: s, Directory: func() *directory.Directory { return dir }, Composer: comp, Keys: token.NewKeys(1, []byte("0123456789abcdef0123456789abcdef")),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
	res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "rapp@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true},
		[]byte("From: rapp@itu.example\r\nTo: statements@liaison.example\r\nSubject: LS\r\nMessage-ID: <s@itu.example>\r\n\r\n"+
			"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: t\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\nTechnical-Contact: expert@vendor.example\r\n\r\nbody\r\n"))
	if err != nil || res.Statement == 0 {
		t.Fatalf("submission: %+v, %v", res, err)
	}

	// Break the column only the permission check reads (whether the
	// sender was mailed about the statement), as a damaged database would;
	// the reply-rate check, which answers a refusal, still works.
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE outbox RENAME COLUMN statement_id TO statement_gone"); err != nil {
		t.Fatal(err)
	}
	comp.events = nil
	// Authenticated at commands@ (a trusted DKIM pass) but holding no role:
	// the check asks the store whether our mail went to this address.
	res, err = p.Receive(ctx, Envelope{Source: "test", MailFrom: "x@evil.example", Rcpt: []string{"commands@liaison.example"}, Known: true},
		[]byte("From: x@evil.example\r\nTo: commands@liaison.example\r\nSubject: Re: LS-1\r\nMessage-ID: <c@evil.example>\r\n"+
			"Authentication-Results: mx.liaison.example; dkim=pass header.d=evil.example\r\n\r\nLS-1 close\r\n"))
	if err != nil {
		t.Fatalf("Receive: %v (the message must be kept as failed)", err)
	}
	if res.State != store.MessageFailed {
		t.Errorf("state = %q (problems %v), want failed", res.State, res.Problems)
	}
	for _, ev := range comp.events {
		t.Errorf("event %s composed into a mail", ev)
	}
	var refused int
	if err := db.QueryRow("SELECT count(*) FROM events WHERE type = ?", store.EventCommandRefused).Scan(&refused); err != nil {
		t.Fatal(err)
	}
	if refused != 0 {
		t.Errorf("%d refusals stored; a store error must abort", refused)
	}
	var why string
	if err := db.QueryRow("SELECT error FROM messages WHERE id = ?", res.MessageID).Scan(&why); err != nil || !strings.Contains(why, "statement_id") {
		t.Errorf("kept message's error = %q, %v; want the store error", why, err)
	}
}

// decideSetup is what Decide needs besides a message: a processor with no
// store, the demo directory and a fixed clock.
func decideSetup(t testing.TB) (*Processor, *directory.Directory, time.Time) {
	t.Helper()
	dir, err := directory.Parse(directory.Demo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	p := &Processor{Config: Config{Domain: "liaison.example", StatementsLocal: "statements", CommandsLocal: "commands", TokenPrefix: "ls"}}
	return p, dir, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
}
