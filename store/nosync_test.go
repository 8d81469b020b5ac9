package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUpdateNoSync: its transaction commits like any other and rolls back
// on error, and the writer's connection is at synchronous=FULL again
// afterwards (2), so the next message's commit is fsynced as DESIGN 5.1
// requires. (PRAGMA synchronous is read unprepared: SQLite compiles its
// value into the statement, so a kept statement would answer the old one.)
func TestUpdateNoSync(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	synchronous := func() int {
		t.Helper()
		var n int
		if err := s.Update(ctx, func(tx *Tx) error { return tx.tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := synchronous(); n != 2 {
		t.Fatalf("synchronous = %d at the start, want 2 (FULL)", n)
	}
	var inside int
	m := &OutboxMail{Kind: "notification", Rcpt: "a@example.org", Raw: []byte("x"), CreatedAt: time.Now()}
	if err := s.UpdateNoSync(ctx, func(tx *Tx) error {
		if err := tx.tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inside); err != nil {
			return err
		}
		return tx.InsertOutbox(m)
	}); err != nil {
		t.Fatal(err)
	}
	if inside != 1 {
		t.Errorf("synchronous = %d inside UpdateNoSync, want 1 (NORMAL)", inside)
	}
	if n := synchronous(); n != 2 {
		t.Fatalf("synchronous = %d after UpdateNoSync, want 2 (FULL)", n)
	}
	failed := errors.New("fails")
	if err := s.UpdateNoSync(ctx, func(tx *Tx) error {
		if err := tx.MarkSent(m.ID, time.Now()); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("UpdateNoSync returned %v, want its function's error", err)
	}
	if n := synchronous(); n != 2 {
		t.Fatalf("synchronous = %d after a failed UpdateNoSync, want 2 (FULL)", n)
	}
	var got *OutboxMail
	if err := s.View(ctx, func(tx *Tx) error {
		var err error
		got, err = tx.OutboxMail(m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got.State != OutboxQueued {
		t.Errorf("state %q: the failed transaction was not rolled back", got.State)
	}
}

// TestInsertOutboxMany: mails queued together get their ids in order and
// keep their bytes; none is a no-op.
func TestInsertOutboxMany(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var ms []*OutboxMail
	for i := range 13 {
		ms = append(ms, &OutboxMail{Kind: "notification", Rcpt: string(rune('a'+i)) + "@example.org", To: []string{"a@example.org"},
			Raw: []byte(strings.Repeat(string(rune('a'+i)), 5000)), CreatedAt: time.Now()})
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.InsertOutboxMany(nil); err != nil {
			return err
		}
		if err := tx.InsertOutbox(&OutboxMail{Kind: "receipt", Rcpt: "first@example.org", CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.InsertOutboxMany(ms)
	}); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.ID != int64(i+2) {
			t.Errorf("mail %d has id %d, want %d", i, m.ID, i+2)
		}
		var got *OutboxMail
		if err := s.View(ctx, func(tx *Tx) (err error) { got, err = tx.OutboxMail(m.ID); return err }); err != nil {
			t.Fatal(err)
		}
		if got.Rcpt != m.Rcpt || string(got.Raw) != string(m.Raw) || got.State != OutboxQueued {
			t.Errorf("mail %d read back as %s %s (%d bytes)", i, got.Rcpt, got.State, len(got.Raw))
		}
	}
}
