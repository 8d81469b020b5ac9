package notify

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"liaisond/store"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// simulate runs the planner at each of passes in turn, keeping its plan as
// the scheduler does, and returns what each pass sent as "time key" lines.
// change, when set, alters the statement before the pass at that index.
func simulate(s Schedule, in PlanInput, passes []time.Time, change func(now time.Time, in *PlanInput)) (sent []string, skipped int) {
	var last time.Time
	for _, now := range passes {
		if change != nil {
			change(now, &in)
		}
		d := s.Decide(in, last, now)
		if d.Changed {
			p := d.Plan
			in.Plan = &p
		}
		if d.Send != nil {
			sent = append(sent, now.Format("01-02T15")+" "+d.Send.Key)
			skipped += len(d.Skipped)
		}
		last = now
	}
	return sent, skipped
}

// hourly returns a pass every hour from start to end.
func hourly(start, end time.Time) []time.Time {
	var ps []time.Time
	for t := start; !t.After(end); t = t.Add(time.Hour) {
		ps = append(ps, t)
	}
	return ps
}

func TestScheduleDecide(t *testing.T) {
	def := DefaultSchedule()
	received := at("2026-12-01T10:00:00Z")
	open := PlanInput{Open: true, Deadline: "2027-01-31", ReceivedAt: received}
	tests := []struct {
		name     string
		sched    Schedule
		in       PlanInput
		passes   []time.Time
		change   func(now time.Time, in *PlanInput)
		want     []string
		skipped  int
		wantNext string // the Next of a last extra decision at the last pass, RFC 3339; "" none
	}{
		{
			name: "every due point once, at its hour, then weekly while overdue", sched: def, in: open,
			passes: hourly(received, at("2027-02-15T00:00:00Z")),
			want: []string{"01-17T08 2027-01-31/-14", "01-24T08 2027-01-31/-7", "01-28T08 2027-01-31/-3", "01-30T08 2027-01-31/-1",
				"01-31T08 2027-01-31/0", "02-07T08 2027-01-31/+7", "02-14T08 2027-01-31/+14"},
			wantNext: "2027-02-21T08:00:00Z",
		},
		{
			name: "down from before -14 to after -3: only -3, the two before skipped", sched: def, in: open,
			passes: []time.Time{at("2027-01-10T12:00:00Z"), at("2027-01-29T09:00:00Z"), at("2027-01-29T10:00:00Z")},
			want:   []string{"01-29T09 2027-01-31/-3"}, skipped: 2, wantNext: "2027-01-30T08:00:00Z",
		},
		{
			name: "down for weeks while overdue: one reminder, the latest", sched: def, in: open,
			passes: []time.Time{at("2027-01-10T12:00:00Z"), at("2027-03-01T12:00:00Z")},
			want:   []string{"03-01T12 2027-01-31/+28"}, skipped: 8, wantNext: "2027-03-07T08:00:00Z",
		},
		{
			name: "the same pass twice, or the clock going back, sends nothing again", sched: def, in: open,
			passes: []time.Time{at("2027-01-24T09:00:00Z"), at("2027-01-24T09:00:00Z"), at("2027-01-20T09:00:00Z"), at("2027-01-24T10:00:00Z")},
			want:   []string{"01-24T09 2027-01-31/-7"}, skipped: 1, wantNext: "2027-01-28T08:00:00Z",
		},
		{
			name: "arrived five days before the deadline: no reminder for due points before it arrived", sched: def,
			in:     PlanInput{Open: true, Deadline: "2027-01-31", ReceivedAt: at("2027-01-26T10:00:00Z")},
			passes: hourly(at("2027-01-26T10:00:00Z"), at("2027-01-31T12:00:00Z")),
			want:   []string{"01-28T08 2027-01-31/-3", "01-30T08 2027-01-31/-1", "01-31T08 2027-01-31/0"}, wantNext: "2027-02-07T08:00:00Z",
		},
		{
			name: "deadline moved later after -7: the schedule follows the new deadline", sched: def, in: open,
			passes: hourly(received, at("2027-03-18T00:00:00Z")),
			change: func(now time.Time, in *PlanInput) {
				if now.Equal(at("2027-01-25T06:00:00Z")) {
					in.Deadline = "2027-03-31"
				}
			},
			want: []string{"01-17T08 2027-01-31/-14", "01-24T08 2027-01-31/-7", "03-17T08 2027-03-31/-14"}, wantNext: "2027-03-24T08:00:00Z",
		},
		{
			name: "deadline moved two days later after -3: no catch-up of the new plan's past points", sched: def, in: open,
			passes: hourly(at("2027-01-27T00:00:00Z"), at("2027-02-02T12:00:00Z")),
			change: func(now time.Time, in *PlanInput) {
				if now.Equal(at("2027-01-29T06:00:00Z")) {
					in.Deadline = "2027-02-02"
				}
			},
			want:    []string{"01-27T00 2027-01-31/-7", "01-28T08 2027-01-31/-3", "01-30T08 2027-02-02/-3", "02-01T08 2027-02-02/-1", "02-02T08 2027-02-02/0"},
			skipped: 1, // the first pass, arriving late, catches up -7 and skips -14
		},
		{
			name: "deadline moved into the past: next weekly overdue point of the new deadline", sched: def, in: open,
			passes: hourly(at("2027-01-17T00:00:00Z"), at("2027-01-25T00:00:00Z")),
			change: func(now time.Time, in *PlanInput) {
				if now.Equal(at("2027-01-20T00:00:00Z")) {
					in.Deadline = "2027-01-10"
				}
			},
			want: []string{"01-17T08 2027-01-31/-14", "01-24T08 2027-01-10/+14"},
		},
		{
			name: "closed: nothing, ever", sched: def, in: PlanInput{Open: false, Deadline: "2027-01-31", ReceivedAt: received},
			passes: hourly(received, at("2027-02-15T00:00:00Z")),
		},
		{
			name: "closed in the middle: reminders stop", sched: def, in: open,
			passes: hourly(at("2027-01-17T00:00:00Z"), at("2027-02-15T00:00:00Z")),
			change: func(now time.Time, in *PlanInput) { in.Open = now.Before(at("2027-01-25T00:00:00Z")) },
			want:   []string{"01-17T08 2027-01-31/-14", "01-24T08 2027-01-31/-7"},
		},
		{
			name: "no deadline: every 30 days after arrival", sched: def, in: PlanInput{Open: true, ReceivedAt: received},
			passes: hourly(received, at("2027-03-05T00:00:00Z")),
			want:   []string{"12-31T10 open/+30", "01-30T10 open/+60", "03-01T10 open/+90"}, wantNext: "2027-03-31T10:00:00Z",
		},
		{
			name: "no deadline, down for a year: one reminder", sched: def, in: PlanInput{Open: true, ReceivedAt: received},
			passes: []time.Time{at("2026-12-02T00:00:00Z"), at("2027-12-02T00:00:00Z")},
			want:   []string{"12-02T00 open/+360"}, skipped: 11, wantNext: "2027-12-26T10:00:00Z",
		},
		{
			name: "deadline added to a statement without one", sched: def, in: PlanInput{Open: true, ReceivedAt: received},
			passes: hourly(received, at("2027-01-31T12:00:00Z")),
			change: func(now time.Time, in *PlanInput) {
				if now.Equal(at("2027-01-10T10:00:00Z")) {
					in.Deadline = "2027-01-31"
				}
			},
			want: []string{"12-31T10 open/+30", "01-17T08 2027-01-31/-14", "01-24T08 2027-01-31/-7", "01-28T08 2027-01-31/-3",
				"01-30T08 2027-01-31/-1", "01-31T08 2027-01-31/0"},
		},
		{
			name:  "configured: two days before only, at 06:00, nothing when overdue or without deadline",
			sched: Schedule{BeforeDays: []int{2}, Hour: 6}, in: open,
			passes: hourly(received, at("2027-03-01T00:00:00Z")),
			want:   []string{"01-29T06 2027-01-31/-2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped := simulate(tt.sched, tt.in, tt.passes, tt.change)
			if !slices.Equal(got, tt.want) {
				t.Errorf("sent\n  %v\nwant\n  %v", got, tt.want)
			}
			if skipped != tt.skipped {
				t.Errorf("skipped %d due points, want %d", skipped, tt.skipped)
			}
			if tt.wantNext != "" {
				in := tt.in
				var plan *store.ReminderPlan
				var last time.Time
				for i, now := range tt.passes {
					if tt.change != nil {
						tt.change(now, &in)
					}
					in.Plan = plan
					d := tt.sched.Decide(in, last, now)
					if d.Changed {
						p := d.Plan
						plan = &p
					}
					last = now
					if i == len(tt.passes)-1 && d.Next.Format(time.RFC3339) != tt.wantNext {
						t.Errorf("next due point %v, want %s", d.Next, tt.wantNext)
					}
				}
			}
		})
	}
}

