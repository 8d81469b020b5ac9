package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestGroupMemberWrittenEvents: each member of a group commit sees, in its
// Tx, only the events it wrote itself, in order; a member that fails after
// composing mail from them takes its events and their mails with it, and
// the others commit theirs (DESIGN 10: the mails are composed at the end
// of each message's apply, from the events it wrote).
func TestGroupMemberWrittenEvents(t *testing.T) {
	s := openTest(t)
	const n = 3
	const failing = 1
	seen := make([][]string, n)
	fns := make([]func(tx *Tx) error, n)
	for i := range fns {
		fns[i] = func(tx *Tx) error {
			if err := insertMsg(i)(tx); err != nil {
				return err
			}
			for j := range 2 {
				if err := tx.InsertEvent(&Event{Type: EventSubmitted, By: fmt.Sprintf("m%d", i), Text: fmt.Sprintf("e%d", j)}); err != nil {
					return err
				}
			}
			// The end of the member's apply: one mail per event written.
			for _, ev := range tx.WrittenEvents() {
				seen[i] = append(seen[i], ev.By+"/"+ev.Text)
				if err := tx.InsertOutbox(&OutboxMail{EventID: ev.ID, Kind: "notification", Rcpt: ev.By + "@x", Raw: []byte("x"), CreatedAt: t0}); err != nil {
					return err
				}
			}
			if tx.QueuedMails() != 2 {
				return fmt.Errorf("member %d: %d mails queued, want 2", i, tx.QueuedMails())
			}
			if i == failing {
				return errors.New("this member fails after composing")
			}
			return nil
		}
	}
	errs := groupRun(t, s, backgrounds(n), fns)
	for i, err := range errs[:n] {
		if (err != nil) != (i == failing) {
			t.Errorf("member %d: %v", i, err)
		}
	}
	for i := range n {
		want := []string{fmt.Sprintf("m%d/e0", i), fmt.Sprintf("m%d/e1", i)}
		if !slices.Equal(seen[i], want) {
			t.Errorf("member %d composed from %v, want %v", i, seen[i], want)
		}
	}
	var events, mails []string
	if err := s.View(t.Context(), func(tx *Tx) error {
		rows, err := tx.query(`SELECT e.by, count(o.id) FROM events e LEFT JOIN outbox o ON o.event_id = e.id GROUP BY e.id ORDER BY e.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var by string
			var k int
			if err := rows.Scan(&by, &k); err != nil {
				return err
			}
			events = append(events, by)
			mails = append(mails, fmt.Sprintf("%s:%d", by, k))
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	// The members run in the order they queued, which the test leaves open.
	slices.Sort(events)
	slices.Sort(mails)
	if want := []string{"m0", "m0", "m2", "m2"}; !slices.Equal(events, want) {
		t.Errorf("committed events by %v, want %v (the failed member's rolled back)", events, want)
	}
	if want := []string{"m0:1", "m0:1", "m2:1", "m2:1"}; !slices.Equal(mails, want) {
		t.Errorf("mails per event %v, want %v", mails, want)
	}
	var orphans int
	if err := s.View(t.Context(), func(tx *Tx) error {
		return tx.queryRow(`SELECT count(*) FROM outbox WHERE rcpt = 'm1@x'`).Scan(&orphans)
	}); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d mails of the rolled-back member were committed", orphans)
	}
}
