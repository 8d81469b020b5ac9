package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one entry of a statement's history, or a decision about a message
// that made no statement (a rejected submission). Data holds details for the
// mails the event causes (JSON object).
type Event struct {
	ID          int64
	StatementID int64 // 0: none
	MessageID   int64 // 0: none
	At          time.Time
	Type        string
	By          string
	Text        string
	Data        json.RawMessage
	// Private: caused by mail that did not authenticate; for the operator
	// only, never on a public page, feed or API (DESIGN 6).
	Private bool
}

// Event types written by liaisond.
const (
	EventSubmitted      = "submitted"
	EventRejected       = "rejected"
	EventDeadlinePast   = "deadline-past"
	EventDeliveryFailed = "delivery-failed"
	EventReplied        = "replied"
)

// InsertEvent appends an event and sets ev.ID. An event without a time
// gets the transaction's (Tx.Now).
func (t *Tx) InsertEvent(ev *Event) error {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	if ev.At.IsZero() {
		ev.At = t.now
	}
	res, err := t.exec(`INSERT INTO events (statement_id, message_id, at, type, by, text, data, private) VALUES (?,?,?,?,?,?,?,?)`,
		nullID(ev.StatementID), nullID(ev.MessageID), fmtTime(ev.At), ev.Type, ev.By, ev.Text, string(data), ev.Private)
	if err != nil {
		return fmt.Errorf("inserting %s event: %w", ev.Type, err)
	}
	ev.ID, err = res.LastInsertId()
	if err != nil {
		return fmt.Errorf("inserting %s event: %w", ev.Type, err)
	}
	written := *ev
	written.Data = data
	t.written = append(t.written, written)
	return nil
}

// Events returns a statement's history, oldest first.
func (t *Tx) Events(statementID int64) ([]Event, error) {
	evs, err := t.events(`statement_id = ?`, statementID)
	if err != nil {
		return nil, fmt.Errorf("reading the history of LS-%d: %w", statementID, err)
	}
	return evs, nil
}

// MessageEvents returns the events recorded for a message, oldest first.
func (t *Tx) MessageEvents(messageID int64) ([]Event, error) {
	evs, err := t.events(`message_id = ?`, messageID)
	if err != nil {
		return nil, fmt.Errorf("reading the events of message %d: %w", messageID, err)
	}
	return evs, nil
}

// events reads the events that cond selects, oldest first.
func (t *Tx) events(cond string, args ...any) ([]Event, error) {
	rows, err := t.query(`SELECT id, coalesce(statement_id,0), coalesce(message_id,0), at, type, by, text, data, private FROM events
		WHERE `+cond+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var ev Event
		var at, data string
		if err := rows.Scan(&ev.ID, &ev.StatementID, &ev.MessageID, &at, &ev.Type, &ev.By, &ev.Text, &data, &ev.Private); err != nil {
			return nil, err
		}
		ev.At = parseTime(at)
		ev.Data = json.RawMessage(data)
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// PublicEvents returns the events anyone may see: all but the private ones.
func PublicEvents(evs []Event) []Event {
	out := make([]Event, 0, len(evs))
	for _, ev := range evs {
		if !ev.Private {
			out = append(out, ev)
		}
	}
	return out
}
