package store

import (
	"bytes"
	"context"
	"fmt"
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
