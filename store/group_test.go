package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// insertMsg is a member's work: one raw message, told apart by n.
func insertMsg(n int) func(tx *Tx) error {
	return func(tx *Tx) error {
		m := &Message{ReceivedAt: t0, Source: "smtp", MessageID: fmt.Sprintf("m%d@x", n), Identity: fmt.Sprintf("id%d", n),
			SHA256: fmt.Sprintf("sha%d", n), Raw: []byte("raw")}
		_, _, err := tx.InsertMessage(m)
		return err
	}
}

func storedMessages(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.View(context.Background(), func(tx *Tx) error {
		counts, err := tx.MessageCounts()
		for _, c := range counts {
			n += c
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitQueued waits until n callers wait in the group queue (a batch is
// running, so they wait for the next).
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.group.mu.Lock()
		q := len(s.group.queue)
		s.group.mu.Unlock()
		if q == n {
			return
		}
	}
	t.Fatalf("never saw %d queued callers", n)
}

// groupRun starts a blocker whose fn holds the first batch open until the
// others have queued, then the others with fns[i]; it returns each caller's
// error (the blocker's last).
func groupRun(t *testing.T, s *Store, ctxs []context.Context, fns []func(tx *Tx) error) []error {
	t.Helper()
	release := make(chan struct{})
	errs := make([]error, len(fns)+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(fns)] = s.UpdateGrouped(context.Background(), func(tx *Tx) error {
			<-release
			return insertMsg(1000)(tx)
		})
	}()
	waitRunning(t, s)
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.UpdateGrouped(ctxs[i], fn)
		}()
	}
	waitQueued(t, s, len(fns))
	close(release)
	wg.Wait()
	return errs
}

func waitRunning(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.group.mu.Lock()
		running := s.group.running && len(s.group.queue) == 0
		s.group.mu.Unlock()
		if running {
			return
		}
	}
	t.Fatal("the first batch never started")
}

func backgrounds(n int) []context.Context {
	ctxs := make([]context.Context, n)
	for i := range ctxs {
		ctxs[i] = context.Background()
	}
	return ctxs
}

func TestGroupCommitSharesOneCommit(t *testing.T) {
	s := openTest(t)
	const n = 10
	fns := make([]func(tx *Tx) error, n)
	for i := range fns {
		fns[i] = insertMsg(i)
	}
	before := s.WriteCommits()
	errs := groupRun(t, s, backgrounds(n), fns)
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	// The blocker's batch, then one for the ten that queued behind it.
	if got := s.WriteCommits() - before; got != 2 {
		t.Errorf("%d commits for %d callers, want 2", got, n+1)
	}
	if got := storedMessages(t, s); got != n+1 {
		t.Errorf("%d messages stored, want %d", got, n+1)
	}
}

func TestGroupCommitFailingMemberRollsBackAlone(t *testing.T) {
	s := openTest(t)
	bad := errors.New("this member's fault")
	fns := []func(tx *Tx) error{
		insertMsg(0),
		func(tx *Tx) error {
			if err := insertMsg(1)(tx); err != nil {
				return err
			}
			return bad // after writing: the write must be undone
		},
		func(tx *Tx) error {
			insertMsg(2)(tx)
			panic("a bug in one member")
		},
		insertMsg(3),
	}
	errs := groupRun(t, s, backgrounds(len(fns)), fns)
	if !errors.Is(errs[1], bad) {
		t.Errorf("failing member: err = %v, want its own error", errs[1])
	}
	if errs[2] == nil || errors.Is(errs[2], ErrTemporary) {
		t.Errorf("panicking member: err = %v, want a permanent error", errs[2])
	}
	for _, i := range []int{0, 3, 4} {
		if errs[i] != nil {
			t.Errorf("member %d: %v", i, errs[i])
		}
	}
	if got := storedMessages(t, s); got != 3 {
		t.Errorf("%d messages stored, want 3 (the blocker, 0 and 3)", got)
	}
	s.View(context.Background(), func(tx *Tx) error {
		for _, id := range []string{"id1", "id2"} {
			var n int
			tx.queryRow("SELECT count(*) FROM messages WHERE identity = ?", id).Scan(&n)
			if n != 0 {
				t.Errorf("the failed member's message %s was committed", id)
			}
		}
		return nil
	})
}

func TestGroupCommitBusyReachesAll(t *testing.T) {
	s := openTest(t)
	s.testHookCommit = func() error { return sqlite3.Error{Code: sqlite3.ErrBusy} }
	fns := []func(tx *Tx) error{insertMsg(0), insertMsg(1), insertMsg(2)}
	errs := groupRun(t, s, backgrounds(len(fns)), fns)
	for i, err := range errs {
		if !errors.Is(err, ErrTemporary) {
			t.Errorf("caller %d: err = %v, want ErrTemporary", i, err)
		}
	}
	if got := storedMessages(t, s); got != 0 {
		t.Errorf("%d messages stored after a busy commit, want 0", got)
	}
}

func TestGroupCommitCancelledWhileQueued(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	release := make(chan struct{})
	done := make(chan error, 2)
	go func() {
		done <- s.UpdateGrouped(context.Background(), func(tx *Tx) error { <-release; return insertMsg(0)(tx) })
	}()
	waitRunning(t, s)
	go func() {
		done <- s.UpdateGrouped(ctx, func(tx *Tx) error { ran = true; return insertMsg(1)(tx) })
	}()
	waitQueued(t, s, 1)
	cancel()
	if err := <-done; !errors.Is(err, ErrTemporary) {
		t.Errorf("cancelled caller: err = %v, want ErrTemporary", err)
	}
	waitQueued(t, s, 0) // it left the queue
	close(release)
	if err := <-done; err != nil {
		t.Errorf("blocker: %v", err)
	}
	if ran {
		t.Error("the cancelled caller's fn ran")
	}
	if got := storedMessages(t, s); got != 1 {
		t.Errorf("%d messages stored, want 1", got)
	}
}

// A lone caller does not wait for company, and callers that come one after
// the other each commit.
func TestGroupCommitSequential(t *testing.T) {
	s := openTest(t)
	before := s.WriteCommits()
	for i := range 3 {
		if err := s.UpdateGrouped(context.Background(), insertMsg(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.WriteCommits() - before; got != 3 {
		t.Errorf("%d commits, want 3", got)
	}
	// The earlier member's rows are visible to the next.
	if err := s.UpdateGrouped(context.Background(), func(tx *Tx) error {
		_, dup, err := tx.InsertMessage(&Message{ReceivedAt: t0, Source: "smtp", Identity: "id0", SHA256: "sha0", Raw: []byte("raw")})
		if err == nil && !dup {
			return errors.New("the committed message was not seen")
		}
		return err
	}); err != nil {
		t.Error(err)
	}
}

// TestGroupCommitLoneMemberFails: a member alone in its group runs without
// a savepoint; when it fails after writing, its writes are rolled back with
// the transaction, it gets its own error, and the next one commits.
func TestGroupCommitLoneMemberFails(t *testing.T) {
	s := openTest(t)
	boom := errors.New("boom")
	err := s.UpdateGrouped(context.Background(), func(tx *Tx) error {
		if err := insertMsg(1)(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateGrouped = %v, want the member's error", err)
	}
	if n := storedMessages(t, s); n != 0 {
		t.Fatalf("%d messages stored by a failed lone member, want 0", n)
	}
	if err := s.UpdateGrouped(context.Background(), insertMsg(1)); err != nil {
		t.Fatal(err)
	}
	if n := storedMessages(t, s); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}
