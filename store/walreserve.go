package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Space for the WAL, written ahead (DESIGN 10).
//
// Every write is reported done only after an fsync of the WAL (walsync.go).
// While the WAL file grows, each of those fsyncs must also commit the
// file's new size to the file system's journal (ext4, XFS): here a commit's
// fsync took 0.35-0.45 ms appending and 0.25 ms overwriting (a standalone
// test of 180 KB writes), and under a flood of submissions the wait for it
// halved. Space made with fallocate does not help: the first write to it
// changes the extent's state, which is a journal commit too. So, like
// PostgreSQL's zero-filled WAL segments (wal_init_zero), the Store writes
// zeros up to the reserve once, and SQLite's frames then overwrite them.
//
// SQLite keeps the WAL file at its largest size (journal_size_limit is not
// set, and no checkpoint here truncates): after a complete checkpoint the
// next writer starts again at its beginning, over the old frames. The
// reserve therefore lasts until the last connection closes, when SQLite
// checkpoints and deletes the file; serve reserves again when it starts.
//
// The zeros are safe for SQLite. They are written past the end of the file
// only, while this connection holds the write lock (BEGIN IMMEDIATE), so
// no frame of a writer in this or another process is ever overwritten.
// When it reads the WAL after a crash, SQLite stops at the first frame
// whose salt and checksum do not match its header; a zero frame never
// matches, nor does a WAL header of zeros, which makes the WAL empty.

// ReserveWAL makes the WAL file at least size bytes long by writing zeros
// past its end, and makes them durable. It returns the bytes it wrote:
// none when the file is already that long, or when the database is not in
// WAL mode (it has no -wal file). When a write fails (a full disk) the
// file is cut back to its old size.
func (s *Store) ReserveWAL(ctx context.Context, size int64) (int64, error) {
	if size <= 0 {
		return 0, nil
	}
	// The write lock, so that no writer appends frames while the zeros
	// are written; the transaction writes nothing of its own.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reserving WAL space: taking the write lock: %w", classify(err))
	}
	defer tx.Rollback()
	f, err := os.OpenFile(s.wal.path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reserving WAL space: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reserving WAL space: %w", err)
	}
	var written int64
	zeros := make([]byte, 1<<20)
	for off := fi.Size(); off < size; {
		chunk := zeros[:min(int64(len(zeros)), size-off)]
		n, err := f.WriteAt(chunk, off)
		written += int64(n)
		off += int64(n)
		if err != nil {
			// A full disk: give the space back to the database, which
			// needs it more. Nothing past the old end is SQLite's yet:
			// the lock is still held.
			if terr := f.Truncate(fi.Size()); terr == nil {
				written = 0
			}
			return written, fmt.Errorf("reserving WAL space: writing %s: %w", s.wal.path, err)
		}
	}
	if written == 0 {
		return 0, nil
	}
	// The new size must be on disk before the commits' fsyncs rely on it,
	// or the first of them would carry it (and all these zeros).
	if err := f.Sync(); err != nil {
		return written, fmt.Errorf("reserving WAL space: syncing %s: %w", s.wal.path, err)
	}
	return written, nil
}

// walFileSize is the size of the WAL file (0 when there is none), for
// the tests.
func (s *Store) walFileSize() int64 {
	fi, err := os.Stat(s.wal.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
