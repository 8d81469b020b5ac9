package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit (DESIGN 10): every commit reported done is an fsync of the
// WAL (walsync.go), which costs more than the work of a typical message. Callers of
// UpdateGrouped that are ready at the same moment share one transaction and
// one commit; each fn runs inside its own SAVEPOINT, so a failing one is
// rolled back alone and the others still commit. Each caller returns only
// after the commit that holds its work (or with the error that kept it out).
//
// The batching is leader based, without a goroutine of its own: the first
// caller to find no batch running runs one, with everything queued at that
// moment (at most maxGroup); while that batch commits, later callers queue up
// and the next leader takes them all. So the group grows with the load and a
// lone caller waits for no one.

// maxGroup bounds a group: a few dozen messages already divide the fsyncs by
// that much, and a bounded group keeps the write lock short for other writers
// (the outbox sender, the web).
const maxGroup = 32

// committer is the queue of UpdateGrouped callers of one Store.
type committer struct {
	mu      sync.Mutex
	queue   []*groupMember
	running bool // a leader is running a batch
}

type groupMember struct {
	ctx   context.Context
	fn    func(tx *Tx) error
	done  chan error // buffered: the leader never waits for the member
	taken bool       // in a batch: the result must be awaited, whatever ctx says
}

// UpdateGrouped runs fn in a write transaction that it may share with other
// callers of UpdateGrouped (group commit). fn's changes are committed when
// UpdateGrouped returns nil; when it returns an error, none of them are, and
// the error is fn's own (wrapped as by Update), or ErrTemporary when the
// shared commit failed for a reason a retry may cure. fn must only touch the
// store through tx: it runs in the goroutine of whichever caller leads the
// batch, and may be run a second time, alone, if the shared transaction is
// lost through another member's fault.
//
// When ctx is cancelled before fn has started, UpdateGrouped returns
// ErrTemporary and fn never runs; once fn has started its statements are not
// interrupted (an interrupted statement could roll back the whole group), and
// UpdateGrouped reports how the commit went.
func (s *Store) UpdateGrouped(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return classify(err)
	}
	m := &groupMember{ctx: ctx, fn: fn, done: make(chan error, 1)}
	c := &s.group
	c.mu.Lock()
	c.queue = append(c.queue, m)
	lead := !c.running
	c.running = true
	c.mu.Unlock()
	if lead {
		s.leadBatch()
	}
	select {
	case err := <-m.done:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		if !m.taken {
			for i, q := range c.queue {
				if q == m {
					c.queue = append(c.queue[:i], c.queue[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
			return classify(ctx.Err())
		}
		c.mu.Unlock()
		return <-m.done
	}
}

// leadBatch runs one batch of the queue, then hands the lead to a new
// goroutine if more callers are waiting, so that the caller who led returns
// as soon as its own commit is done.
func (s *Store) leadBatch() {
	c := &s.group
	c.mu.Lock()
	n := min(len(c.queue), maxGroup)
	batch := make([]*groupMember, n)
	copy(batch, c.queue[:n])
	c.queue = append(c.queue[:0], c.queue[n:]...)
	for _, m := range batch {
		m.taken = true
	}
	c.mu.Unlock()

	s.lastGroupCommit.Store(time.Now().UnixNano())
	committed, seq := s.runBatch(batch)
	s.lastGroupCommit.Store(time.Now().UnixNano())

	// The next group may begin while this one's commit goes to disk.
	c.mu.Lock()
	if len(c.queue) > 0 {
		go s.leadBatch()
	} else {
		c.running = false
	}
	c.mu.Unlock()

	s.reportOnDisk(committed, seq)
}

// reportOnDisk tells the members committed in a group's transaction (commit
// number seq) how it went, once the commit is on disk (walsync.go).
func (s *Store) reportOnDisk(committed []*groupMember, seq uint64) {
	if len(committed) == 0 {
		return
	}
	err := s.wal.wait(seq)
	for _, m := range committed {
		m.done <- err
	}
}

// runBatch applies the members of one group in one transaction and commits
// it. It tells the members that failed; those committed in the shared
// transaction it returns, with the commit's number, to be told once the
// commit is on disk (walsync.go).
func (s *Store) runBatch(batch []*groupMember) (committed []*groupMember, seq uint64) {
	bg := context.Background() // the shared transaction outlives any one member's ctx
	sqlTx, err := s.w.BeginTx(bg, nil)
	if err != nil {
		err = classify(err)
		for _, m := range batch {
			m.done <- err
		}
		return nil, 0
	}
	began := time.Now()
	defer func() { s.groupLockHeld.Add(int64(time.Since(began))) }()
	var applied []*groupMember
	named := false // an applied member named statements for search (0026)
	stmts := s.newStmtCache(s.w)
	defer s.keep(stmts) // after the transaction, whichever way it ends
	// Alone, a member needs no savepoint (two statements fewer under the
	// lock): its failure rolls back the transaction, which holds nothing
	// else.
	savepoints := len(batch) > 1
	for i, m := range batch {
		if err := m.ctx.Err(); err != nil {
			m.done <- classify(err)
			continue
		}
		if savepoints {
			if _, err := sqlTx.ExecContext(bg, "SAVEPOINT member"); err != nil {
				sqlTx.Rollback()
				s.runAlone(append(applied, batch[i:]...))
				return nil, 0
			}
		}
		tx := s.newTx(context.WithoutCancel(m.ctx), sqlTx, stmts)
		ferr := runMember(tx, m.fn)
		if ferr == nil {
			if savepoints {
				if _, err := sqlTx.ExecContext(bg, "RELEASE member"); err != nil {
					sqlTx.Rollback()
					s.runAlone(append(applied, batch[i:]...))
					return nil, 0
				}
			}
			applied = append(applied, m)
			named = named || tx.searchPending
			continue
		}
		m.done <- classify(ferr)
		if !savepoints {
			sqlTx.Rollback()
			return nil, 0
		}
		// Undo this member's changes only. If SQLite already rolled the
		// whole transaction back (it does so on some errors, e.g. a full
		// disk), the savepoint is gone: the others are run again alone.
		_, rerr := sqlTx.ExecContext(bg, "ROLLBACK TO member")
		if rerr == nil {
			_, rerr = sqlTx.ExecContext(bg, "RELEASE member")
		}
		if rerr != nil {
			sqlTx.Rollback()
			s.runAlone(append(applied, batch[i+1:]...))
			return nil, 0
		}
	}
	if len(applied) == 0 {
		sqlTx.Rollback()
		return nil, 0
	}
	err = nil
	if s.testHookCommit != nil {
		err = s.testHookCommit()
	}
	if err == nil {
		if err = sqlTx.Commit(); err == nil {
			s.committed()
			s.groupCommits.Add(1)
			if named {
				s.pendingNamed()
			}
		}
	} else {
		sqlTx.Rollback()
	}
	if err == nil {
		return applied, s.wal.commitDone()
	}
	err = classify(err)
	if errors.Is(err, ErrTemporary) {
		// Busy, full, I/O: the same for everyone, and the senders retry.
		err = fmt.Errorf("commit: %w", err)
		for _, m := range applied {
			m.done <- err
		}
		return nil, 0
	}
	// A permanent failure of the commit (a deferred constraint) belongs to
	// one member we cannot tell: each is tried again in its own transaction.
	s.runAlone(applied)
	return nil, 0
}

// runAlone gives each member a transaction of its own (after the shared one
// was lost), so that one member's fault is reported to that member only.
func (s *Store) runAlone(members []*groupMember) {
	for _, m := range members {
		if err := m.ctx.Err(); err != nil {
			m.done <- classify(err)
			continue
		}
		err := s.run(context.WithoutCancel(m.ctx), s.w, func(tx *Tx) error { return runMember(tx, m.fn) })
		if err == nil {
			s.groupCommits.Add(1)
		}
		m.done <- err
	}
}

// runMember runs fn, turning a panic into an error of that member: it runs
// in another caller's goroutine, which must not die of it.
func runMember(tx *Tx, fn func(tx *Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in transaction: %v", p)
		}
	}()
	return fn(tx)
}

// WriteCommits is the number of write transactions committed since Open:
// a figure for benchmarks and the shutdown log (WALSyncs counts the fsyncs
// that made them durable).
func (s *Store) WriteCommits() int64 { return s.commits.Load() }

// GroupLockHeld is how long received messages' group transactions held the
// write lock in all, from BEGIN to the end of COMMIT (the fsync is after):
// divided by the messages, the serial part of taking one in.
func (s *Store) GroupLockHeld() time.Duration { return time.Duration(s.groupLockHeld.Load()) }

// GroupCommits is the number of those commits that were UpdateGrouped's
// shared transactions (received messages).
func (s *Store) GroupCommits() int64 { return s.groupCommits.Load() }
