package store

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

// TestEventDataJSON: each payload type writes the JSON field names that the
// rows stored before it were written with (maps, Appendf, other packages'
// structs), so existing databases decode; and reads those rows back.
func TestEventDataJSON(t *testing.T) {
	tests := []struct {
		name   string
		v      EventData
		json   string // what SetData writes
		stored string // a row as an earlier liaisond wrote it
		decode func(ev *Event) (EventData, error)
	}{
		{"rejected", AnswerData{To: "a@x.example", Subject: "S", MessageID: "m@x", Rcpt: "statements@l.example", Problems: []string{"p"}},
			`{"to":"a@x.example","subject":"S","message_id":"m@x","rcpt":"statements@l.example","problems":["p"]}`,
			`{"message_id":"m@x","problems":["p"],"rcpt":"statements@l.example","subject":"S","to":"a@x.example"}`,
			func(ev *Event) (EventData, error) { return DecodeData[AnswerData](ev) }},
		{"done", DoneData{AnswerData: AnswerData{To: "a@x.example", Done: []string{"LS-1 is closed"}}, Statements: []int64{1}},
			`{"to":"a@x.example","done":["LS-1 is closed"],"statements":[1]}`, "",
			func(ev *Event) (EventData, error) { return DecodeData[DoneData](ev) }},
		{"held", HeldData{Tell: true}, `{"tell":true}`, `{"tell":true}`,
			func(ev *Event) (EventData, error) { return DecodeData[HeldData](ev) }},
		{"reminder", ReminderData{Due: "7d", Skipped: 2}, `{"due":"7d","skipped":2}`, `{"due":"7d","skipped":2}`,
			func(ev *Event) (EventData, error) { return DecodeData[ReminderData](ev) }},
		{"delivery-failed", DeliveryFailedData{Outbox: 3, Rcpt: "a@x.example", Kind: "receipt"},
			`{"outbox":3,"rcpt":"a@x.example","kind":"receipt"}`, `{"kind":"receipt","outbox":3,"rcpt":"a@x.example"}`,
			func(ev *Event) (EventData, error) { return DecodeData[DeliveryFailedData](ev) }},
		{"oversize", OversizeData{Subject: "S", From: "f@x.example", MessageID: "m@x", Size: 10, Limit: 5, Where: "INBOX uid 4"},
			`{"subject":"S","from":"f@x.example","message_id":"m@x","size":10,"limit":5,"where":"INBOX uid 4"}`,
			`{"from":"f@x.example","limit":5,"message_id":"m@x","size":10,"subject":"S","where":"INBOX uid 4"}`,
			func(ev *Event) (EventData, error) { return DecodeData[OversizeData](ev) }},
		{"redirected", ChangeData{Old: "a@x", New: "b@x", By: "c@x", OldTo: []BodyRef{{ID: "ccamp", Name: "CCAMP"}}},
			`{"old":"a@x","new":"b@x","by":"c@x","old_to":[{"ID":"ccamp","Name":"CCAMP"}]}`, "",
			func(ev *Event) (EventData, error) { return DecodeData[ChangeData](ev) }},
		{"submitted", SubmittedData{UnknownTo: []UnknownAddressee{{Name: "Foo", Suggestions: []string{"foo (IETF Foo WG)"}}}, NoIETFBody: true},
			`{"unknown_to":[{"name":"Foo","suggestions":["foo (IETF Foo WG)"]}],"no_ietf_body":true}`, "",
			func(ev *Event) (EventData, error) { return DecodeData[SubmittedData](ev) }},
		{"approval-rejected", ReasonData{Reason: "not agreed"}, `{"reason":"not agreed"}`, "",
			func(ev *Event) (EventData, error) { return DecodeData[ReasonData](ev) }},
	}
	for _, tc := range tests {
		ev := &Event{Type: tc.name}
		if err := ev.SetData(tc.v); err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) != tc.json {
			t.Errorf("%s: SetData wrote %s, want %s", tc.name, ev.Data, tc.json)
		}
		for _, raw := range []string{tc.json, tc.stored} {
			if raw == "" {
				continue
			}
			got, err := tc.decode(&Event{Type: tc.name, Data: []byte(raw)})
			if err != nil || !reflect.DeepEqual(got, tc.v) {
				t.Errorf("%s: %s decodes as %+v (%v), want %+v", tc.name, raw, got, err, tc.v)
			}
		}
	}
	if _, err := DecodeData[HeldData](&Event{ID: 7, Type: EventHeld, Data: []byte(`{"tell":"yes"}`)}); err == nil {
		t.Error("a payload of the wrong shape decodes without an error")
	}
	if d, err := DecodeData[ReasonData](&Event{Type: EventClosed}); err != nil || d != (ReasonData{}) {
		t.Errorf("an event without data: %+v, %v", d, err)
	}
}

