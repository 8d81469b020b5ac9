package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/directory"
	"liaisond/store"
	"liaisond/token"
)

// newTestProcessor is a Processor over a fresh store and the demo directory.
func newTestProcessor(t *testing.T, cfg Config, now func() time.Time) (*Processor, *store.Store, *token.Keys, *nopComposer) {
	t.Helper()
	return newTestProcessorAt(t, filepath.Join(t.TempDir(), "db"), cfg, now)
}

// newTestProcessorAt is newTestProcessor over the database at path.
func newTestProcessorAt(t *testing.T, path string, cfg Config, now func() time.Time) (*Processor, *store.Store, *token.Keys, *nopComposer) {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetClock(now)
	dir, err := directory.Parse(directory.Demo, "demo")
	if err != nil {
		t.Fatal(err)
	}
	keys := token.NewKeys(1, []byte("0123456789abcdef0123456789abcdef"))
	comp := &nopComposer{}
	cfg.Domain, cfg.StatementsLocal, cfg.CommandsLocal, cfg.TokenPrefix = "liaison.example", "statements", "commands", "ls"
	p := &Processor{Config: cfg, Store: s, Directory: func() *directory.Directory { return dir }, Composer: comp, Keys: keys,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now}
	return p, s, keys, comp
}

// nopComposer records the events that would cause mail.
type nopComposer struct{ events []string }

func (c *nopComposer) Compose(_ context.Context, _ *store.Tx, ev *store.Event) error {
	c.events = append(c.events, ev.Type)
	return nil
}

// TestCommandPermissions checks DESIGN 6's table of who may do what, with
// senders authenticated by their own personal reply address.
func TestCommandPermissions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p, s, keys, _ := newTestProcessor(t, Config{}, func() time.Time { return now })
	n := 0
	receive := func(from, to, body string) Result {
		t.Helper()
		n++
		raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: test\r\nMessage-ID: <m%d@test>\r\n\r\n%s\r\n", from, to, n, body)
		res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: from, Rcpt: []string{to}, Known: true}, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	submit := func() int64 {
		res := receive("sender@itu.example", "statements@liaison.example",
			"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: t\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\nTechnical-Contact: expert@vendor.example\r\n\r\nbody")
		if res.Statement == 0 {
			t.Fatalf("submission not accepted: %+v", res)
		}
		return res.Statement
	}
	tests := []struct {
		who, command string
		allowed      bool
	}{
		{"alice@ccamp.example", "close", true},             // assignee
		{"bob@ccamp.example", "close", true},               // the other chair
		{"carol@ietf.example", "status reviewing", true},   // supervisor (Routing AD)
		{"dan@lm.example", "redirect mpls", true},          // liaison manager
		{"statements@ietf.example", "redirect mpls", true}, // secretariat
		{"alice@ccamp.example", "redirect mpls", false},    // a chair may not redirect
		{"expert@vendor.example", "note looks good", true}, // a recipient may note
		{"expert@vendor.example", "close", false},          // but not close
		{"mike@mpls.example", "close", false},              // chair of another WG
		{"mike@mpls.example", "note hi", true},             // token-authenticated: any recipient
		{"alice@ccamp.example", "approve", false},          // nothing pending
		{"alice@ccamp.example", "deadline 30/02/2027", false},
		{"alice@ccamp.example", "reassign nobody", false},
		{"alice@ccamp.example", "reassign mpls", true},
		{"dan@lm.example", "link LS-1", true},          // liaison manager
		{"statements@ietf.example", "link LS-1", true}, // secretariat
		{"alice@ccamp.example", "link LS-1", false},    // a chair may not link
		{"dan@lm.example", "link COM15-LS123", false},  // not a reference
		{"dan@lm.example", "link LS-999", false},       // no such statement
	}
	for _, tc := range tests {
		id := submit()
		addr := keys.Address("ls", "liaison.example", id, tc.who)
		res := receive(tc.who, addr, tc.command)
		st, err := viewStatement(s, id)
		if err != nil {
			t.Fatal(err)
		}
		last := st.Events[len(st.Events)-1]
		refused := last.Type == store.EventCommandRefused
		if refused == tc.allowed {
			t.Errorf("%s %q: allowed=%v, want %v (last event %s: %s; result %+v)", tc.who, tc.command, !refused, tc.allowed, last.Type, last.Text, res)
		}
	}
}

