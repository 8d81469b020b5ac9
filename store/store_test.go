package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func TestMessageIdentity(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := &Message{ReceivedAt: t0, Source: "smtp", MessageID: "a@b", Identity: "id1", SHA256: "x", Raw: []byte("raw")}
	var first int64
	for i, wantDup := range []bool{false, true} {
		err := s.Update(ctx, func(tx *Tx) error {
			id, dup, err := tx.InsertMessage(m)
			if err != nil {
				return err
			}
			if dup != wantDup {
				t.Errorf("insert %d: dup = %v, want %v", i, dup, wantDup)
			}
			if i == 0 {
				first = id
			} else if id != first {
				t.Errorf("duplicate returned id %d, want %d", id, first)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.View(ctx, func(tx *Tx) error {
		counts, _ := tx.MessageCounts()
		if counts[MessageReceived] != 1 {
			t.Errorf("counts = %v, want one received", counts)
		}
		got, err := tx.Message(first)
		if err != nil || string(got.Raw) != "raw" {
			t.Errorf("Message = %v, %v", got, err)
		}
		return nil
	})
}

func TestStatementRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	pdf := []byte("%PDF-1.4 same content")
	st := &Statement{
		Direction: Incoming, State: StateOpen,
		From:  BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To:    []BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}, {Name: "Unknown Body"}},
		Title: "T", Purpose: "action", Deadline: "2027-01-31", Submitter: "s@itu.example",
		ResponseContacts:  []Contact{{Addr: "r@itu.example"}},
		TechnicalContacts: []Contact{{Name: "E", Addr: "e1@v.example"}, {Addr: "e2@v.example"}},
		Assignee:          "alice@ccamp.example", ReceivedAt: t0, Body: "Dear all",
		URLs:        []string{"https://x.example/a.pdf"},
		Other:       []Field{{Name: "Meeting", Value: "Geneva"}},
		Attachments: []Attachment{{Name: "a.pdf", ContentType: "application/pdf", Data: pdf}, {Name: "copy.pdf", ContentType: "application/pdf", Data: pdf}},
	}
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		other := &Statement{Direction: Outgoing, State: StateOpen, From: BodyRef{Name: "x"}, Title: "reply", Purpose: "response", Submitter: "a", Assignee: "a", ReceivedAt: t0}
		if err := tx.InsertStatement(other); err != nil {
			return err
		}
		if err := tx.AddRelation(other.ID, st.ID, RelRepliesTo); err != nil {
			return err
		}
		return tx.InsertEvent(&Event{StatementID: st.ID, At: t0, Type: EventSubmitted, By: "s@itu.example", Text: "submitted"})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx *Tx) error {
		got, err := tx.Statement(st.ID)
		if err != nil {
			t.Fatal(err)
		}
		j := got.JSON(true)
		if j.Ref != "LS-1" || j.From.ID != "itu-t-sg15" || len(j.To) != 2 || j.To[1].ID != "" || *j.Deadline != "2027-01-31" {
			t.Errorf("json = %+v", j)
		}
		if len(j.TechnicalContacts) != 2 || j.ResponseContacts[0] != "r@itu.example" || len(j.URLs) != 1 || len(got.Other) != 1 {
			t.Errorf("contacts/fields = %+v %+v", j, got.Other)
		}
		if len(j.Attachments) != 2 || j.Attachments[0].SHA256 != j.Attachments[1].SHA256 || j.Attachments[0].Size != int64(len(pdf)) {
			t.Errorf("attachments = %+v", j.Attachments)
		}
		if n, _ := tx.BlobCount(); n != 1 {
			t.Errorf("blobs = %d, want 1 (content-addressed)", n)
		}
		if len(j.Related) != 1 || j.Related[0] != (RelatedJSON{Ref: "LS-2", Relation: RelRepliedBy}) {
			t.Errorf("related = %+v", j.Related)
		}
		if len(j.Events) != 1 || j.Events[0].Type != EventSubmitted {
			t.Errorf("events = %+v", j.Events)
		}
		a, err := tx.AttachmentData(st.ID, 2)
		if err != nil || string(a.Data) != string(pdf) || a.Name != "copy.pdf" {
			t.Errorf("attachment 2 = %+v, %v", a, err)
		}
		if _, err := tx.Statement(99); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing statement: %v", err)
		}
		list, _, err := tx.Find(Query{States: []string{StateOpen}, Limit: -1})
		if err != nil || len(list) != 2 || list[0].ID != 2 || list[0].Body != "" {
			t.Errorf("list = %v, %v", list, err)
		}
		return nil
	})
}

func TestOutboxLifecycle(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	m := &OutboxMail{Kind: "receipt", EnvelopeFrom: "s@d", Rcpt: "a@x", From: "s@d", To: []string{"a@x"}, Subject: "S", MessageID: "m@d", Raw: []byte("raw"), CreatedAt: t0}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.InsertOutbox(m) }))
	due := func(at time.Time) int {
		var n int
		s.View(ctx, func(tx *Tx) error {
			l, err := tx.DueOutbox(at, 10)
			if err != nil {
				t.Fatal(err)
			}
			n = len(l)
			return nil
		})
		return n
	}
	if due(t0) != 1 {
		t.Fatal("new mail not due")
	}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.MarkSending(m.ID, t0) }))
	if due(t0) != 0 {
		t.Fatal("mail in sending is due")
	}
	must(t, s.Update(ctx, func(tx *Tx) error { _, err := tx.RequeueSending(t0); return err }))
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.MarkRetry(m.ID, t0.Add(time.Minute), "451 busy") }))
	if due(t0) != 0 || due(t0.Add(time.Minute)) != 1 {
		t.Fatal("retry not scheduled")
	}
	must(t, s.Update(ctx, func(tx *Tx) error { return tx.MarkSent(m.ID, t0) }))
	s.View(ctx, func(tx *Tx) error {
		got, _ := tx.OutboxMail(m.ID)
		if got.State != OutboxSent || got.Attempts != 1 || got.SentAt == nil {
			t.Errorf("after send: %+v", got)
		}
		return nil
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
