package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"liaisond/store"
)

// composeCall is what recordingComposer saw at one call.
type composeCall struct {
	id      int64
	typ     string
	written int // events the transaction had written by then
	stored  int // events of the message in the database by then
}

// recordingComposer records each call and queues one outbox row per event,
// as a real composer would; failOn makes it fail on an event type after
// queuing that row.
type recordingComposer struct {
	calls  []composeCall
	failOn string
}

func (c *recordingComposer) Compose(_ context.Context, tx *store.Tx, ev *store.Event) error {
	evs, err := tx.MessageEvents(ev.MessageID)
	if err != nil {
		return err
	}
	c.calls = append(c.calls, composeCall{id: ev.ID, typ: ev.Type, written: len(tx.WrittenEvents()), stored: len(evs)})
	if err := tx.InsertOutbox(&store.OutboxMail{StatementID: ev.StatementID, EventID: ev.ID, Kind: "notification", Rcpt: "x@example.org",
		Raw: []byte("x"), CreatedAt: tx.Now()}); err != nil {
		return err
	}
	if ev.Type == c.failOn {
		return errors.New("composer fails")
	}
	return nil
}

// TestComposeAtEndOfApply: applying a message only writes events; their
// mails are composed afterwards, once per event, in the order written,
// with every event of the message already stored (DESIGN 10). A message
// whose apply fails after some of its mails were composed keeps neither
// the events nor the mails.
func TestComposeAtEndOfApply(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p, s, keys, _ := newTestProcessor(t, Config{}, func() time.Time { return now })
	comp := &recordingComposer{}
	p.Composer = comp
	receive := func(from, to, id, body string) Result {
		t.Helper()
		raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: test\r\nMessage-ID: <%s@test>\r\n\r\n%s\r\n", from, to, id, body)
		res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: from, Rcpt: []string{to}, Known: true}, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	messageEvents := func(id int64) []store.Event {
		t.Helper()
		var evs []store.Event
		if err := s.View(ctx, func(tx *store.Tx) error {
			var err error
			evs, err = tx.MessageEvents(id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	outbox := func() int {
		t.Helper()
		var n int
		if err := s.View(ctx, func(tx *store.Tx) error {
			counts, err := tx.OutboxCounts()
			for _, c := range counts {
				n += c
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// check says whether the calls composed exactly the message's events,
	// in order, each once, after all of them were written.
	check := func(what string, res Result, atLeast int) {
		t.Helper()
		evs := messageEvents(res.MessageID)
		if len(evs) < atLeast {
			t.Fatalf("%s wrote %d events; the test needs several", what, len(evs))
		}
		var want, got []string
		for _, ev := range evs {
			want = append(want, fmt.Sprintf("%d %s", ev.ID, ev.Type))
		}
		for _, c := range comp.calls {
			got = append(got, fmt.Sprintf("%d %s", c.id, c.typ))
			if c.written != len(evs) || c.stored != len(evs) {
				t.Errorf("%s: %s composed when %d events were written (%d stored), want all %d", what, c.typ, c.written, c.stored, len(evs))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: composed %v, want %v", what, got, want)
		}
		if !res.Queued {
			t.Errorf("%s: Result.Queued false with mail queued", what)
		}
	}

	sub := receive("sender@itu.example", "statements@liaison.example", "s1",
		"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: t\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\nTechnical-Contact: expert@vendor.example\r\n\r\nbody")
	if sub.Statement == 0 {
		t.Fatalf("submission not accepted: %+v", sub)
	}
	check("submission", sub, 1)

	comp.calls = nil
	addr := keys.Address("ls", "liaison.example", sub.Statement, "alice@ccamp.example")
	cmd := receive("alice@ccamp.example", addr, "c1", "status reviewing\r\ndeadline 2027-02-01\r\nreassign bob@ccamp.example")
	if cmd.State != store.MessageProcessed {
		t.Fatalf("commands not applied: %+v", cmd)
	}
	check("command mail", cmd, 4)

	// A message whose apply fails while its mails are composed: rolled
	// back whole, kept as failed, and no mail of it stays queued.
	comp.calls, comp.failOn = nil, store.EventDone
	before := outbox()
	failed := receive("alice@ccamp.example", addr, "c2", "status answered\r\nnote done")
	if failed.State != store.MessageFailed || failed.Queued {
		t.Errorf("result %+v, want the message kept as failed with nothing queued", failed)
	}
	if len(comp.calls) < 2 {
		t.Errorf("composed %v; want the mails of the written events composed before the failure", comp.calls)
	}
	if evs := messageEvents(failed.MessageID); len(evs) != 0 {
		t.Errorf("the failed message left %d events", len(evs))
	}
	if after := outbox(); after != before {
		t.Errorf("outbox %d rows, was %d: a rolled-back message's mails were kept", after, before)
	}
}
