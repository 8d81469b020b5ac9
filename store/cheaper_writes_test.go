package store

import (
	"context"
	"database/sql/driver"
	"strings"
	"testing"
	"time"
)

// TestRepliesSinceUsesPartialIndex: the answer rate counts the answer
// kinds of one recipient through outbox_rcpt, which holds only those
// (migration 0014), and still counts right.
func TestRepliesSinceUsesPartialIndex(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		for i, kind := range []string{"receipt", "notification", "error", "notification", "help", "tickler"} {
			m := &OutboxMail{Kind: kind, EnvelopeFrom: "b@l.example", Rcpt: "rapp@itu.example", From: "s@l.example", Subject: "s",
				MessageID: kind + string(rune('a'+i)) + "@l.example", Raw: []byte("x"), CreatedAt: t0}
			if err := tx.InsertOutbox(m); err != nil {
				return err
			}
		}
		return tx.InsertOutbox(&OutboxMail{Kind: "receipt", EnvelopeFrom: "b@l.example", Rcpt: "other@itu.example", From: "s@l.example",
			Subject: "s", MessageID: "o@l.example", Raw: []byte("x"), CreatedAt: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		n, err := tx.RepliesSince("rapp@itu.example", AnswerKinds, t0.Add(-time.Hour))
		if err != nil {
			return err
		}
		if n != 3 {
			t.Errorf("RepliesSince = %d, want 3 (receipt, error, help)", n)
		}
		if n, err := tx.RepliesSince("rapp@itu.example", []string{"notification", "tickler"}, t0.Add(-time.Hour)); err != nil || n != 3 {
			t.Errorf("RepliesSince(other kinds) = %d, %v; want 3", n, err)
		}
		if n, err := tx.RepliesSince("rapp@itu.example", AnswerKinds, t0.Add(time.Minute)); err != nil || n != 0 {
			t.Errorf("RepliesSince(later) = %d, %v; want 0", n, err)
		}
		p, err := queryPlan(tx, repliesSinceQuery(AnswerKinds), "rapp@itu.example", fmtTime(t0))
		if err == nil && !strings.Contains(p, "INDEX outbox_rcpt") {
			t.Errorf("the answer rate does not use outbox_rcpt: %s", p)
		}
		if err == nil && !strings.Contains(p, "COVERING INDEX outbox_staged_answers") {
			t.Errorf("the answer rate does not count staged answers from outbox_staged_answers alone (0025, 0027): %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriterTempStoreMemory: the writer's connections keep statement
// journals (group commit's savepoints) in memory, a connection opened
// again included.
func TestWriterTempStoreMemory(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for range 2 {
		var mode int
		if err := s.w.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Errorf("temp_store = %d on the writer, want 2 (memory)", mode)
		}
		// Throw the connection away: the pool opens another.
		conn, err := s.w.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}
}

// TestRemindersSentUsesPartialIndex: the count of reminders sent (for
// /metrics) reads outbox_reminders, which holds the tickler mails alone
// (migration 0016), and counts right.
func TestRemindersSentUsesPartialIndex(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		for i, kind := range []string{"tickler", "tickler", "notification", "tickler", "receipt"} {
			m := &OutboxMail{Kind: kind, EnvelopeFrom: "b@l.example", Rcpt: "x@itu.example", From: "s@l.example", Subject: "s",
				MessageID: kind + string(rune('a'+i)) + "@l.example", Raw: []byte("x"), CreatedAt: t0}
			if err := tx.InsertOutbox(m); err != nil {
				return err
			}
			if i != 1 { // the second reminder stays queued
				if err := tx.MarkSent(m.ID, t0); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		if n, err := tx.RemindersSent(); err != nil || n != 2 {
			t.Errorf("RemindersSent = %d, %v; want 2", n, err)
		}
		p, err := queryPlan(tx, remindersSentQuery)
		if err == nil && !strings.Contains(p, "INDEX outbox_reminders") {
			t.Errorf("the count of reminders sent does not use outbox_reminders: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// queryPlan is SQLite's plan for query, its steps joined by "; ".
func queryPlan(tx *Tx, query string, args ...any) (string, error) {
	rows, err := tx.query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; "), rows.Err()
}