// The pass against a real store: recipients, idempotence across tickler
// instances (a restart), reassign, close and a changed deadline.
func TestTicklerPass(t *testing.T) {
	s, db := openStoreFile(t)
	c := newComposer(t)
	ctx := context.Background()
	st := &store.Statement{Direction: store.Incoming, State: store.StateOpen, From: store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To: []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}}, Title: "OTN control", Purpose: "action", Deadline: "2027-01-31",
		Submitter: "rapp@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0, ThreadID: "orig@itu.example",
		TechnicalContacts: []store.Contact{{Addr: "expert@vendor.example"}}}
	if err := s.Update(ctx, func(tx *store.Tx) error { return tx.InsertStatement(st) }); err != nil {
		t.Fatal(err)
	}
	newTickler := func() *Tickler {
		return &Tickler{Store: s, Composer: c, Log: slog.New(slog.DiscardHandler), Schedule: DefaultSchedule()}
	}
	pass := func(now string, dry bool) *PassResult {
		t.Helper()
		res, err := newTickler().Pass(ctx, at(now), dry)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ticklers := func() []*store.OutboxMail { return outboxOfKind(t, s, KindTickler) }
	if res := pass("2027-01-10T12:00:00Z", false); len(res.Reminders) != 0 || res.Scanned != 1 || res.Next.Format(time.RFC3339) != "2027-01-17T08:00:00Z" {
		t.Fatalf("early pass: %+v", res)
	}
	// Dry: says what it would send, changes nothing.
	res := pass("2027-01-24T09:00:00Z", true)
	if len(res.Reminders) != 1 || res.Reminders[0].Point.Key != "2027-01-31/-7" || len(ticklers()) != 0 {
		t.Fatalf("dry pass: %+v, %d ticklers queued", res, len(ticklers()))
	}
	res = pass("2027-01-24T09:00:00Z", false)
	if len(res.Reminders) != 1 || res.Reminders[0].Skipped != 1 {
		t.Fatalf("pass: %+v", res)
	}
	// A restart (a new tickler) at the same or a later time sends nothing again.
	if res := pass("2027-01-24T09:00:00Z", false); len(res.Reminders) != 0 {
		t.Fatalf("second pass sent again: %+v", res)
	}
	mails := ticklers()
	wantRcpts := []string{"alice@ccamp.example", "expert@vendor.example", "carol@ietf.example", "rick@ietf.example", "dan@lm.example",
		"statements@ietf.example", "bob@ccamp.example"}
	var rcpts []string
	for _, m := range mails {
		rcpts = append(rcpts, m.Rcpt)
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Raw)))
		if err != nil {
			t.Fatal(err)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		body, _ := io.ReadAll(msg.Body)
		text := decodeQP(string(body))
		if subj != "[LS-1] Reminder: deadline in 7 days: OTN control" || msg.Header.Get("In-Reply-To") != "<orig@itu.example>" {
			t.Errorf("tickler to %s: subject %q, In-Reply-To %q", m.Rcpt, subj, msg.Header.Get("In-Reply-To"))
		}
		wants := []string{"The deadline of LS-1 from ITU-T Study Group 15 is 2027-01-31, in 7 days.", "What is asked: For Action",
			"https://liaison.example/ls/1"}
		var unwanted []string
		// Each copy says what its reader may do (DESIGN 5).
		switch m.Rcpt {
		case "alice@ccamp.example":
			// The command list is one aligned block: its first line keeps
			// the indent too.
			wants = append(wants, "It is assigned to you.", "LS-1 is yours to act on", "\n  reply            the rest", "\n  close [reason]")
			unwanted = append(unwanted, "redirect BODY")
		case "expert@vendor.example":
			wants = append(wants, "It is assigned to alice@ccamp.example", "handled by alice@ccamp.example")
			unwanted = append(unwanted, "close [reason]", "reply   ")
		case "dan@lm.example":
			wants = append(wants, "the IETF's liaison manager for ITU-T Study Group 15", "close [reason]", "redirect BODY")
		default:
			wants = append(wants, "It is assigned to alice@ccamp.example", "you may act on it", "close [reason]")
		}
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("tickler to %s lacks %q:\n%s", m.Rcpt, want, text)
			}
		}
		for _, u := range unwanted {
			if strings.Contains(text, u) {
				t.Errorf("tickler to %s offers %q:\n%s", m.Rcpt, u, text)
			}
		}
		if !strings.Contains(msg.Header.Get("Reply-To"), "ls+1.") {
			t.Errorf("tickler to %s: Reply-To %q is not a personal address", m.Rcpt, msg.Header.Get("Reply-To"))
		}
		if msg.Header.Get("To") != "<alice@ccamp.example>" && !strings.Contains(msg.Header.Get("To"), "alice@ccamp.example") {
			t.Errorf("To = %q", msg.Header.Get("To"))
		}
		if strings.Contains(msg.Header.Get("Cc"), "ccamp@ietf.example") {
			t.Errorf("the alias is copied: %q", msg.Header.Get("Cc"))
		}
	}
	if !slices.Equal(rcpts, wantRcpts) {
		t.Errorf("tickler recipients\n  %v\nwant\n  %v", rcpts, wantRcpts)
	}

	// Reassigned: the next reminder goes to the new assignee.
	mustExec(t, db, `UPDATE statements SET assignee = 'bob@ccamp.example' WHERE id = 1`)
	before := len(ticklers())
	if res := pass("2027-01-28T09:00:00Z", false); len(res.Reminders) != 1 || res.Reminders[0].To[0] != "bob@ccamp.example" {
		t.Fatalf("after reassign: %+v", res)
	}
	if got := ticklers()[before]; got.To[0] != "bob@ccamp.example" || got.Rcpt != "bob@ccamp.example" {
		t.Errorf("first tickler after reassign: to %v rcpt %s", got.To, got.Rcpt)
	}
	// The deadline moves: the old plan's -1 is not sent, the new plan's -14 is.
	mustExec(t, db, `UPDATE statements SET deadline = '2027-03-31' WHERE id = 1`)
	if res := pass("2027-01-30T09:00:00Z", false); len(res.Reminders) != 0 || res.Replanned != 1 {
		t.Fatalf("after deadline change: %+v", res)
	}
	if res := pass("2027-03-17T09:00:00Z", false); len(res.Reminders) != 1 || res.Reminders[0].Point.Key != "2027-03-31/-14" {
		t.Fatalf("new plan: %+v", res)
	}
	// Answered by a reply: the action is taken, no more reminders, though
	// it stays open (RFC 4053 Appendix B).
	mustExec(t, db, `UPDATE statements SET replied_at = '2027-03-20T10:00:00Z' WHERE id = 1`)
	if res := pass("2027-03-24T09:00:00Z", false); len(res.Reminders) != 0 || res.Scanned != 0 {
		t.Fatalf("answered: %+v", res)
	}
	if res := pass("2027-04-14T09:00:00Z", true); len(res.Reminders) != 0 {
		t.Fatalf("answered, overdue, dry run: %+v", res)
	}
	// Closed: nothing more.
	mustExec(t, db, `UPDATE statements SET state = 'closed' WHERE id = 1`)
	if res := pass("2027-04-30T09:00:00Z", false); len(res.Reminders) != 0 || res.Scanned != 0 {
		t.Fatalf("closed: %+v", res)
	}
	var hist []store.Reminder
	var evs []store.Event
	s.View(ctx, func(tx *store.Tx) error {
		hist, _ = tx.Reminders(1)
		evs, _ = tx.Events(1)
		return nil
	})
	var got []string
	for _, r := range hist {
		got = append(got, r.Key+" "+r.State+" "+r.Assignee)
	}
	want := []string{"2027-01-31/-14 skipped alice@ccamp.example", "2027-01-31/-7 sent alice@ccamp.example",
		"2027-01-31/-3 sent bob@ccamp.example", "2027-03-31/-14 sent bob@ccamp.example"}
	if !slices.Equal(got, want) {
		t.Errorf("reminders\n  %v\nwant\n  %v", got, want)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == store.EventReminder {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d reminder events on the history, want 3", n)
	}
}

