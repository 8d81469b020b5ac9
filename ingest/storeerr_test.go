package ingest

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"liaisond/store"
)

// TestStoreErrorAbortsCommand: a store error while planning a command (here
// reading the statement that "link" names) aborts the transaction; it is
// never committed as a refusal that tells the sender the database's error.
func TestStoreErrorAbortsCommand(t *testing.T) {
	ctx := context.Background()
	p, _, keys, comp := newTestProcessor(t, Config{}, time.Now)
	path := filepath.Join(t.TempDir(), "db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.Store = s
	submit := func(n string) int64 {
		t.Helper()
		raw := "From: sender@itu.example\r\nTo: statements@liaison.example\r\nSubject: x\r\nMessage-ID: <s" + n + "@itu.example>\r\n\r\n" +
			"From: ITU-T SG15\r\nTo: CCAMP\r\nTitle: t" + n + "\r\nPurpose: For Information\r\n\r\nbody\r\n"
		res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "sender@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true}, []byte(raw))
		if err != nil || res.Statement == 0 {
			t.Fatalf("submission not taken: %v %+v", err, res)
		}
		return res.Statement
	}
	target, st := submit("1"), submit("2")

	// The row of the statement "link" names cannot be read any more.
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE statements SET message_id = 'not a number' WHERE id = ?`, target); err != nil {
		t.Fatal(err)
	}
	comp.events = nil

	addr := keys.Address("ls", "liaison.example", st, "dan@lm.example")
	cmd := "From: dan@lm.example\r\nTo: " + addr + "\r\nSubject: Re\r\nMessage-ID: <c1@lm.example>\r\n\r\nlink LS-" + strconv.FormatInt(target, 10) + "\r\n"
	res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: "dan@lm.example", Rcpt: []string{addr}, Known: true}, []byte(cmd))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != store.MessageFailed || len(res.Problems) > 0 {
		t.Errorf("result %+v, want the message kept as failed with no problems told", res)
	}
	if len(comp.events) > 0 {
		t.Errorf("events causing mail: %v, want none", comp.events)
	}
	after, err := viewStatement(s, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range after.Events {
		if ev.Type == store.EventCommandRefused || strings.Contains(ev.Text, "converting") {
			t.Errorf("the store error was committed as %s: %q", ev.Type, ev.Text)
		}
	}
	var state, why string
	if err := db.QueryRow(`SELECT state, error FROM messages WHERE message_id = 'c1@lm.example'`).Scan(&state, &why); err != nil {
		t.Fatal(err)
	}
	if state != store.MessageFailed || !strings.Contains(why, "reading LS-") {
		t.Errorf("message %s (%q), want failed naming the step", state, why)
	}
}
