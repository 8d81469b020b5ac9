package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestOutboxSharedParts stores the copies of one mail as shared parts and
// their own values, beside a mail kept whole, and reads each back whole:
// due, by id, and with the shared parts stored once.
func TestOutboxSharedParts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	shared := &SharedParts{Parts: [][]byte{[]byte("Reply-To: <"), []byte(">\r\n\r\nWrite to "), []byte(".\r\n"), nil}}
	var ms []*OutboxMail
	for i := range 3 {
		fill := [][]byte{[]byte(fmt.Sprintf("r%d@x", i)), []byte(fmt.Sprintf("r%d@x", i)), []byte(fmt.Sprintf("-- %d", i))}
		ms = append(ms, &OutboxMail{Kind: "notification", Rcpt: fmt.Sprintf("p%d@example.org", i), Shared: shared, Fill: fill, CreatedAt: now})
	}
	ms = append(ms, &OutboxMail{Kind: "receipt", Rcpt: "sub@example.org", Raw: []byte("whole mail\r\n"), CreatedAt: now})
	empty := &SharedParts{Parts: [][]byte{[]byte("no values\r\n")}}
	ms = append(ms, &OutboxMail{Kind: "notification", Rcpt: "q@example.org", Shared: empty, CreatedAt: now})
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutboxMany(ms) }); err != nil {
		t.Fatal(err)
	}
	if want := []byte("Reply-To: <r1@x>\r\n\r\nWrite to r1@x.\r\n-- 1"); !bytes.Equal(ms[1].Bytes(), want) {
		t.Fatalf("Bytes = %q, want %q", ms[1].Bytes(), want)
	}
	// The copies are staged; the sender moves them before it looks.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MoveStaged() }); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx *Tx) error {
		due, err := tx.DueOutbox(now.Add(time.Minute), 10)
		if err != nil {
			return err
		}
		if len(due) != len(ms) {
			return fmt.Errorf("%d due, want %d", len(due), len(ms))
		}
		for i, m := range due {
			if !bytes.Equal(m.Raw, ms[i].Bytes()) {
				t.Errorf("due %d: %q, want %q", i, m.Raw, ms[i].Bytes())
			}
			one, err := tx.OutboxMail(m.ID)
			if err != nil {
				return err
			}
			if !bytes.Equal(one.Raw, ms[i].Bytes()) {
				t.Errorf("mail %d: %q, want %q", m.ID, one.Raw, ms[i].Bytes())
			}
		}
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM outbox_shared`).Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			t.Errorf("%d shared rows, want 2 (one per mail made of shared parts)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := &OutboxMail{Kind: "notification", Rcpt: "z@example.org", Shared: shared, Fill: [][]byte{[]byte("one")}, CreatedAt: now}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutbox(bad) }); err == nil {
		t.Error("a mail with too few values for its shared parts was queued")
	}
}

func TestDecodePartsDamaged(t *testing.T) {
	for _, b := range [][]byte{{0x05, 'a'}, {0xff}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}} {
		if _, err := decodeParts(b); err == nil {
			t.Errorf("decodeParts(%x) = nil error", b)
		}
	}
	p, err := decodeParts(encodeParts([][]byte{nil, []byte("ab"), nil}))
	if err != nil || len(p) != 3 || string(p[1]) != "ab" || len(p[0]) != 0 {
		t.Errorf("round trip: %q, %v", p, err)
	}
}

// TestOutboxFillInRow: a copy made of shared parts is one outbox row with
// its values in it (0023), and no outbox_raw row; a mail kept whole keeps
// its bytes in outbox_raw.
func TestOutboxFillInRow(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	shared := &SharedParts{Parts: [][]byte{[]byte("To: <"), []byte(">\r\n\r\nhello\r\n")}}
	ms := []*OutboxMail{
		{Kind: "notification", Rcpt: "a@example.org", Shared: shared, Fill: [][]byte{[]byte("a@example.org")}, CreatedAt: now},
		{Kind: "notification", Rcpt: "b@example.org", Shared: shared, Fill: [][]byte{[]byte("b@example.org")}, CreatedAt: now},
		{Kind: "receipt", Rcpt: "c@example.org", Raw: []byte("whole\r\n"), CreatedAt: now},
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertOutboxMany(ms) }); err != nil {
		t.Fatal(err)
	}
	countRows := func(table string) (rows, withFill int) {
		t.Helper()
		if err := s.View(ctx, func(tx *Tx) error {
			return tx.queryRow(`SELECT count(*), count(fill) FROM `+table).Scan(&rows, &withFill)
		}); err != nil {
			t.Fatal(err)
		}
		return rows, withFill
	}
	// The copies are staged (0024), in one row, with the receipt (0025).
	var stagedRows, stagedCopies int
	if err := s.View(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT count(*), coalesce(sum(copies), 0) FROM outbox_staged`).Scan(&stagedRows, &stagedCopies)
	}); err != nil {
		t.Fatal(err)
	}
	if stagedRows != 1 || stagedCopies != 3 {
		t.Errorf("%d staged rows of %d mails; want 1 of 3", stagedRows, stagedCopies)
	}
	if rows, _ := countRows("outbox"); rows != 0 {
		t.Errorf("%d outbox rows before the move, want 0", rows)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MoveStaged() }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT count(*) FROM outbox_staged`).Scan(&stagedRows)
	}); err != nil || stagedRows != 0 {
		t.Errorf("%d staged rows after the move, want 0 (%v)", stagedRows, err)
	}
	err := s.View(ctx, func(tx *Tx) error {
		var rows, raws, withFill int
		if err := tx.queryRow(`SELECT count(*), count(fill) FROM outbox`).Scan(&rows, &withFill); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT count(*) FROM outbox_raw`).Scan(&raws); err != nil {
			return err
		}
		if rows != 3 || withFill != 2 || raws != 1 {
			t.Errorf("%d outbox rows, %d with their values, %d outbox_raw rows; want 3, 2, 1", rows, withFill, raws)
		}
		for _, m := range ms {
			got, err := tx.OutboxMail(m.ID)
			if err != nil {
				return err
			}
			if !bytes.Equal(got.Raw, m.Bytes()) {
				t.Errorf("mail %d: %q, want %q", m.ID, got.Raw, m.Bytes())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutboxCopiesQueuedBefore0023: copies queued as 0015 stored them (an
// outbox_raw row naming the shared parts) are read whole after 0023, and
// the sender's state changes leave them whole.
func TestOutboxCopiesQueuedBefore0023(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w := migratedBefore(t, path, "0023")
	at := fmtTime(t0)
	for _, q := range []string{
		`INSERT INTO outbox_shared (id, parts) VALUES (1, x'` + fmt.Sprintf("%x", encodeParts([][]byte{[]byte("To: <"), []byte(">\r\n\r\nold\r\n")})) + `')`,
		`INSERT INTO outbox (id, kind, envelope_from, rcpt, from_addr, subject, message_id, next_attempt, created_at) VALUES (1, 'notification', 'b@x', 'a@example.org', 'f@x', 'S', 'm1@x', '` + at + `', '` + at + `')`,
		`INSERT INTO outbox (id, kind, envelope_from, rcpt, from_addr, subject, message_id, next_attempt, created_at) VALUES (2, 'receipt', 'b@x', 'c@example.org', 'f@x', 'S', 'm2@x', '` + at + `', '` + at + `')`,
		`INSERT INTO outbox_raw (id, raw, shared_id) VALUES (1, x'` + fmt.Sprintf("%x", encodeParts([][]byte{[]byte("a@example.org")})) + `', 1)`,
		`INSERT INTO outbox_raw (id, raw) VALUES (2, CAST('whole' AS BLOB))`,
	} {
		if _, err := w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[int64]string{1: "To: <a@example.org>\r\n\r\nold\r\n", 2: "whole"}
	check := func(when string) {
		t.Helper()
		err := s.View(ctx, func(tx *Tx) error {
			for id, w := range want {
				m, err := tx.OutboxMail(id)
				if err != nil {
					return err
				}
				if string(m.Raw) != w {
					t.Errorf("%s: mail %d = %q, want %q", when, id, m.Raw, w)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("after the upgrade")
	var claimed []*OutboxMail
	if err := s.Update(ctx, func(tx *Tx) (err error) { claimed, err = tx.ClaimDueOutbox(t0.Add(time.Hour), 10); return err }); err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 2 || string(claimed[0].Raw) != want[1] || string(claimed[1].Raw) != want[2] {
		t.Errorf("claimed %d mails: %v", len(claimed), claimed)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MarkSent(1, t0.Add(time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	check("after sending")
}
