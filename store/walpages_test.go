package store

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSearchIndexFollowsChanges: one search index holds a statement's
// title, body and parties (migration 0017: search_fts, FTS3, in place of
// statements_fts and parties_fts), and stays in step with the statements
// when a title, body or party changes and when a statement is deleted
// (the FTS integrity-check compares the index with the text it holds).
func TestSearchIndexFollowsChanges(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mk := func(title, body string) *Statement {
		return &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"},
			To: []BodyRef{{ID: "ccamp", Name: "CCAMP"}}, Title: title, Purpose: "action", Submitter: "a@itu.example",
			Assignee: "alice@ccamp.example", ReceivedAt: t0, Body: body}
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		third := mk("Routing", "segment lists")
		third.TechnicalContacts = []Contact{{Name: "Zoë Müller", Addr: "zm@op.example"}}
		for _, st := range []*Statement{mk("Optical control", "wavelength switching"), mk("Timing", "clock synchronization"), third} {
			if err := tx.InsertStatement(st); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var tables string
	if err := s.View(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT group_concat(name, ' ') FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'`).Scan(&tables)
	}); err != nil || tables != "search_fts" {
		t.Errorf("full-text tables %q (%v), want search_fts alone", tables, err)
	}
	integrity := func(when string) {
		t.Helper()
		if err := s.Update(ctx, func(tx *Tx) error {
			_, err := tx.exec(`INSERT INTO search_fts (search_fts) VALUES ('integrity-check')`)
			return err
		}); err != nil {
			t.Errorf("%s: the search index is out of step: %v", when, err)
		}
	}
	integrity("after insert")
	// FTS3 folds diacritics as FTS4 did.
	if got := findRefs(t, s, Query{Text: "zoe muller"}); got != "LS-3" {
		t.Errorf("search zoe muller = %q, want LS-3", got)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE statements SET title = 'Quantum control', body = 'entangled photons' WHERE id = 1`); err != nil {
			return err
		}
		// A change of other columns leaves the index as it is.
		if _, err := tx.exec(`UPDATE statements SET state = 'closed', status_line = 'done' WHERE id = 2`); err != nil {
			return err
		}
		if err := tx.SetAssignee(2, "bob@ccamp.example"); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM statement_to WHERE statement_id = 3`, `DELETE FROM contacts WHERE statement_id = 3`, `DELETE FROM statements WHERE id = 3`} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	integrity("after update and delete")
	for q, want := range map[string]string{"optical": "", "wavelength": "", "quantum": "LS-1", "photons": "LS-1",
		"clock": "LS-2", "routing": "", "segment": "", "zoe": "", "ccamp": "LS-2 LS-1", "bob": "LS-2", "alice": "LS-1"} {
		if got := findRefs(t, s, Query{Text: q}); got != want {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
}

// stateIndexSearch is a plan step that finds statements by state in an
// index (statements_state or statements_open).
var stateIndexSearch = regexp.MustCompile(`SEARCH (s|statements) USING (COVERING )?INDEX statements_\w+ \(state=\?`)

// TestReminderScansUseIndex: the scheduler's scans of the open incoming
// statements read them through an index on state, not the whole table
// now that statements_open_incoming is gone (migration 0018).
func TestReminderScansUseIndex(t *testing.T) {
	s := openTest(t)
	err := s.View(context.Background(), func(tx *Tx) error {
		var missing int
		if err := tx.queryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'statements_open_incoming'`).Scan(&missing); err != nil {
			return err
		}
		if missing != 0 {
			t.Errorf("statements_open_incoming is still there: a page more per new statement")
		}
		for name, q := range map[string]struct {
			sql  string
			args []any
		}{
			"EachReminderCandidate": {reminderCandidatesQuery, []any{Incoming, StateOpen}},
			"OverdueStatements":     {overdueStatementsQuery, []any{Incoming, StateOpen, "2027-01-01"}},
			"PlanNewStatements":     {planNewStatementsQuery, []any{Incoming, StateOpen}},
		} {
			p, err := queryPlan(tx, q.sql, q.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if !stateIndexSearch.MatchString(p) {
				t.Errorf("%s does not find the open statements through an index on state: %s", name, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMessageRawBeforeAndAfter0019: a message of ordinary size is kept in
// message_raw under its id, not in pieces; one stored in pieces before
// migration 0019, and one larger than a piece, read back whole too.
func TestMessageRawBeforeAndAfter0019(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sizes := []int{54 * 1024, pieceSize, pieceSize + 1}
	raws := make([][]byte, len(sizes)+1)
	ids := make([]int64, len(sizes)+1)
	err := s.Update(ctx, func(tx *Tx) error {
		for i, size := range sizes {
			raws[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
			var err error
			if ids[i], _, err = tx.InsertMessage(&Message{ReceivedAt: t0, Source: "smtp", Identity: fmt.Sprint("m", i), SHA256: "s", Raw: raws[i]}); err != nil {
				return err
			}
		}
		// As stored before 0019: an empty row, the bytes in pieces.
		old := len(sizes)
		raws[old] = bytes.Repeat([]byte("old "), 10000)
		res, err := tx.exec(`INSERT INTO messages (received_at, source, identity, sha256, size, raw) VALUES (?, 'smtp', 'old', 's', ?, x'')`, fmtTime(t0), len(raws[old]))
		if err != nil {
			return err
		}
		if ids[old], err = res.LastInsertId(); err != nil {
			return err
		}
		return tx.putPieces(messageKey(ids[old]), raws[old])
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		for i, id := range ids {
			m, err := tx.Message(id)
			if err != nil {
				return err
			}
			if !bytes.Equal(m.Raw, raws[i]) {
				t.Errorf("message %d: read back %d bytes, want %d", i, len(m.Raw), len(raws[i]))
			}
			var inRaw, inPieces int
			if err := tx.queryRow(`SELECT (SELECT count(*) FROM message_raw WHERE id = ?), (SELECT count(*) FROM pieces WHERE key = ?)`, id, messageKey(id)).Scan(&inRaw, &inPieces); err != nil {
				return err
			}
			if wantRaw := i < len(sizes) && sizes[i] <= pieceSize; (inRaw == 1) != wantRaw || (inPieces > 0) == wantRaw {
				t.Errorf("message %d: %d rows in message_raw, %d pieces; want message_raw %v", i, inRaw, inPieces, wantRaw)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutboxHeadersOnce: the copies of one mail queued together store
// their From, To, Cc and Subject once (migration 0020) and each reads
// them back as its own, through every way the outbox is read; a mail with
// other headers in the same call keeps its own.
func TestOutboxHeadersOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mk := func(rcpt string) *OutboxMail {
		return &OutboxMail{Kind: "notification", EnvelopeFrom: "b@l.example", Rcpt: rcpt, From: "s@l.example",
			To: []string{"ccamp@ietf.example", "mpls@ietf.example"}, Cc: []string{"chair@itu.example"},
			Subject: "New liaison statement LS-1", MessageID: "n-" + rcpt, Raw: []byte("mail to " + rcpt), CreatedAt: t0}
	}
	receipt := &OutboxMail{Kind: "receipt", EnvelopeFrom: "b@l.example", Rcpt: "rapp@itu.example", From: "s@l.example",
		To: []string{"rapp@itu.example"}, Subject: "Received: LS-1", MessageID: "r-1", Raw: []byte("receipt"), CreatedAt: t0}
	var want []*OutboxMail
	err := s.Update(ctx, func(tx *Tx) error {
		// Something queued before, so that the ids do not start at 1.
		if err := tx.InsertOutbox(mk("earlier@x.example")); err != nil {
			return err
		}
		want = []*OutboxMail{mk("a@x.example"), mk("b@x.example"), receipt, mk("c@x.example")}
		if err := tx.InsertOutboxMany(want); err != nil {
			return err
		}
		return tx.MarkSent(want[1].ID, t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	same := func(how string, got, w *OutboxMail) {
		t.Helper()
		if got.ID != w.ID || got.Rcpt != w.Rcpt || got.From != w.From || got.Subject != w.Subject ||
			strings.Join(got.To, ",") != strings.Join(w.To, ",") || strings.Join(got.Cc, ",") != strings.Join(w.Cc, ",") {
			t.Errorf("%s: mail %d to %s reads %q %v %v %q, want %d %q %v %v %q", how, got.ID, got.Rcpt, got.From, got.To, got.Cc, got.Subject,
				w.ID, w.From, w.To, w.Cc, w.Subject)
		}
	}
	// The copies were staged (0024); the sender moves them before it looks.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MoveStaged() }); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		list, err := tx.Outbox(OutboxFilter{})
		if err != nil {
			return err
		}
		if len(list) != 5 {
			t.Fatalf("%d mails in the outbox, want 5", len(list))
		}
		for i, w := range want {
			if want[i].ID != list[i+1].ID {
				t.Errorf("mail %d has id %d, want the order queued (%d)", i, w.ID, list[i+1].ID)
			}
			same("Outbox", list[i+1], w)
			m, err := tx.OutboxMail(w.ID)
			if err != nil {
				return err
			}
			same("OutboxMail", m, w)
			if string(m.Raw) != string(w.Raw) {
				t.Errorf("mail %d: raw %q, want %q", w.ID, m.Raw, w.Raw)
			}
			m, err = tx.OutboxByMessageID(w.MessageID)
			if err != nil {
				return err
			}
			same("OutboxByMessageID", m, w)
		}
		due, err := tx.DueOutbox(t0, 10)
		if err != nil {
			return err
		}
		if len(due) != 4 {
			t.Errorf("%d mails due, want 4 (one is sent)", len(due))
		}
		for _, m := range due[1:] {
			for _, w := range want {
				if w.ID == m.ID {
					same("DueOutbox", m, w)
				}
			}
		}
		// Stored once per call and headers: the earlier mail, the first
		// copy of this call and the receipt.
		var holders int
		if err := tx.queryRow(`SELECT count(*) FROM outbox WHERE headers_of IS NULL AND subject != ''`).Scan(&holders); err != nil {
			return err
		}
		if holders != 3 {
			t.Errorf("%d rows hold their headers, want 3", holders)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatementsSinceWithoutReceivedIndex: the submission rate counts the
// statements received since a time that were not held, of every state
// (one the store does not know included), through statements_state now
// that statements_received is gone (migration 0021).
func TestStatementsSinceWithoutReceivedIndex(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		for i, state := range []string{StateOpen, StateClosed, StatePending, StateHeld, StateRejected, "archived", StateOpen, StateHeld} {
			st := &Statement{Direction: Incoming, State: state, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "information",
				Submitter: fmt.Sprintf("s%d@itu.example", i%2), Assignee: "a@ietf.example", ReceivedAt: t0.Add(time.Duration(i) * time.Minute)}
			if err := tx.InsertStatement(st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		for _, c := range []struct {
			submitter string
			since     time.Duration
			want      int
		}{
			{"", 0, 6},               // all but the two held
			{"", 3 * time.Minute, 3}, // rejected, archived, open (held at 3 and 7 not)
			{"", 8 * time.Minute, 0}, // none since
			{"s1@itu.example", 0, 4}, // the per-sender count keeps held ones
			{"s0@itu.example", 5 * time.Minute, 1},
		} {
			n, err := tx.StatementsSince(c.submitter, t0.Add(c.since))
			if err != nil {
				return err
			}
			if n != c.want {
				t.Errorf("StatementsSince(%q, +%v) = %d, want %d", c.submitter, c.since, n, c.want)
			}
		}
		var gone int
		if err := tx.queryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'statements_received'`).Scan(&gone); err != nil {
			return err
		}
		if gone != 0 {
			t.Errorf("statements_received is still there: a page more per new statement")
		}
		p, err := queryPlan(tx, recentStatementsQuery, fmtTime(t0), StateHeld)
		if err != nil {
			return err
		}
		if !strings.Contains(p, "INDEX statements_state (state=? AND received_at>?)") || strings.Contains(p, "SCAN statements") {
			t.Errorf("the submission rate does not count through statements_state: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