// TestTxNow: every event a transaction writes without a time of its own has
// the transaction's one timestamp, from the store's clock.
func TestTxNow(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	clock := t0
	s.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
	var first time.Time
	err := s.Update(ctx, func(tx *Tx) error {
		first = tx.Now()
		for i := 0; i < 3; i++ {
			if err := tx.InsertEvent(&Event{Type: EventNote, By: "a@x.example", Text: "n"}); err != nil {
				return err
			}
		}
		return tx.InsertEvent(&Event{Type: EventNote, At: t0, Text: "own time"})
	})
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	if err := s.View(ctx, func(tx *Tx) (err error) { evs, err = tx.events(`1 = 1`); return err }); err != nil {
		t.Fatal(err)
	}
	if first != t0.Add(time.Second) || len(evs) != 4 {
		t.Fatalf("tx.Now() = %v, %d events", first, len(evs))
	}
	for _, ev := range evs[:3] {
		if !ev.At.Equal(first) {
			t.Errorf("event %d at %v, want the transaction's %v", ev.ID, ev.At, first)
		}
	}
	if !evs[3].At.Equal(t0) {
		t.Errorf("an event with its own time was written at %v", evs[3].At)
	}
}

// TestReasonMigration: closed, reopened and approval-rejected events stored
// before their reason was data get it from their text, once, by migration.
func TestReasonMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w := migratedBefore(t, path, "0010")
	for _, ev := range []struct{ typ, text string }{
		{EventClosed, "closed the WG answered on the list"},
		{EventClosed, "closed"},
		{EventReopened, "reopened more to do"},
		{EventApprovalRejected, "rejected: the WG has not agreed yet"},
		{EventNote, "closed is a word in this note"},
	} {
		if _, err := w.Exec(`INSERT INTO events (at, type, by, text, data) VALUES (?, ?, 'a@x.example', ?, '{}')`, fmtTime(t0), ev.typ, ev.text); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var evs []Event
	if err := s.View(ctx, func(tx *Tx) (err error) { evs, err = tx.events(`1 = 1`); return err }); err != nil {
		t.Fatal(err)
	}
	want := []string{"the WG answered on the list", "", "more to do", "the WG has not agreed yet", ""}
	for i, ev := range evs {
		d, err := DecodeData[ReasonData](&ev)
		if err != nil || d.Reason != want[i] {
			t.Errorf("%s %q: reason %q (%v), want %q", ev.Type, ev.Text, d.Reason, err, want[i])
		}
	}
	if string(evs[4].Data) != "{}" {
		t.Errorf("a note's data changed: %s", evs[4].Data)
	}
}

// migratedBefore makes a database at path with the migrations whose names
// sort before first, as an earlier version left it, and opens it.
func migratedBefore(t *testing.T, path, first string) *sql.DB {
	t.Helper()
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var before []string
	for _, n := range names {
		if n.Name() < first {
			before = append(before, "migrations/"+n.Name())
		}
	}
	sort.Strings(before)
	w, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{w: w, r: w, wal: newWALSyncer(path)}
	old.SetClock(time.Now)
	if err := old.migrateTo(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), before); err != nil {
		t.Fatal(err)
	}
	return w
}
