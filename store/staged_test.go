package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// stagedNotification is a notification's copies to n people about st, made
// of shared parts, with the headers they share.
func stagedNotification(st int64, n int, now time.Time) []*OutboxMail {
	shared := &SharedParts{Parts: [][]byte{[]byte("Subject: LS\r\nTo: <"), []byte(">\r\n\r\nhello\r\n")}}
	var ms []*OutboxMail
	for i := range n {
		rcpt := fmt.Sprintf("p%d-%d@example.org", st, i)
		ms = append(ms, &OutboxMail{StatementID: st, Kind: "notification", Rcpt: rcpt, From: "ls@example.org", To: []string{"wg@example.org"},
			Subject: "LS", MessageID: fmt.Sprintf("n%d.%d@example.org", st, i), Shared: shared, Fill: [][]byte{[]byte(rcpt)}, CreatedAt: now})
	}
	return ms
}

// TestStagedCopies: a notification's copies are staged (0024) beside a
// receipt queued straight into outbox; every reader of the outbox sees them
// as queued mails with their final ids before they move; the sender's claim
// moves them (a batch at a time, holders of shared headers first) and sends
// them with the bytes they were queued with; the lookups of a recipient and
// of a Message-ID find a copy that was still staged.
func TestStagedCopies(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := t0
	var sts []int64
	var copies, receipts []*OutboxMail
	err := s.Update(ctx, func(tx *Tx) error {
		for range 3 {
			st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "information",
				Submitter: "s@itu.example", Assignee: "a@ietf.example", ReceivedAt: now}
			if err := tx.InsertStatement(st); err != nil {
				return err
			}
			sts = append(sts, st.ID)
			ms := append(stagedNotification(st.ID, 4, now),
				&OutboxMail{StatementID: st.ID, Kind: "receipt", Rcpt: "s@itu.example", From: "ls@example.org", Subject: "Received",
					MessageID: fmt.Sprintf("r%d@example.org", st.ID), Raw: []byte("receipt\r\n"), CreatedAt: now})
			if err := tx.InsertOutboxMany(ms); err != nil {
				return err
			}
			copies, receipts = append(copies, ms[:4]...), append(receipts, ms[4])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		var n int
		if err := s.View(ctx, func(tx *Tx) error { return tx.queryRow(query).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const stagedCopies, stagedRows, outboxRows = `SELECT coalesce(sum(copies), 0) FROM outbox_staged`, `SELECT count(*) FROM outbox_staged`, `SELECT count(*) FROM outbox`
	// Each receipt is staged with its notification (0025).
	if staged, rows, direct := count(stagedCopies), count(stagedRows), count(outboxRows); staged != 15 || rows != 3 || direct != 0 {
		t.Fatalf("%d mails in %d staged rows and %d outbox rows, want 15 in 3 and 0", staged, rows, direct)
	}
	// Ids are one sequence over both tables, in the order queued.
	for i, m := range copies[1:] {
		if m.ID <= copies[i].ID {
			t.Errorf("copy ids not increasing: %d after %d", m.ID, copies[i].ID)
		}
	}

	err = s.View(ctx, func(tx *Tx) error {
		counts, err := tx.OutboxCounts()
		if err != nil {
			return err
		}
		if counts[OutboxQueued] != 15 {
			t.Errorf("OutboxCounts = %v, want 15 queued", counts)
		}
		next, queued, err := tx.NextOutboxAttempt()
		if err != nil {
			return err
		}
		if !queued || !next.Equal(now) {
			t.Errorf("NextOutboxAttempt = %v, %v; want %v, true", next, queued, now)
		}
		list, err := tx.Outbox(OutboxFilter{StatementID: sts[1]})
		if err != nil {
			return err
		}
		if len(list) != 5 || list[0].ID != copies[4].ID || list[4].Kind != "receipt" {
			t.Fatalf("Outbox(LS-%d) = %d mails, want the 4 copies then the receipt", sts[1], len(list))
		}
		for i, m := range list[:4] {
			want := copies[4+i]
			if m.Rcpt != want.Rcpt || m.Subject != "LS" || m.From != "ls@example.org" || len(m.To) != 1 || m.State != OutboxQueued {
				t.Errorf("listed copy %d: %+v", i, m)
			}
			one, err := tx.OutboxMail(m.ID)
			if err != nil {
				return err
			}
			if !bytes.Equal(one.Raw, want.Bytes()) {
				t.Errorf("OutboxMail(%d) = %q, want %q", m.ID, one.Raw, want.Bytes())
			}
		}
		// A staged receipt is read whole, before the move too.
		for _, w := range receipts {
			m, err := tx.OutboxMail(w.ID)
			if err != nil {
				return err
			}
			if m.Kind != "receipt" || m.Subject != "Received" || string(m.Raw) != "receipt\r\n" {
				t.Errorf("staged receipt %d: %s %q %q", w.ID, m.Kind, m.Subject, m.Raw)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A move bounded below one notification's copies moves one
	// notification, whole, with its receipt.
	err = s.Update(ctx, func(tx *Tx) error {
		n, err := tx.moveStaged(2)
		if err != nil || n != 5 {
			return fmt.Errorf("moveStaged(2) = %d, %v; want 5", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if staged := count(stagedCopies); staged != 10 {
		t.Fatalf("%d staged after moving one notification, want 10", staged)
	}
	// A recipient's copy counts while staged, and the lookup moves it.
	err = s.Update(ctx, func(tx *Tx) error {
		was, err := tx.WasRecipient(sts[2], copies[9].Rcpt)
		if err != nil || !was {
			return fmt.Errorf("WasRecipient(staged copy) = %v, %v", was, err)
		}
		m, err := tx.OutboxByMessageID(copies[10].MessageID)
		if err != nil || m.ID != copies[10].ID {
			return fmt.Errorf("OutboxByMessageID(staged copy) = %v, %v", m, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if staged, direct, raws := count(stagedCopies), count(outboxRows), count(`SELECT count(*) FROM outbox_raw`); staged != 0 || direct != 15 || raws != 3 {
		t.Fatalf("%d staged, %d outbox rows and %d outbox_raw rows after the lookups, want 0, 15 and 3 (the receipts' bytes)", staged, direct, raws)
	}

	// Staged again, then claimed: the claim moves them first.
	var more []*OutboxMail
	err = s.Update(ctx, func(tx *Tx) error {
		more = stagedNotification(sts[0], 3, now.Add(time.Minute))
		for _, m := range more {
			m.MessageID = "again." + m.MessageID
		}
		return tx.InsertOutboxMany(more)
	})
	if err != nil {
		t.Fatal(err)
	}
	var due []*OutboxMail
	if err := s.Update(ctx, func(tx *Tx) error {
		var err error
		due, err = tx.ClaimDueOutbox(now.Add(time.Hour), 100)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(due) != 18 {
		t.Fatalf("claimed %d mails, want 18", len(due))
	}
	byID := map[int64]*OutboxMail{}
	for _, m := range append(copies, more...) {
		byID[m.ID] = m
	}
	for _, m := range due {
		if w, ok := byID[m.ID]; ok && (!bytes.Equal(m.Raw, w.Bytes()) || m.Rcpt != w.Rcpt || m.Subject != "LS") {
			t.Errorf("claimed mail %d: %q to %s, want %q to %s", m.ID, m.Raw, m.Rcpt, w.Bytes(), w.Rcpt)
		}
		if m.Kind == "receipt" && string(m.Raw) != "receipt\r\n" {
			t.Errorf("claimed receipt %d: %q", m.ID, m.Raw)
		}
	}
	if staged := count(stagedRows); staged != 0 {
		t.Errorf("%d staged rows after the claim, want 0", staged)
	}
}

// TestDecodeStagedDamaged: a staged row that does not decode is an error,
// not a panic nor mails made up; one that does comes back as written.
func TestDecodeStagedDamaged(t *testing.T) {
	now := t0
	rows := []outboxRow{
		{id: 7, statementID: 3, eventID: 9, kind: "notification", envelopeFrom: "b@x", rcpt: "a@x", from: "ls@x", to: []string{"wg@x", "c@x"},
			subject: "S", messageID: "m1@x", state: OutboxQueued, next: now, created: now, sharedID: 2, fill: []byte{1, 'a'}},
		{id: 8, statementID: 3, eventID: 9, kind: "notification", envelopeFrom: "b@x", rcpt: "b@x", from: "ls@x", to: []string{"wg@x", "c@x"},
			subject: "S", messageID: "m2@x", state: OutboxQueued, next: now.Add(time.Minute), created: now, sharedID: 2, fill: []byte{1, 'b'}},
		{id: 9, statementID: 3, eventID: 9, kind: "notification", envelopeFrom: "b@x", rcpt: "d@x", from: "ls@x", to: []string{"d@x"},
			subject: "S", messageID: "m3@x", state: OutboxQueued, next: now, created: now, sharedID: 2},
	}
	enc := encodeStaged(rows)
	got, err := decodeStaged(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows back, want %d", len(got), len(rows))
	}
	for i := range rows {
		w, g := rows[i], got[i]
		if g.id != w.id || g.statementID != w.statementID || g.eventID != w.eventID || g.kind != w.kind || g.envelopeFrom != w.envelopeFrom ||
			g.rcpt != w.rcpt || g.from != w.from || g.subject != w.subject || fmt.Sprint(g.to) != fmt.Sprint(w.to) || len(g.cc) != 0 ||
			g.messageID != w.messageID || !g.next.Equal(w.next) || !g.created.Equal(w.created) || g.sharedID != w.sharedID ||
			!bytes.Equal(g.fill, w.fill) || g.state != OutboxQueued {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
	for _, b := range [][]byte{
		{0x05, 'a'},                   // a copy longer than the blob
		encodeParts([][]byte{{0x01}}), // a copy of one damaged field
		encodeParts([][]byte{encodeParts([][]byte{[]byte("x"), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil})}), // id not a number
		enc[:len(enc)-1], // cut short
		encodeParts([][]byte{encodeParts(make([][]byte, 11))}), // the first copy without its headers
	} {
		if rs, err := decodeStaged(b); err == nil {
			t.Errorf("decodeStaged(%x) = %d rows, no error", b, len(rs))
		}
	}
}

// BenchmarkMoveStaged: the sender's move of a claim's worth of staged
// copies into outbox (notifications of 12 copies), inside the write lock.
func BenchmarkMoveStaged(b *testing.B) {
	for _, copies := range []int{120, 600} {
		b.Run(fmt.Sprintf("copies=%d", copies), func(b *testing.B) {
			s := openTest(b)
			ctx := context.Background()
			var st int64
			if err := s.Update(ctx, func(tx *Tx) error {
				x := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "information",
					Submitter: "s@itu.example", Assignee: "a@ietf.example", ReceivedAt: t0}
				err := tx.InsertStatement(x)
				st = x.ID
				return err
			}); err != nil {
				b.Fatal(err)
			}
			var moving time.Duration
			for i := 0; i < b.N; i++ {
				if err := s.Update(ctx, func(tx *Tx) error {
					for n := 0; n < copies/12; n++ {
						ms := stagedNotification(st, 12, t0)
						for j, m := range ms {
							m.MessageID = fmt.Sprintf("%d.%d.%d@x", i, n, j)
						}
						if err := tx.InsertOutboxMany(ms); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := s.Update(ctx, func(tx *Tx) error {
					n, err := tx.moveStaged(copies)
					if err == nil && n != copies {
						err = fmt.Errorf("moved %d, want %d", n, copies)
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
				moving += time.Since(start)
			}
			b.ReportMetric(float64(moving.Microseconds())/float64(b.N), "move-µs")
			b.ReportMetric(float64(moving.Nanoseconds())/float64(b.N)/float64(copies)/1000, "µs/copy")
		})
	}
}

// TestMoveStagedMany: a move larger than one INSERT takes (stagedInsertRows)
// goes in several, and a copy in a later one still reads its headers.
func TestMoveStagedMany(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var all []*OutboxMail
	err := s.Update(ctx, func(tx *Tx) error {
		st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "information",
			Submitter: "s@itu.example", Assignee: "a@ietf.example", ReceivedAt: t0}
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		// One call of 720 copies of one mail: one staged row whose
		// copies name one holder of their headers.
		ms := stagedNotification(st.ID, stagedInsertRows+120, t0)
		all = ms
		return tx.InsertOutboxMany(ms)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.MoveStaged() }); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil {
			return err
		}
		if n != len(all) {
			t.Errorf("%d outbox rows, want %d", n, len(all))
		}
		for _, w := range []*OutboxMail{all[0], all[stagedInsertRows], all[len(all)-1]} {
			m, err := tx.OutboxMail(w.ID)
			if err != nil {
				return err
			}
			if m.Rcpt != w.Rcpt || m.Subject != "LS" || m.From != "ls@example.org" || !bytes.Equal(m.Raw, w.Bytes()) {
				t.Errorf("mail %d: %s %q %s %q", w.ID, m.Rcpt, m.Subject, m.From, m.Raw)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStagedAnswerRate: a receipt staged with its notification's copies
// (0025) counts for the answer rate (DESIGN 7) at once, as it does once
// moved; a second answer of the same call goes straight into outbox, and
// counts too.
func TestStagedAnswerRate(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rate := func(tx *Tx) int {
		t.Helper()
		n, err := tx.RepliesSince("s@itu.example", AnswerKinds, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := s.Update(ctx, func(tx *Tx) error {
		st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{Name: "SG15"}, Title: "T", Purpose: "information",
			Submitter: "s@itu.example", Assignee: "a@ietf.example", ReceivedAt: t0}
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		for i := range 2 {
			ms := stagedNotification(st.ID, 3, t0)
			for _, m := range ms {
				m.MessageID = fmt.Sprintf("%d.%s", i, m.MessageID)
			}
			ms = append(ms,
				&OutboxMail{StatementID: st.ID, Kind: "receipt", Rcpt: "s@itu.example", From: "ls@example.org", Subject: "Received",
					MessageID: fmt.Sprintf("r%d@x", i), Raw: []byte("receipt\r\n"), CreatedAt: t0},
				&OutboxMail{StatementID: st.ID, Kind: "error", Rcpt: "s@itu.example", From: "ls@example.org", Subject: "Error",
					MessageID: fmt.Sprintf("e%d@x", i), Raw: []byte("error\r\n"), CreatedAt: t0})
			if err := tx.InsertOutboxMany(ms); err != nil {
				return err
			}
			if got, want := rate(tx), 2*(i+1); got != want {
				t.Errorf("after notification %d: %d answers counted, want %d", i, got, want)
			}
		}
		var staged, direct int
		if err := tx.queryRow(`SELECT coalesce(sum(copies), 0) FROM outbox_staged`).Scan(&staged); err != nil {
			return err
		}
		if err := tx.queryRow(`SELECT count(*) FROM outbox`).Scan(&direct); err != nil {
			return err
		}
		if staged != 8 || direct != 2 {
			t.Errorf("%d staged and %d outbox rows, want 8 (copies and receipts) and 2 (the errors)", staged, direct)
		}
		if err := tx.MoveStaged(); err != nil {
			return err
		}
		if got := rate(tx); got != 4 {
			t.Errorf("after the move: %d answers counted, want 4", got)
		}
		if n, err := tx.RepliesSince("s@itu.example", AnswerKinds, t0.Add(time.Minute)); err != nil || n != 0 {
			t.Errorf("RepliesSince(later) = %d, %v; want 0", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
