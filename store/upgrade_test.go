package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUpgradeFromFirstSchema: a database made by the first migration alone
// and filled with statements, as the first release wrote them, keeps every
// statement after the later migrations run, and search finds them.
func TestUpgradeFromFirstSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(path) // Open made it current; start again at version 1

	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(first) + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := 1; i <= n; i++ {
		at := fmtTime(t0.Add(time.Duration(i) * time.Hour))
		_, err := db.Exec(`INSERT INTO statements (id, direction, state, from_body, from_name, title, purpose, submitter, assignee, received_at, body)
			VALUES (?, 'incoming', 'open', 'itu-t-sg15', 'ITU-T SG15', ?, 'action', 'a@itu.example', 'alice@ccamp.example', ?, ?)`,
			i, fmt.Sprintf("Statement number %d on wavelength%dz", i, i), at, fmt.Sprintf("body text %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO statement_to (statement_id, pos, body_id, name) VALUES (?, 1, 'ccamp', 'IETF CCAMP')`, i); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO contacts (statement_id, role, pos, name, addr) VALUES (?, 'technical', 1, 'Zoltan', ?)`, i, fmt.Sprintf("z%d@op.example", i)); err != nil {
			t.Fatal(err)
		}
		// A mail queued in the outbox row itself, as before 0013.
		if _, err := db.Exec(`INSERT INTO outbox (id, statement_id, kind, envelope_from, rcpt, from_addr, subject, message_id, raw, next_attempt, created_at)
			VALUES (?, ?, 'notification', 'statements@liaison.example', 'alice@ccamp.example', 'statements@liaison.example', 'LS', ?, ?, ?, ?)`,
			i, i, fmt.Sprintf("m%d@liaison.example", i), fmt.Sprintf("Subject: mail %d\r\n\r\nbody\r\n", i), at, at); err != nil {
			t.Fatal(err)
		}
	}
	// A field and an attachment, whose tables 0014 makes anew.
	for _, q := range []string{
		`INSERT INTO fields (statement_id, pos, name, value) VALUES (3, 1, 'url', 'https://x.example/3.pdf')`,
		`INSERT INTO blobs (sha256, size, data) VALUES ('abc', 4, x'25504446')`,
		`INSERT INTO attachments (statement_id, pos, name, content_type, size, sha256) VALUES (3, 1, 'ls.pdf', 'application/pdf', 4, 'abc')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	var logged strings.Builder
	s, err = OpenLogged(ctx, path, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names, _ := migrations.ReadDir("migrations")
	if got := strings.Count(logged.String(), "applying migration"); got != len(names)-1 {
		t.Errorf("logged %d migrations, want %d:\n%s", got, len(names)-1, logged.String())
	}
	for i := 1; i <= n; i++ {
		var st *Statement
		if err := s.View(ctx, func(tx *Tx) (err error) { st, err = tx.Statement(int64(i)); return err }); err != nil {
			t.Fatalf("LS-%d after upgrade: %v", i, err)
		}
		if want := fmt.Sprintf("Statement number %d on wavelength%dz", i, i); st.Title != want || len(st.To) != 1 || len(st.TechnicalContacts) != 1 {
			t.Errorf("LS-%d after upgrade: %q to %v contacts %v", i, st.Title, st.To, st.TechnicalContacts)
		}
		if got := findRefs(t, s, Query{Text: fmt.Sprintf("wavelength%dz", i)}); got != fmt.Sprintf("LS-%d", i) {
			t.Errorf("search wavelength%dz = %q", i, got)
		}
		var m *OutboxMail
		if err := s.View(ctx, func(tx *Tx) (err error) { m, err = tx.OutboxMail(int64(i)); return err }); err != nil {
			t.Fatalf("outbox mail %d after upgrade: %v", i, err)
		}
		if want := fmt.Sprintf("Subject: mail %d\r\n\r\nbody\r\n", i); string(m.Raw) != want || m.State != OutboxQueued {
			t.Errorf("outbox mail %d after upgrade: %s %q, want queued %q", i, m.State, m.Raw, want)
		}
	}
	if got := findRefs(t, s, Query{Text: "z7"}); got != "LS-7" {
		t.Errorf("search by contact after upgrade = %q, want LS-7", got)
	}
	err = s.View(ctx, func(tx *Tx) error {
		st, err := tx.Statement(3)
		if err != nil {
			return err
		}
		if len(st.URLs) != 1 || st.URLs[0] != "https://x.example/3.pdf" || len(st.Attachments) != 1 || st.Attachments[0].Name != "ls.pdf" {
			t.Errorf("LS-3 after upgrade: urls %v attachments %v", st.URLs, st.Attachments)
		}
		a, err := tx.AttachmentData(3, 1)
		if err != nil || string(a.Data) != "%PDF" {
			t.Errorf("attachment of LS-3 after upgrade: %v, %v", a, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The triggers of the tables made anew keep search in step.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.ReplaceTo(7, []BodyRef{{ID: "teas", Name: "TEAS"}}) }); err != nil {
		t.Fatal(err)
	}
	if got := findRefs(t, s, Query{Text: "teas"}); got != "LS-7" {
		t.Errorf("search by the new addressee after a redirect = %q, want LS-7", got)
	}
	if got := findRefs(t, s, Query{Text: "ietf wavelength7z"}); got != "" {
		t.Errorf("search by the old addressee after a redirect = %q, want none", got)
	}
}

// TestUpgradeFromFTS5Build: a database an earlier build made with FTS5
// (testdata/v5-fts5.db, four statements; built with -tags sqlite_fts5)
// opens in a build without FTS5, keeps its statements and searches them.
func TestUpgradeFromFTS5Build(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	copyFile(t, "testdata/v5-fts5.db", path)
	var logged strings.Builder
	s, err := OpenLogged(ctx, path, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t.Log(logged.String())
	if got := findRefs(t, s, Query{Text: "réseaux"}); got != "LS-4 LS-2" {
		t.Errorf("search réseaux = %q, want LS-4 LS-2", got)
	}
	if got := findRefs(t, s, Query{Text: "otn"}); got != "LS-3 LS-1" {
		t.Errorf("search otn = %q, want LS-3 LS-1", got)
	}
	var bad string
	s.w.QueryRow(`PRAGMA integrity_check`).Scan(&bad)
	if bad != "ok" {
		t.Errorf("integrity_check after upgrade: %s", bad)
	}
	var fts5 int
	s.w.QueryRow(`SELECT count(*) FROM sqlite_master WHERE sql LIKE '%fts5%' OR name LIKE '%_fts_data'`).Scan(&fts5)
	if fts5 != 0 {
		t.Errorf("%d FTS5 schema entries left", fts5)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBackupUnderLoad: a backup taken while writers commit statements is a
// sound database (integrity_check) holding every statement committed before
// the backup began, and each statement in it whole (its addressee too).
func TestBackupUnderLoad(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"},
					To: []BodyRef{{ID: "ccamp", Name: "CCAMP"}}, Title: "Load", Purpose: "action", Submitter: "a@itu.example",
					Assignee: "alice@ccamp.example", ReceivedAt: t0, Body: strings.Repeat("text ", 200)}
				if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertStatement(st) }); err != nil {
					t.Error(err)
					return
				}
				committed.Add(1)
			}
		}()
	}
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		for committed.Load() < int64(50*(i+1)) {
			time.Sleep(time.Millisecond)
		}
		before := committed.Load()
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if _, err := s.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
		}
		b, err := Open(ctx, dest)
		if err != nil {
			t.Fatal(err)
		}
		var check string
		b.w.QueryRow(`PRAGMA integrity_check`).Scan(&check)
		if check != "ok" {
			t.Errorf("backup %d integrity_check: %s", i, check)
		}
		var n, max, whole int64
		b.w.QueryRow(`SELECT count(*), coalesce(max(id), 0) FROM statements`).Scan(&n, &max)
		b.w.QueryRow(`SELECT count(*) FROM statements s JOIN statement_to t ON t.statement_id = s.id`).Scan(&whole)
		if n < before || n != max || whole != n {
			t.Errorf("backup %d: %d statements (max id %d, %d with addressee); %d were committed before it began", i, n, max, whole, before)
		}
		b.Close()
	}
	close(stop)
	wg.Wait()
	if _, err := os.Stat(filepath.Join(dir, "backup-0.db.tmp")); err == nil {
		t.Error("backup left its .tmp file")
	}
}
