package store

import (
	"context"
	"testing"
	"time"
)

// TestSearchIndexedAfterTheWrite: a new statement is named in
// search_pending, not indexed, by its own transaction (0026); IndexPending
// indexes it, once, with its text as it is by then (a trigger that indexed
// it early included), and a search that indexes first finds it at once.
func TestSearchIndexedAfterTheWrite(t *testing.T) {
	s := openTest(t)
	s.stopIndexer() // this test indexes by hand
	ctx := context.Background()
	counts := func() (pending, indexed int) {
		t.Helper()
		if err := s.View(ctx, func(tx *Tx) error {
			if err := tx.queryRow(`SELECT count(*) FROM search_pending`).Scan(&pending); err != nil {
				return err
			}
			return tx.queryRow(`SELECT count(*) FROM search_fts`).Scan(&indexed)
		}); err != nil {
			t.Fatal(err)
		}
		return pending, indexed
	}
	insert := func(title string) {
		t.Helper()
		st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"}, Title: title,
			Purpose: "action", Submitter: "a@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0, Body: "wavelength"}
		if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertStatement(st) }); err != nil {
			t.Fatal(err)
		}
	}
	insert("Optical control")
	insert("Photonic layer")
	if p, n := counts(); p != 2 || n != 0 {
		t.Fatalf("after the inserts: %d pending, %d indexed; want 2 and 0", p, n)
	}
	// A change to a pending statement's title indexes it through the
	// trigger (0017); IndexPending indexes it again, not twice.
	if err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`UPDATE statements SET title = 'Quantum control' WHERE id = 1`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if p, n := counts(); p != 0 || n != 2 {
		t.Fatalf("after IndexPending: %d pending, %d indexed; want 0 and 2", p, n)
	}
	for q, want := range map[string]string{"quantum": "LS-1", "optical": "", "photonic": "LS-2", "wavelength": "LS-2 LS-1"} {
		if got := findRefs(t, s, Query{Text: q}); got != want {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO search_fts (search_fts) VALUES ('integrity-check')`)
		return err
	}); err != nil {
		t.Errorf("the search index is out of step: %v", err)
	}
	// A search finds a statement stored a moment ago: it indexes first.
	insert("Flexible grid")
	if got := findRefs(t, s, Query{Text: "flexible"}); got != "LS-3" {
		t.Errorf("search right after the insert = %q, want LS-3", got)
	}
	// In batches of indexBatch.
	for range indexBatch + 5 {
		insert("Many")
	}
	if err := s.IndexPending(ctx); err != nil {
		t.Fatal(err)
	}
	if p, n := counts(); p != 0 || n != 3+indexBatch+5 {
		t.Errorf("after a large IndexPending: %d pending, %d indexed; want 0 and %d", p, n, 3+indexBatch+5)
	}
}

// TestSearchIndexerRuns: the Store's indexer indexes a new statement by
// itself, with no search asking.
func TestSearchIndexerRuns(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "action",
		Submitter: "a@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0}
	if err := s.UpdateGrouped(ctx, func(tx *Tx) error { return tx.InsertStatement(st) }); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var pending int
		if err := s.View(ctx, func(tx *Tx) error {
			return tx.queryRow(`SELECT count(*) FROM search_pending`).Scan(&pending)
		}); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the indexer left the statement pending for 30 s")
		}
	}
}
