package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"liaisond/store"
)

// Schedule is the reminder schedule of DESIGN 5: due points at BeforeDays
// days before the deadline (0 = the deadline day), then every OverdueDays
// while overdue; a statement without a deadline every NoDeadlineDays after
// it arrived. Deadline-based points fall at Hour o'clock UTC of their day.
type Schedule struct {
	BeforeDays     []int
	OverdueDays    int // 0: no reminders once overdue
	NoDeadlineDays int // 0: none for statements without a deadline
	Hour           int
}

// DefaultSchedule is DESIGN 5's schedule.
func DefaultSchedule() Schedule {
	return Schedule{BeforeDays: []int{14, 7, 3, 1, 0}, OverdueDays: 7, NoDeadlineDays: 30, Hour: 8}
}

// DuePoint is one moment a reminder is due.
type DuePoint struct {
	Key string    // stable name: "2027-01-31/-7", "2027-01-31/0", "2027-01-31/+14", "open/+30"
	At  time.Time // when it is due
	// Days is relative to the deadline (negative before it, positive once
	// overdue) or, without a deadline, the days since the statement arrived.
	Days       int
	NoDeadline bool
}

// PlanInput is what the planner knows of one statement.
type PlanInput struct {
	Open       bool // an open incoming statement; anything else gets no reminder
	Deadline   string
	ReceivedAt time.Time
	Plan       *store.ReminderPlan // nil: never planned before
}

// Decision is what to do for one statement at one pass.
type Decision struct {
	Send    *DuePoint  // the reminder to send now; nil: none
	Skipped []DuePoint // earlier due points passed over (the daemon was down)
	Next    time.Time  // the next due point after now; zero: none
	Plan    store.ReminderPlan
	Changed bool // Plan differs from the stored one and must be saved
}

const day = 24 * time.Hour

// Decide is the planner, a pure function: given a statement, its stored
// plan, the time of the previous pass and now, it says which due point (if
// any) to send. Only due points after the plan's start and after the last
// one handled count, and of those only the latest is sent: after downtime
// one reminder, never a backlog. A changed deadline re-plans from the
// previous pass: due points of the new deadline that fell before it were
// never owed and are not sent.
func (s Schedule) Decide(in PlanInput, lastPass, now time.Time) Decision {
	var d Decision
	if !in.Open {
		return d
	}
	if in.Plan == nil {
		d.Plan = store.ReminderPlan{Deadline: in.Deadline, Since: in.ReceivedAt}
		d.Changed = true
	} else {
		d.Plan = *in.Plan
		if d.Plan.Deadline != in.Deadline {
			since := now
			if !lastPass.IsZero() && lastPass.Before(now) {
				since = lastPass
			}
			if since.Before(in.ReceivedAt) {
				since = in.ReceivedAt
			}
			d.Plan = store.ReminderPlan{Deadline: in.Deadline, Since: since, LastDue: d.Plan.LastDue, LastKey: d.Plan.LastKey}
			d.Changed = true
		}
	}
	lower := d.Plan.Since
	if d.Plan.LastDue.After(lower) {
		lower = d.Plan.LastDue
	}
	due, next := s.points(in, lower, now)
	if len(due) > 0 {
		last := due[len(due)-1]
		d.Send = &last
		d.Skipped = due[:len(due)-1]
		d.Plan.LastDue, d.Plan.LastKey = last.At, last.Key
		d.Changed = true
	}
	d.Next = next
	return d
}

// maxCatchUp bounds how many skipped due points one decision lists.
const maxCatchUp = 100

// points returns the due points in (lower, now], oldest first, and the
// first due point after max(lower, now).
func (s Schedule) points(in PlanInput, lower, now time.Time) (due []DuePoint, next time.Time) {
	after := now
	if lower.After(after) {
		after = lower
	}
	consider := func(p DuePoint) bool {
		if p.At.After(lower) && !p.At.After(now) {
			due = append(due, p)
		} else if p.At.After(after) && (next.IsZero() || p.At.Before(next)) {
			next = p.At
		}
		return p.At.After(after)
	}
	dl, err := time.Parse("2006-01-02", in.Deadline)
	if in.Deadline == "" || err != nil {
		if s.NoDeadlineDays <= 0 {
			return nil, time.Time{}
		}
		period := time.Duration(s.NoDeadlineDays) * day
		s.periodic(in.ReceivedAt, period, lower, func(k int64, at time.Time) bool {
			return consider(DuePoint{Key: fmt.Sprintf("open/+%d", k*int64(s.NoDeadlineDays)), At: at, Days: int(k) * s.NoDeadlineDays, NoDeadline: true})
		})
		return trim(due), next
	}
	d0 := dl.Add(time.Duration(s.Hour) * time.Hour)
	before := slices.Clone(s.BeforeDays)
	slices.Sort(before)
	slices.Reverse(before)
	for _, n := range slices.Compact(before) {
		key := fmt.Sprintf("%s/-%d", in.Deadline, n)
		if n == 0 {
			key = in.Deadline + "/0"
		}
		if consider(DuePoint{Key: key, At: d0.Add(-time.Duration(n) * day), Days: -n}) {
			return trim(due), next
		}
	}
	if s.OverdueDays > 0 {
		period := time.Duration(s.OverdueDays) * day
		s.periodic(d0, period, lower, func(k int64, at time.Time) bool {
			n := int(k) * s.OverdueDays
			return consider(DuePoint{Key: fmt.Sprintf("%s/+%d", in.Deadline, n), At: at, Days: n})
		})
	}
	return trim(due), next
}

