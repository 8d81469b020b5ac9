package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Search indexing after the write (migration 0026). InsertStatement names a
// new statement in search_pending instead of indexing it inside the write
// transaction of the message that brought it; the indexer goroutine of the
// Store indexes the pending statements in transactions of its own, a batch
// at a time, once received messages leave the writer idle for a moment
// (indexQuiet) or at the latest indexMaxDelay after the first was named.
// Every text search first indexes what is pending (IndexPending), so no
// search misses a statement; only the moment the index is written moves.

const (
	// indexQuiet is how long the group committer must have been idle
	// before the indexer takes the writer: during a flood of statements
	// their senders wait for our 250, an index entry can wait.
	indexQuiet = 20 * time.Millisecond
	// indexMaxDelay bounds how long a statement waits for its index entry
	// when messages keep coming.
	indexMaxDelay = time.Second
	// indexBatch bounds the statements one indexing transaction takes, so
	// that it holds the write lock for a few milliseconds at most.
	indexBatch = 200
)

// indexRecheck is how often the indexer looks for statements another
// process (a pipe delivery, a command line) left pending.
const indexRecheck = 30 * time.Second

// searchIndexer is the indexer goroutine's state.
type searchIndexer struct {
	wake     chan struct{} // a statement was named in search_pending
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	mu       sync.Mutex // one indexing at a time (the goroutine, IndexPending)
}

// startIndexer starts the indexer goroutine; it indexes what an earlier
// run left pending first.
func (s *Store) startIndexer() {
	ix := &searchIndexer{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.indexer = ix
	ix.wake <- struct{}{}
	go func() {
		defer close(ix.done)
		recheck := time.NewTicker(indexRecheck)
		defer recheck.Stop()
		for {
			select {
			case <-ix.stop:
				return
			case <-ix.wake:
			case <-recheck.C:
			}
			first := time.Now()
			// Let received messages go first, for at most indexMaxDelay.
			for time.Since(first) < indexMaxDelay {
				idle := time.Since(time.Unix(0, s.lastGroupCommit.Load()))
				if idle >= indexQuiet {
					break
				}
				select {
				case <-ix.stop:
					return
				case <-time.After(indexQuiet - idle):
				}
			}
			// A failure (the disk) is tried again at the next wake or
			// search; the statements stay pending, and searches index
			// them themselves.
			if err := s.IndexPending(context.Background()); err != nil {
				s.log.Warn("database: indexing new statements for search failed; retrying later", "err", err)
			}
		}
	}()
}

// stopIndexer stops the indexer goroutine (once; Close calls it too).
func (s *Store) stopIndexer() {
	ix := s.indexer
	if ix == nil {
		return
	}
	ix.stopOnce.Do(func() { close(ix.stop) })
	<-ix.done
}

// pendingNamed wakes the indexer after a commit that named statements in
// search_pending (a stopped one does not read the wake).
func (s *Store) pendingNamed() {
	if s.indexer == nil {
		return
	}
	select {
	case s.indexer.wake <- struct{}{}:
	default:
	}
}

// IndexPending indexes for search every statement not indexed yet, in
// transactions of at most indexBatch statements. Searches call it first, so
// that they find every statement stored; with nothing pending it only reads.
func (s *Store) IndexPending(ctx context.Context) error {
	if s.indexer != nil {
		s.indexer.mu.Lock()
		defer s.indexer.mu.Unlock()
	}
	for {
		var pending bool
		if err := s.View(ctx, func(tx *Tx) error {
			return tx.queryRow(`SELECT EXISTS (SELECT 1 FROM search_pending)`).Scan(&pending)
		}); err != nil || !pending {
			return err
		}
		var n int
		// Without waiting for the fsync: the index is rebuilt from
		// search_pending if a power failure takes this commit back.
		if err := s.UpdateNoSync(ctx, func(tx *Tx) error {
			var err error
			n, err = tx.indexPending(indexBatch)
			return err
		}); err != nil {
			return err
		}
		if n < indexBatch {
			return nil
		}
	}
}

// indexPending indexes up to limit pending statements, oldest first, and
// returns how many. A statement a trigger indexed meanwhile (0017: its
// title or parties changed) is indexed again, once.
func (t *Tx) indexPending(limit int) (int, error) {
	var cut, n int64
	if err := t.queryRow(`SELECT coalesce(max(id), 0), count(*) FROM (SELECT id FROM search_pending ORDER BY id LIMIT ?)`, limit).Scan(&cut, &n); err != nil {
		return 0, wrap(err, "indexing statements for search")
	}
	if n == 0 {
		return 0, nil
	}
	steps := []string{
		`DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_pending WHERE id <= ?)`,
		`INSERT INTO search_fts (rowid, title, body, bodies, contacts)
			SELECT id, title, body, bodies, contacts FROM search_text WHERE id IN (SELECT id FROM search_pending WHERE id <= ?)`,
		`DELETE FROM search_pending WHERE id <= ?`,
	}
	for _, q := range steps {
		if _, err := t.exec(q, cut); err != nil {
			return 0, fmt.Errorf("indexing statements for search: %w", err)
		}
	}
	return int(n), nil
}
