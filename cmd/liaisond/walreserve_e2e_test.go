package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReservesWAL: serve writes the WAL space ahead when it starts
// (wal_reserve_mb, 64 MB by default) and says so; a statement then goes
// into that space, the file does not grow, and the statement is listed.
// With 0 nothing is written ahead.
func TestServeReservesWAL(t *testing.T) {
	walSize := func(d *daemon) int64 {
		t.Helper()
		fi, err := os.Stat(filepath.Join(d.dir, "data", "liaisond.db-wal"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	d := startDaemon(t, "", "")
	if got := walSize(d); got != 64<<20 {
		t.Errorf("the WAL is %d bytes after serve started, want the default reserve of 64 MB", got)
	}
	if log := d.stderr.String(); !strings.Contains(log, "database: WAL space written ahead") || !strings.Contains(log, "wal_reserve_mb=64") {
		t.Errorf("serve's log does not say it wrote the WAL space ahead:\n%s", log)
	}
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	if got := walSize(d); got != 64<<20 {
		t.Errorf("the WAL is %d bytes after a statement, want 64 MB: the commit did not go into the reserve", got)
	}
	if out, err := d.cli(t, "list"); err != nil || !strings.Contains(out, "LS on OTN control") {
		t.Errorf("list: %v\n%s", err, out)
	}

	off := startDaemonWith(t, "", "wal_reserve_mb = 0", "", "")
	if got := walSize(off); got >= 1<<20 {
		t.Errorf("with wal_reserve_mb = 0 the WAL is %d bytes after serve started, want only what the migrations wrote", got)
	}
	if strings.Contains(off.stderr.String(), "WAL space written ahead") {
		t.Errorf("with wal_reserve_mb = 0 serve says it wrote WAL space ahead")
	}
}