// periodic calls fn for base+k*period, k >= 1, starting near lower (never
// walking years of points one by one), until fn returns true.
func (s Schedule) periodic(base time.Time, period time.Duration, lower time.Time, fn func(k int64, at time.Time) bool) {
	k := int64(1)
	if lower.After(base) {
		k = max(1, int64(lower.Sub(base)/period)-maxCatchUp)
	}
	for ; ; k++ {
		if fn(k, base.Add(time.Duration(k)*period)) {
			return
		}
	}
}

func trim(due []DuePoint) []DuePoint {
	if len(due) > maxCatchUp+1 {
		return due[len(due)-maxCatchUp-1:]
	}
	return due
}

// Describe says in words when a due point is, for logs and the CLI.
func (p DuePoint) Describe() string {
	switch {
	case p.NoDeadline:
		return fmt.Sprintf("open for %d days, no deadline", p.Days)
	case p.Days < 0:
		return fmt.Sprintf("%d day(s) before the deadline", -p.Days)
	case p.Days == 0:
		return "deadline day"
	}
	return fmt.Sprintf("%d day(s) overdue", p.Days)
}

// Tickler runs reminder passes: it plans every open incoming statement,
// queues the ticklers due, and (when enabled) the daily digest.
type Tickler struct {
	Store    *store.Store
	Composer *Composer
	Log      *slog.Logger
	Now      func() time.Time
	Schedule Schedule
	// Interval is the longest the scheduler sleeps between passes (a
	// deadline changed by a command is seen within it).
	Interval time.Duration
	// Digest enables the daily digest of overdue statements to the liaison
	// managers, sent at DigestHour o'clock UTC.
	Digest     bool
	DigestHour int
	// Queued is called when a pass queued mail (wakes the outbox sender).
	Queued func()
}

// Planned is one reminder a pass sent (or, dry, would send).
type Planned struct {
	Ref      string
	Point    DuePoint
	Skipped  int
	To, Cc   []string
	Assignee string
}

// PassResult sums up one pass.
type PassResult struct {
	Scanned   int
	Reminders []Planned
	Replanned int       // statements whose plan was written (new or changed deadline)
	Digests   []string  // recipients of a digest
	Next      time.Time // the next due point; zero: none
}

const lastPassKey = "tickler.last_pass"

// errDryRun rolls a dry pass back after it has done everything.
var errDryRun = errors.New("dry run")

