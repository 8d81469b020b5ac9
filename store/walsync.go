package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Durability with the fsync outside the write lock (DESIGN 5.1 and 10).
//
// At synchronous=FULL SQLite fsyncs the WAL inside COMMIT, while it holds
// the write lock: nobody writes while the disk flushes. Here the connections
// run at synchronous=NORMAL, where a COMMIT writes its frames to the WAL
// without an fsync (SQLite still syncs the WAL before each checkpoint, the
// database file after it, and the WAL header when the WAL is reused), and
// the Store fsyncs the WAL itself after the commit, once the lock is free
// for the next transaction. A write is reported done (Update returns, the
// group's members get their 250) only after an fsync that began after its
// COMMIT returned: then its frames are on disk, which is exactly what FULL
// promises. One fsync covers every commit made before it began, so
// commits that finish while one runs share the next.
//
// A crash of the process loses nothing committed (the frames are in the
// operating system's cache); a power failure loses only commits not yet
// reported done, whose senders retry.

// walSyncer fsyncs the WAL file for the commits of one Store.
type walSyncer struct {
	path string // the WAL file: the database's path + "-wal"

	mu        sync.Mutex
	cond      *sync.Cond
	committed uint64 // commits made so far (by the one writer)
	synced    uint64 // commits known to be on disk
	running   bool   // an fsync is under way
	f         *os.File

	fsyncs atomic.Int64 // fsyncs done, for tests and benchmarks
}

func newWALSyncer(dbPath string) *walSyncer {
	w := &walSyncer{path: dbPath + "-wal"}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// commitDone records a commit that just returned and gives its number, to
// wait for. The writer calls it after each COMMIT, so numbers follow the
// order of the commits.
func (w *walSyncer) commitDone() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.committed++
	return w.committed
}

// wait returns once commit seq is on disk: it fsyncs the WAL, or waits for
// an fsync that began after that commit. An fsync that fails leaves the
// commit's durability unknown: ErrTemporary, so that the sender retries
// (a second delivery of the message is recognized as such).
func (w *walSyncer) wait(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < seq {
		if w.running {
			w.cond.Wait()
			continue
		}
		w.running = true
		target := w.committed
		w.mu.Unlock()
		err := w.fsync()
		w.mu.Lock()
		w.running = false
		w.cond.Broadcast()
		if err != nil {
			return fmt.Errorf("%w: writing the database to disk: %w", ErrTemporary, err)
		}
		w.synced = max(w.synced, target)
	}
	return nil
}

// fsync syncs the WAL file. Only one runs at a time (running), so f needs
// no lock of its own. The file is opened once and opened again should
// SQLite ever have made a new one.
func (w *walSyncer) fsync() error {
	path := w.path
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Not in WAL mode (a test's database): the commit went to the
		// database file.
		path = strings.TrimSuffix(path, "-wal")
		fi, err = os.Stat(path)
	}
	if err != nil {
		return err
	}
	if w.f != nil {
		if open, err := w.f.Stat(); err != nil || !os.SameFile(open, fi) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		if w.f, err = os.Open(path); err != nil {
			return err
		}
	}
	w.fsyncs.Add(1)
	return w.f.Sync()
}

func (w *walSyncer) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// Sync returns once every commit made so far is on disk. Commits are
// visible to readers as soon as they are made, before their fsync: the
// outbox sender calls Sync after claiming mails and before sending them,
// so that no mail goes out for a commit a power failure could still take
// back (a statement whose 250 was not given, and which comes again).
func (s *Store) Sync() error {
	w := s.wal
	w.mu.Lock()
	seq := w.committed
	w.mu.Unlock()
	return w.wait(seq)
}

// WALSyncs is the number of fsyncs of the WAL the Store made: a figure for
// benchmarks and tests (fewer than commits when commits share one).
func (s *Store) WALSyncs() int64 { return s.wal.fsyncs.Load() }