func TestDigest(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	for i, dl := range []string{"2027-01-10", "2027-01-20", "2027-03-01"} {
		st := &store.Statement{Direction: store.Incoming, State: store.StateOpen, From: store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
			To: []store.BodyRef{{ID: "ccamp", Name: "CCAMP"}}, Title: fmt.Sprintf("LS %d", i), Purpose: "action", Deadline: dl,
			Submitter: "r@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0}
		if i == 1 {
			replied := at("2027-01-18T10:00:00Z")
			st.RepliedAt = &replied // answered: listed as such
		}
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.InsertStatement(st) }); err != nil {
			t.Fatal(err)
		}
	}
	tk := &Tickler{Store: s, Composer: c, Log: slog.New(slog.DiscardHandler), Schedule: Schedule{}, Digest: true, DigestHour: 7}
	for _, tc := range []struct {
		now  string
		want int
	}{{"2027-02-01T06:59:00Z", 0}, {"2027-02-01T07:00:00Z", 1}, {"2027-02-01T18:00:00Z", 0}, {"2027-02-02T07:30:00Z", 1}} {
		res, err := tk.Pass(ctx, at(tc.now), false)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Digests) != tc.want || (tc.want == 1 && res.Digests[0] != "dan@lm.example") {
			t.Errorf("%s: digests %v, want %d to dan@lm.example", tc.now, res.Digests, tc.want)
		}
	}
	var rows []*store.OutboxMail
	s.View(ctx, func(tx *store.Tx) error {
		rows, _ = tx.Outbox(store.OutboxFilter{})
		if len(rows) > 0 {
			rows[0], _ = tx.OutboxMail(rows[0].ID)
		}
		return nil
	})
	if len(rows) != 2 || rows[0].Kind != KindDigest {
		t.Fatalf("outbox %v", rows)
	}
	text := decodeQP(string(rows[0].Raw))
	for _, want := range []string{"LS-1  LS 0", "deadline 2027-01-10 (22 days overdue)", "LS-2  LS 1", "deadline 2027-01-20 (answered on 2027-01-18;"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "LS-3") {
		t.Errorf("digest lists a statement that is not overdue:\n%s", text)
	}
}

// outboxOfKind returns the outbox rows of one kind, with their content.
func outboxOfKind(t *testing.T, s *store.Store, kind string) []*store.OutboxMail {
	t.Helper()
	var out []*store.OutboxMail
	err := s.View(context.Background(), func(tx *store.Tx) error {
		rows, err := tx.Outbox(store.OutboxFilter{})
		for _, r := range rows {
			if r.Kind == kind && err == nil {
				r, err = tx.OutboxMail(r.ID)
				out = append(out, r)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// openStoreFile opens a test store and, beside it, a plain connection to
// its file, for changes the store has no method for here (the commands
// that reassign, close and move deadlines live elsewhere).
func openStoreFile(t *testing.T) (*store.Store, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, db
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