// Pass runs one reminder pass at now. A dry pass does all the work in
// transactions that are rolled back, so it prints exactly what a real one
// would send.
func (t *Tickler) Pass(ctx context.Context, now time.Time, dry bool) (*PassResult, error) {
	res := &PassResult{}
	if !dry {
		// New statements get their first plan in one statement, so that the
		// scan below finds work only where a reminder is due or a deadline moved.
		err := t.Store.Update(ctx, func(tx *store.Tx) error {
			n, err := tx.PlanNewStatements()
			res.Replanned += int(n)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reminder pass: %w", err)
		}
	}
	var lastPass time.Time
	var work []int64
	err := t.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		if lastPass, err = tx.SchedulerTime(lastPassKey); err != nil {
			return err
		}
		return tx.EachReminderCandidate(func(c *store.ReminderCandidate) error {
			res.Scanned++
			d := t.Schedule.Decide(PlanInput{Open: true, Deadline: c.Deadline, ReceivedAt: c.ReceivedAt, Plan: c.Plan}, lastPass, now)
			if d.Changed {
				work = append(work, c.ID)
			}
			if !d.Next.IsZero() && (res.Next.IsZero() || d.Next.Before(res.Next)) {
				res.Next = d.Next
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reminder pass: %w", err)
	}
	// Write in batches: the database stays free for incoming mail between them.
	const batch = 500
	for first := true; first || len(work) > 0; first = false {
		n := min(batch, len(work))
		chunk := work[:n]
		work = work[n:]
		err := t.Store.Update(ctx, func(tx *store.Tx) error {
			for _, id := range chunk {
				if err := t.apply(ctx, tx, id, lastPass, now, res); err != nil {
					return fmt.Errorf("LS-%d: %w", id, err)
				}
			}
			if len(work) == 0 {
				if err := t.digest(tx, now, res); err != nil {
					return err
				}
				if err := tx.SetSchedulerTime(lastPassKey, now); err != nil {
					return err
				}
			}
			if dry {
				return errDryRun
			}
			return nil
		})
		if err != nil && !errors.Is(err, errDryRun) {
			return res, fmt.Errorf("reminder pass: %w", err)
		}
	}
	if !dry && (len(res.Reminders) > 0 || len(res.Digests) > 0) && t.Queued != nil {
		t.Queued()
	}
	return res, nil
}

// apply decides again for one statement inside the write transaction (the
// scan was only a filter) and records and queues what is due.
func (t *Tickler) apply(ctx context.Context, tx *store.Tx, id int64, lastPass, now time.Time, res *PassResult) error {
	c, open, err := tx.ReminderCandidateOf(id)
	if err != nil {
		return err
	}
	d := t.Schedule.Decide(PlanInput{Open: open, Deadline: c.Deadline, ReceivedAt: c.ReceivedAt, Plan: c.Plan}, lastPass, now)
	if !d.Changed {
		return nil
	}
	d.Plan.StatementID = id
	if err := tx.SaveReminderPlan(&d.Plan); err != nil {
		return err
	}
	if d.Send == nil {
		res.Replanned++
		return nil
	}
	st, err := tx.Statement(id)
	if err != nil {
		return err
	}
	for _, p := range d.Skipped {
		if _, err := tx.InsertReminder(&store.Reminder{StatementID: id, Key: p.Key, DueAt: p.At, State: store.ReminderSkipped, Assignee: st.Assignee, At: now}); err != nil {
			return err
		}
	}
	fresh, err := tx.InsertReminder(&store.Reminder{StatementID: id, Key: d.Send.Key, DueAt: d.Send.At, State: store.ReminderSent, Assignee: st.Assignee, At: now})
	if err != nil || !fresh {
		return err // already sent: a due point goes out once
	}
	ev := &store.Event{StatementID: id, At: now, Type: store.EventReminder, By: "liaisond",
		Text: fmt.Sprintf("reminder (%s) sent to %s", d.Send.Describe(), st.Assignee)}
	if err := ev.SetData(store.ReminderData{Due: d.Send.Key, Skipped: len(d.Skipped)}); err != nil {
		return err
	}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	if err := tx.SetReminderEvent(id, d.Send.Key, ev.ID); err != nil {
		return err
	}
	to, cc, err := t.Composer.Tickler(ctx, tx, st, ev, *d.Send, now)
	if err != nil {
		return err
	}
	res.Reminders = append(res.Reminders, Planned{Ref: st.Ref(), Point: *d.Send, Skipped: len(d.Skipped), To: to, Cc: cc, Assignee: st.Assignee})
	return nil
}

// digest queues the daily digest of overdue statements, once a day per
// liaison manager, from DigestHour on.
func (t *Tickler) digest(tx *store.Tx, now time.Time, res *PassResult) error {
	if !t.Digest {
		return nil
	}
	today := now.UTC().Truncate(day)
	if now.Before(today.Add(time.Duration(t.DigestHour) * time.Hour)) {
		return nil
	}
	sent, err := t.Composer.Digests(tx, today.Format("2006-01-02"), now)
	res.Digests = append(res.Digests, sent...)
	return err
}

// Run makes a pass now, then at each next due point, at least every
// Interval, until ctx is cancelled. A failed pass is logged and retried.
func (t *Tickler) Run(ctx context.Context) error {
	interval := t.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		now := t.Now()
		wait := interval
		res, err := t.Pass(ctx, now, false)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			t.Log.Error("reminder pass failed; trying again", "err", err, "retry_in", interval)
		} else {
			if len(res.Reminders) > 0 || len(res.Digests) > 0 || res.Replanned > 0 {
				t.Log.Info("reminder pass", "open_statements", res.Scanned, "reminders", len(res.Reminders), "digests", len(res.Digests), "replanned", res.Replanned)
			}
			for _, r := range res.Reminders {
				t.Log.Info("reminder queued", "statement", r.Ref, "due", r.Point.Key, "when", r.Point.Describe(), "to", r.Assignee, "skipped", r.Skipped)
			}
			next := res.Next
			if t.Digest {
				digestAt := now.UTC().Truncate(day).Add(time.Duration(t.DigestHour) * time.Hour)
				if !digestAt.After(now) {
					digestAt = digestAt.Add(day)
				}
				if next.IsZero() || digestAt.Before(next) {
					next = digestAt
				}
			}
			if !next.IsZero() {
				wait = min(wait, max(next.Sub(now), time.Second))
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}
