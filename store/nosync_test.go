package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpdateNoSync: Update returns only after an fsync of the WAL that
// began after its commit; UpdateNoSync commits like any other transaction,
// rolls back on error, and makes no fsync; the next Update's fsync covers it.
func TestUpdateNoSync(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	m := &OutboxMail{Kind: "notification", Rcpt: "a@example.org", Raw: []byte("x"), CreatedAt: time.Now()}
	before := s.WALSyncs()
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutbox(m) }); err != nil {
		t.Fatal(err)
	}
	if n := s.WALSyncs() - before; n != 1 {
		t.Fatalf("Update made %d fsyncs of the WAL, want 1", n)
	}
	if s.wal.synced != s.wal.committed {
		t.Fatalf("after Update: %d commits, %d on disk", s.wal.committed, s.wal.synced)
	}
	before = s.WALSyncs()
	if err := s.UpdateNoSync(ctx, func(tx *Tx) error { return tx.MarkSending(m.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if n := s.WALSyncs() - before; n != 0 {
		t.Fatalf("UpdateNoSync made %d fsyncs, want none", n)
	}
	if s.wal.synced >= s.wal.committed {
		t.Fatalf("after UpdateNoSync: %d commits, %d on disk: it was not counted", s.wal.committed, s.wal.synced)
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
	var got *OutboxMail
	if err := s.View(ctx, func(tx *Tx) error {
		var err error
		got, err = tx.OutboxMail(m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got.State != OutboxSending {
		t.Errorf("state %q, want sending: the first UpdateNoSync committed, the failed one was rolled back", got.State)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MarkSent(m.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	if s.wal.synced != s.wal.committed {
		t.Errorf("after Update: %d commits, %d on disk", s.wal.committed, s.wal.synced)
	}
}

// TestGroupCommitSyncsOnce: concurrent UpdateGrouped callers each return
// after an fsync that covers their commit, and commits that finish while
// an fsync runs share the next one: never more fsyncs than commits.
func TestGroupCommitSyncsOnce(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	before, commitsBefore := s.WALSyncs(), s.WriteCommits()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.UpdateGrouped(ctx, func(tx *Tx) error {
				return tx.InsertOutbox(&OutboxMail{Kind: "notification", Rcpt: "a@example.org", Raw: []byte("x"), CreatedAt: time.Now()})
			})
			if errs[i] == nil {
				s.wal.mu.Lock()
				if s.wal.synced == 0 {
					errs[i] = errors.New("returned before any fsync")
				}
				s.wal.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	syncs, commits := s.WALSyncs()-before, s.WriteCommits()-commitsBefore
	if syncs == 0 || syncs > commits {
		t.Errorf("%d fsyncs for %d commits", syncs, commits)
	}
	if s.wal.synced != s.wal.committed {
		t.Errorf("%d commits, %d on disk", s.wal.committed, s.wal.synced)
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
