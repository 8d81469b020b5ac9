package store

import (
	"context"
	"fmt"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReserveWAL: the reserve makes the WAL file that long with zeros once;
// commits then write inside it (the file does not grow) and stay readable,
// across checkpoints, and after a crash, when SQLite reads the WAL back
// and must stop at the zeros.
func TestReserveWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "test.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const reserve = 4 << 20
	before := s.walFileSize()
	if before >= reserve {
		t.Fatalf("the WAL of a new database is already %d bytes", before)
	}
	n, err := s.ReserveWAL(ctx, reserve)
	if err != nil {
		t.Fatal(err)
	}
	if n != reserve-before || s.walFileSize() != reserve {
		t.Fatalf("ReserveWAL wrote %d bytes, the WAL is %d bytes; want %d written, %d in all", n, s.walFileSize(), reserve-before, reserve)
	}
	if n, err := s.ReserveWAL(ctx, reserve); err != nil || n != 0 {
		t.Fatalf("a second ReserveWAL wrote %d bytes (%v), want none", n, err)
	}

	// Commits land in the reserve, and a checkpoint lets the WAL start
	// again at its beginning, inside it too.
	insert := func(i int) {
		t.Helper()
		m := &OutboxMail{Kind: "notification", Rcpt: fmt.Sprintf("r%d@example.org", i), Raw: make([]byte, 20000), CreatedAt: time.Now()}
		if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutbox(m) }); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		insert(i)
	}
	if _, err := s.w.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	for i := 40; i < 80; i++ {
		insert(i)
	}
	if got := s.walFileSize(); got != reserve {
		t.Errorf("after 80 commits of ~24 KB and a checkpoint the WAL is %d bytes, want the reserve's %d: the commits did not stay inside it", got, reserve)
	}

	// A crash now: copies of the files as they are, without the
	// wal-index, which SQLite then rebuilds from the WAL alone.
	crash := filepath.Join(t.TempDir(), "crash.db")
	for _, suffix := range []string{"", "-wal"} {
		copyFile(t, path+suffix, crash+suffix)
	}
	c, err := Open(ctx, crash)
	if err != nil {
		t.Fatalf("opening the database as a crash left it: %v", err)
	}
	defer c.Close()
	var queued int
	if err := c.View(ctx, func(tx *Tx) error {
		return tx.queryRow("SELECT count(*) FROM outbox").Scan(&queued)
	}); err != nil {
		t.Fatal(err)
	}
	if queued != 80 {
		t.Errorf("after the crash the outbox holds %d mails, want the 80 committed", queued)
	}
}

// TestReserveWALDiskFull: when the zeros do not fit (a file size limit
// stands for a full disk here), the WAL is cut back to its old size, the
// error says what failed, and the database works as before.
func TestReserveWALDiskFull(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	before := s.walFileSize()
	// Past the limit a write fails with EFBIG instead of killing the
	// process with SIGXFSZ.
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := old
	limit.Cur = uint64(before) + 1<<20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	n, err := s.ReserveWAL(ctx, 8<<20)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err == nil || !strings.Contains(err.Error(), "reserving WAL space: writing") {
		t.Fatalf("ReserveWAL past the limit returned %v, want the failed write", err)
	}
	if n != 0 || s.walFileSize() != before {
		t.Errorf("after the failure ReserveWAL reports %d bytes and the WAL is %d bytes, want 0 and its old %d", n, s.walFileSize(), before)
	}
	m := &OutboxMail{Kind: "notification", Rcpt: "a@example.org", Raw: []byte("x"), CreatedAt: time.Now()}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutbox(m) }); err != nil {
		t.Fatalf("a commit after the failed reserve: %v", err)
	}
}
