package store

import (
	"database/sql"
	"time"
)

// Checkpoints off the write path. By default SQLite copies the WAL into the
// database file inside the COMMIT that makes the WAL pass 1,000 pages: the
// writer, holding the write lock, then writes and fsyncs megabytes that have
// nothing to do with its transaction. Here the writer's automatic
// checkpoints are off and a goroutine of the Store runs PASSIVE checkpoints
// on a connection of its own, which never block the writer (SQLite WAL mode
// lets a checkpoint run beside a write transaction). Durability is unchanged:
// a commit is durable once the WAL is fsynced (walsync.go).

// checkpointEvery is the least time between two background checkpoints.
const checkpointEvery = 100 * time.Millisecond

// startCheckpointer turns the writer's automatic checkpoints off and starts
// the goroutine; with an error the writer keeps checkpointing itself.
func (s *Store) startCheckpointer(dsn string) error {
	ck, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	ck.SetMaxOpenConns(1)
	if _, err := s.w.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		ck.Close()
		return err
	}
	s.ckWake = make(chan struct{}, 1)
	s.ckStop = make(chan struct{})
	s.ckDone = make(chan struct{})
	go func() {
		defer close(s.ckDone)
		defer ck.Close()
		for {
			select {
			case <-s.ckStop:
				return
			case <-s.ckWake:
			}
			// A failed checkpoint (busy with a reader) is tried again at
			// the next wake; the WAL meanwhile only grows.
			ck.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			select {
			case <-s.ckStop:
				return
			case <-time.After(checkpointEvery):
			}
		}
	}()
	return nil
}

// committed wakes the checkpointer after a write commit.
func (s *Store) committed() {
	s.commits.Add(1)
	if s.ckWake == nil {
		return
	}
	select {
	case s.ckWake <- struct{}{}:
	default:
	}
}

// stopCheckpointer stops the goroutine; closing the writer then checkpoints
// what is left.
func (s *Store) stopCheckpointer() {
	if s.ckStop == nil {
		return
	}
	close(s.ckStop)
	<-s.ckDone
	s.ckStop = nil
}
