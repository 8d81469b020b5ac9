package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Event types written by the reminder scheduler and the outbox sender.
const (
	EventReminder = "reminder" // a tickler went to the assignee
)

// Reminder states.
const (
	ReminderSent    = "sent"
	ReminderSkipped = "skipped" // a later due point was due at the same pass
)

// ReminderPlan is what the scheduler remembers of one statement: the
// deadline its due points follow, the time before which none is sent, and
// the latest due point handled.
type ReminderPlan struct {
	StatementID int64
	Deadline    string
	Since       time.Time
	LastDue     time.Time // zero: none handled yet
	LastKey     string
}

// ReminderCandidate is one open, unanswered incoming statement as the scheduler's scan
// sees it: just what the planner needs, and its plan (Plan nil: none yet).
type ReminderCandidate struct {
	ID         int64
	Deadline   string
	ReceivedAt time.Time
	Plan       *ReminderPlan
}

// EachReminderCandidate streams every open incoming statement with its
// reminder plan, in one query, oldest first.
func (t *Tx) EachReminderCandidate(fn func(c *ReminderCandidate) error) error {
	rows, err := t.query(reminderCandidatesQuery, Incoming, StateOpen)
	if err != nil {
		return fmt.Errorf("scan open statements: %w", err)
	}
	defer rows.Close()
	var c ReminderCandidate
	var plan ReminderPlan
	for rows.Next() {
		var received string
		var pDeadline, pSince, pLast, pKey sql.NullString
		if err := rows.Scan(&c.ID, &c.Deadline, &received, &pDeadline, &pSince, &pLast, &pKey); err != nil {
			return err
		}
		c.ReceivedAt = parseTime(received)
		c.Plan = nil
		if pSince.Valid {
			plan = ReminderPlan{StatementID: c.ID, Deadline: pDeadline.String, Since: parseTime(pSince.String), LastKey: pKey.String}
			plan.LastDue = parseTime(pLast.String)
			c.Plan = &plan
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReminderPlanOf returns a statement's reminder plan, nil when it has none.
func (t *Tx) ReminderPlanOf(statementID int64) (*ReminderPlan, error) {
	p := ReminderPlan{StatementID: statementID}
	var since, last string
	err := t.queryRow(`SELECT deadline, since, last_due, last_key FROM reminder_plans WHERE statement_id = ?`, statementID).
		Scan(&p.Deadline, &since, &last, &p.LastKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Since, p.LastDue = parseTime(since), parseTime(last)
	return &p, nil
}

// SaveReminderPlan writes a statement's reminder plan.
func (t *Tx) SaveReminderPlan(p *ReminderPlan) error {
	last := ""
	if !p.LastDue.IsZero() {
		last = fmtTime(p.LastDue)
	}
	_, err := t.exec(`INSERT INTO reminder_plans (statement_id, deadline, since, last_due, last_key) VALUES (?,?,?,?,?)
		ON CONFLICT(statement_id) DO UPDATE SET deadline = excluded.deadline, since = excluded.since,
		last_due = excluded.last_due, last_key = excluded.last_key`,
		p.StatementID, p.Deadline, fmtTime(p.Since), last, p.LastKey)
	if err != nil {
		return fmt.Errorf("save reminder plan of LS-%d: %w", p.StatementID, err)
	}
	return nil
}

// Reminder is one due point handled.
type Reminder struct {
	StatementID int64
	Key         string
	DueAt       time.Time
	State       string
	Assignee    string
	At          time.Time
	EventID     int64
}

// InsertReminder records a handled due point. It returns false, changing
// nothing, when that due point was handled before.
func (t *Tx) InsertReminder(r *Reminder) (bool, error) {
	res, err := t.exec(`INSERT INTO reminders (statement_id, due_key, due_at, state, assignee, at, event_id) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT(statement_id, due_key) DO NOTHING`,
		r.StatementID, r.Key, fmtTime(r.DueAt), r.State, r.Assignee, fmtTime(r.At), nullID(r.EventID))
	if err != nil {
		return false, fmt.Errorf("record reminder %s of LS-%d: %w", r.Key, r.StatementID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetReminderEvent links a sent reminder to the event recorded for it.
func (t *Tx) SetReminderEvent(statementID int64, key string, eventID int64) error {
	_, err := t.exec(`UPDATE reminders SET event_id = ? WHERE statement_id = ? AND due_key = ?`, eventID, statementID, key)
	return err
}

// Reminders lists the due points handled for a statement, oldest first.
func (t *Tx) Reminders(statementID int64) ([]Reminder, error) {
	rows, err := t.query(`SELECT statement_id, due_key, due_at, state, assignee, at, coalesce(event_id, 0) FROM reminders
		WHERE statement_id = ? ORDER BY due_at, due_key`, statementID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []Reminder
	for rows.Next() {
		var r Reminder
		var due, at string
		if err := rows.Scan(&r.StatementID, &r.Key, &due, &r.State, &r.Assignee, &at, &r.EventID); err != nil {
			return nil, err
		}
		r.DueAt, r.At = parseTime(due), parseTime(at)
		list = append(list, r)
	}
	return list, rows.Err()
}

// SchedulerTime reads a named time of the scheduler (zero when unset).
func (t *Tx) SchedulerTime(name string) (time.Time, error) {
	var v string
	err := t.queryRow(`SELECT value FROM scheduler_state WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return parseTime(v), err
}

// SetSchedulerTime writes a named time of the scheduler.
func (t *Tx) SetSchedulerTime(name string, v time.Time) error {
	_, err := t.exec(`INSERT INTO scheduler_state (name, value) VALUES (?,?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, fmtTime(v))
	return err
}

// ClaimDigest records that rcpt gets the digest of day (YYYY-MM-DD); false
// when it already had it.
func (t *Tx) ClaimDigest(rcpt, day string, at time.Time) (bool, error) {
	res, err := t.exec(`INSERT INTO digests (rcpt, day, at) VALUES (?,?,?) ON CONFLICT DO NOTHING`, rcpt, day, fmtTime(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ClaimDeliveryAlert records that the secretariat is told about the
// undeliverable mail of cause; false when it was told before.
func (t *Tx) ClaimDeliveryAlert(cause string, at time.Time) (bool, error) {
	res, err := t.exec(`INSERT INTO delivery_alerts (cause, at) VALUES (?,?) ON CONFLICT DO NOTHING`, cause, fmtTime(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// OverdueStatements lists the open incoming statements whose deadline is
// before day (YYYY-MM-DD), earliest deadline first, without child rows.
func (t *Tx) OverdueStatements(day string) ([]*Statement, error) {
	rows, err := t.query(overdueStatementsQuery, Incoming, StateOpen, day)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*Statement
	for rows.Next() {
		st, err := scanStatement(rows)
		if err != nil {
			return nil, err
		}
		st.Body = ""
		list = append(list, st)
	}
	return list, rows.Err()
}

// ClaimDueOutbox takes up to limit queued mails whose next attempt is due,
// with their raw content, and marks them sending (an attempt starts) in the
// same transaction: two senders (serve and a `liaisond ingest`) never take
// the same mail.
func (t *Tx) ClaimDueOutbox(now time.Time, limit int) ([]*OutboxMail, error) {
	// Staged copies first (InsertOutboxMany): twice as many as a claim
	// takes, so that moving keeps ahead of sending while each move holds
	// the write lock about as long as the claim (100 copies: about 1 ms,
	// BenchmarkMoveStaged).
	if _, err := t.moveStaged(max(2*limit, 1)); err != nil {
		return nil, err
	}
	list, err := t.DueOutbox(now, limit)
	if err != nil {
		return nil, err
	}
	for _, m := range list {
		if err := t.MarkSending(m.ID, now); err != nil {
			return nil, err
		}
		m.State = OutboxSending
	}
	return list, nil
}

// SendingOutbox returns the mails left in state sending (by a crash), with
// their raw content.
func (t *Tx) SendingOutbox() ([]*OutboxMail, error) {
	list, err := t.outboxRows(outboxRawSelect+` WHERE o.state = ? ORDER BY o.id`, true, OutboxSending)
	return list, wrap(err, "reading the outbox left sending")
}

// ReminderCandidateOf reads one statement as the scheduler's scan would;
// open reports whether it is an open incoming statement.
func (t *Tx) ReminderCandidateOf(id int64) (c *ReminderCandidate, open bool, err error) {
	c = &ReminderCandidate{ID: id}
	var received, direction, state string
	var replied sql.NullString
	err = t.queryRow(`SELECT deadline, received_at, direction, state, replied_at FROM statements WHERE id = ?`, id).Scan(&c.Deadline, &received, &direction, &state, &replied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("LS-%d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, false, err
	}
	c.ReceivedAt = parseTime(received)
	if c.Plan, err = t.ReminderPlanOf(id); err != nil {
		return nil, false, err
	}
	// A statement answered by `reply` is the action taken (RFC 4053
	// Appendix B): no more reminders, though it stays current until closed.
	return c, direction == Incoming && state == StateOpen && !replied.Valid, nil
}

// PlanNewStatements gives every open incoming statement without a reminder
// plan its first one, set-wise: its current deadline, from its arrival
// (what the planner would write one by one). It returns how many.
func (t *Tx) PlanNewStatements() (int64, error) {
	res, err := t.exec(planNewStatementsQuery, Incoming, StateOpen)
	if err != nil {
		return 0, fmt.Errorf("plan new statements: %w", err)
	}
	return res.RowsAffected()
}

// The scheduler's scans of the open incoming statements (their arguments:
// Incoming, StateOpen), named for the test that they read an index
// (statements_state) and not the whole table.
const (
	reminderCandidatesQuery = `SELECT s.id, s.deadline, s.received_at, p.deadline, p.since, p.last_due, p.last_key
		FROM statements s LEFT JOIN reminder_plans p ON p.statement_id = s.id
		WHERE s.direction = ? AND s.state = ? AND s.replied_at IS NULL ORDER BY s.id`
	overdueStatementsQuery = `SELECT ` + statementColumns + ` FROM statements WHERE direction = ? AND state = ? AND deadline != '' AND deadline < ?
		ORDER BY deadline, id`
	planNewStatementsQuery = `INSERT INTO reminder_plans (statement_id, deadline, since)
		SELECT s.id, s.deadline, s.received_at FROM statements s
		WHERE s.direction = ? AND s.state = ? AND s.replied_at IS NULL AND NOT EXISTS (SELECT 1 FROM reminder_plans p WHERE p.statement_id = s.id)`
)