func viewStatement(s *store.Store, id int64) (*store.Statement, error) {
	var st *store.Statement
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		st, err = tx.Statement(id)
		return err
	})
	return st, err
}

// TestOutgoingRejected: with a trusted DKIM pass the confirmation round trip
// is skipped; the AD's "reject" ends the statement unsent.
func TestOutgoingRejected(t *testing.T) {
	ctx := context.Background()
	p, s, keys, comp := newTestProcessor(t, Config{AuthservID: "mx.liaison.example"}, time.Now)
	raw := "Authentication-Results: mx.liaison.example; dkim=pass header.d=ccamp.example\r\nFrom: alice@ccamp.example\r\nTo: statements@liaison.example\r\n" +
		"Subject: x\r\nMessage-ID: <o1@ccamp.example>\r\n\r\nFrom: CCAMP\r\nTo: ITU-T SG15\r\nTitle: t\r\nPurpose: For Information\r\n\r\nbody\r\n"
	res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "alice@ccamp.example", Rcpt: []string{"statements@liaison.example"}, Known: true}, []byte(raw))
	if err != nil || res.Statement == 0 {
		t.Fatalf("outgoing statement not taken: %v %+v", err, res)
	}
	addr := keys.Address("ls", "liaison.example", res.Statement, "rick@ietf.example")
	cmd := "From: rick@ietf.example\r\nTo: " + addr + "\r\nSubject: Re\r\nMessage-ID: <r1@ietf.example>\r\n\r\nreject the WG has not agreed yet\r\n"
	if _, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "rick@ietf.example", Rcpt: []string{addr}, Known: true}, []byte(cmd)); err != nil {
		t.Fatal(err)
	}
	st, err := viewStatement(s, res.Statement)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range st.Events {
		types = append(types, ev.Type)
	}
	if st.State != store.StateRejected || strings.Join(types, ",") != "submitted,confirmed,approval-requested,approval-rejected" {
		t.Errorf("state %s, history %v", st.State, types)
	}
	for _, ev := range comp.events {
		if ev == store.EventTransmitted {
			t.Error("a rejected statement was transmitted")
		}
	}
}

// TestResumeHeld: a command mail kept as held by an earlier version is
// applied by Resume.
func TestResumeHeld(t *testing.T) {
	ctx := context.Background()
	p, s, keys, _ := newTestProcessor(t, Config{}, time.Now)
	sub := "From: sender@itu.example\r\nTo: statements@liaison.example\r\nSubject: x\r\nMessage-ID: <s1@itu.example>\r\n\r\nFrom: ITU-T SG15\r\nTo: CCAMP\r\nTitle: t\r\nPurpose: For Information\r\n\r\nbody\r\n"
	res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "sender@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true}, []byte(sub))
	if err != nil || res.Statement != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	addr := keys.Address("ls", "liaison.example", 1, "alice@ccamp.example")
	raw := "From: alice@ccamp.example\r\nTo: " + addr + "\r\nSubject: Re\r\nMessage-ID: <c1@ccamp.example>\r\n\r\nclose\r\n"
	err = s.Update(ctx, func(tx *store.Tx) error {
		m := &store.Message{ReceivedAt: time.Now(), Source: "smtp", MailFrom: "alice@ccamp.example", RcptTo: []string{addr},
			Identity: "raw:c1", SHA256: "c1", Raw: []byte(raw), Class: ClassCommand, State: store.MessageHeld}
		_, _, err := tx.InsertMessage(m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Resume(ctx); err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v", n, err)
	}
	st, _ := viewStatement(s, 1)
	if st.State != store.StateClosed {
		t.Errorf("state = %s, want closed by the resumed command", st.State)
	}
}
