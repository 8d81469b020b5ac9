package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/mattn/go-sqlite3"
)

// Backup writes a consistent copy of the database to dest with SQLite's
// online backup API (https://sqlite.org/backup.html), while other
// connections keep reading and writing: the copy is taken in one step
// inside one read transaction, so it is the database as of one commit
// (WAL mode lets writers go on meanwhile). The copy is written beside dest
// and renamed into place, mode 0600, so dest is never a half-written file.
// It returns the number of pages copied.
func (s *Store) Backup(ctx context.Context, dest string) (pages int, err error) {
	tmp := dest + ".tmp"
	os.Remove(tmp)
	if err := ensureMode0600(tmp); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	dst, err := sql.Open("sqlite3", "file:"+tmp)
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, err)
	}
	defer dst.Close()
	dconn, err := dst.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, classify(err))
	}
	defer dconn.Close()
	sconn, err := s.r.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", classify(err))
	}
	defer sconn.Close()
	err = dconn.Raw(func(d any) error {
		return sconn.Raw(func(src any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			sc, ok2 := src.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a go-sqlite3 connection")
			}
			b, err := dc.Backup("main", sc, "main")
			if err != nil {
				return err
			}
			// -1: every page in one step, so no write can slip in between.
			if _, err := b.Step(-1); err != nil {
				b.Close()
				return err
			}
			pages = b.PageCount()
			return b.Finish()
		})
	})
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, classify(err))
	}
	// The copy is in rollback-journal mode with nothing pending; closing
	// it before the rename leaves one self-contained file.
	dconn.Close()
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, err)
	}
	if err := syncFile(tmp); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return 0, fmt.Errorf("backup to %s: %w", dest, err)
	}
	return pages, nil
}

func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
