package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event types of commands and the outgoing-statement workflow (DESIGN 4, 6).
const (
	EventComment               = "comment"         // a reply without a command line
	EventCommandRefused        = "command-refused" // a command not done, and why
	EventClosed                = "closed"
	EventReopened              = "reopened"
	EventReassigned            = "reassigned"
	EventRedirected            = "redirected"
	EventDeadlineChanged       = "deadline-changed"
	EventStatus                = "status"
	EventNote                  = "note"
	EventHelp                  = "help"
	EventConfirmationRequested = "confirmation-requested"
	EventConfirmed             = "confirmed"
	EventApprovalRequested     = "approval-requested"
	EventApproved              = "approved"
	EventApprovalRejected      = "approval-rejected"
	EventTransmitted           = "transmitted"   // an outgoing statement went to the SDO
	EventBounced               = "bounced"       // a delivery status notification for one of our mails
	EventHeld                  = "held"          // over the submission rate (DESIGN 7)
	EventDone                  = "done"          // the confirmation of a command mail to its sender (not on the history)
	EventReplyDrafted          = "reply-drafted" // a reply waits for approval
)

// StateRejected is an outgoing statement its approver turned down.
const StateRejected = "rejected"

// SetState changes a statement's state; closing records when.
func (t *Tx) SetState(id int64, state string, at time.Time) error {
	var closed any
	if state == StateClosed || state == StateRejected {
		closed = fmtTime(at)
	}
	_, err := t.exec(`UPDATE statements SET state = ?, closed_at = ? WHERE id = ?`, state, closed, id)
	return wrap(err, "setting the state of LS-%d to %s", id, state)
}

// SetAssignee hands a statement to someone else.
func (t *Tx) SetAssignee(id int64, addr string) error {
	_, err := t.exec(`UPDATE statements SET assignee = ? WHERE id = ?`, addr, id)
	return wrap(err, "assigning LS-%d", id)
}

// SetDeadline changes a statement's deadline (YYYY-MM-DD).
func (t *Tx) SetDeadline(id int64, deadline string) error {
	_, err := t.exec(`UPDATE statements SET deadline = ? WHERE id = ?`, deadline, id)
	return wrap(err, "setting the deadline of LS-%d", id)
}

// SetStatusLine records the status line shown on the statement's page.
func (t *Tx) SetStatusLine(id int64, text string) error {
	_, err := t.exec(`UPDATE statements SET status_line = ? WHERE id = ?`, text, id)
	return wrap(err, "setting the status of LS-%d", id)
}

// ReplaceTo readdresses a statement to other bodies (a redirect).
func (t *Tx) ReplaceTo(id int64, to []BodyRef) error {
	if _, err := t.exec(`DELETE FROM statement_to WHERE statement_id = ?`, id); err != nil {
		return wrap(err, "readdressing LS-%d", id)
	}
	for i, b := range to {
		if _, err := t.exec(`INSERT INTO statement_to (statement_id, pos, body_id, name) VALUES (?,?,?,?)`, id, i+1, b.ID, b.Name); err != nil {
			return wrap(err, "readdressing LS-%d", id)
		}
	}
	return nil
}

// WasRecipient reports whether addr was sent a mail about the statement:
// the "authenticated recipients" that may add notes (DESIGN 6).
func (t *Tx) WasRecipient(statementID int64, addr string) (bool, error) {
	// A recipient's copy may not have been moved yet (InsertOutboxMany).
	if _, err := t.moveStaged(0); err != nil {
		return false, err
	}
	var n int
	err := t.queryRow(`SELECT count(*) FROM outbox WHERE statement_id = ? AND rcpt = ?`, statementID, addr).Scan(&n)
	return n > 0, wrap(err, "looking up the recipients of LS-%d", statementID)
}

// AnswerKinds are the outbox kinds of mail sent to addresses liaisond
// cannot trust: whoever wrote to it, or was named in a mail, may be
// forged. They share one per-address hourly limit (DESIGN 7), so that
// forged mail cannot make liaisond flood a victim.
var AnswerKinds = []string{"error", "help", "receipt", "confirm", "done"}

// RepliesSince counts the mails of the given kinds queued for rcpt since a
// time: the basis of the per-address rate of error and help replies.
func (t *Tx) RepliesSince(rcpt string, kinds []string, since time.Time) (int, error) {
	var n int
	err := t.queryRow(repliesSinceQuery(kinds), rcpt, fmtTime(since)).Scan(&n)
	return n, wrap(err, "counting the answers to %s", rcpt)
}

// repliesSinceQuery writes the kinds into the query as literals, not
// parameters: the index outbox_rcpt holds only the rows of AnswerKinds
// (migration 0014), and SQLite uses a partial index only for a query whose
// condition says so in the same words. It counts the answers staged with
// a notification's copies too (0025), through outbox_staged_answers.
func repliesSinceQuery(kinds []string) string {
	quoted := make([]string, len(kinds))
	for i, k := range kinds {
		quoted[i] = "'" + strings.ReplaceAll(k, "'", "''") + "'"
	}
	in := strings.Join(quoted, ", ")
	return `SELECT (SELECT count(*) FROM outbox WHERE rcpt = ?1 AND created_at >= ?2 AND kind IN (` + in + `))
		+ (SELECT count(*) FROM outbox_staged WHERE answer_rcpt = ?1 AND answer_at >= ?2 AND answer_kind IN (` + in + `))`
}

// StatementsSince counts statements received since a time, from one
// submitter ("" for all that were not held): the basis of the submission
// rate (DESIGN 7).
func (t *Tx) StatementsSince(submitter string, since time.Time) (int, error) {
	var n int
	var err error
	if submitter == "" {
		// Held statements do not count: one flooding sender must not hold
		// everybody else's (DESIGN 7).
		err = t.queryRow(recentStatementsQuery, fmtTime(since), StateHeld).Scan(&n)
	} else {
		err = t.queryRow(`SELECT count(*) FROM statements WHERE submitter = ? AND received_at >= ?`, submitter, fmtTime(since)).Scan(&n)
	}
	return n, wrap(err, "counting recent statements")
}

// recentStatementsQuery counts the statements received since ?1 whose
// state is not ?2 through statements_state (state, received_at), without
// an index on received_at alone (0021): the states there are, found in
// that index one seek each (whatever states exist, none is missed), then
// each one's recent statements.
const recentStatementsQuery = `WITH RECURSIVE states(state) AS (
		SELECT min(state) FROM statements
		UNION ALL SELECT (SELECT min(state) FROM statements WHERE state > states.state) FROM states WHERE states.state IS NOT NULL)
	SELECT count(*) FROM statements WHERE state IN (SELECT state FROM states WHERE state IS NOT NULL AND state != ?2) AND received_at >= ?1`

// HeldSince reports whether any statement was held since a time (the
// secretariat is told once per burst, not once per mail).
func (t *Tx) HeldSince(since time.Time) (bool, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM events WHERE type = ? AND at >= ?`, EventHeld, fmtTime(since)).Scan(&n)
	return n > 0, wrap(err, "looking up held statements")
}

// OutboxByMessageID finds the outbox row that sent a Message-ID.
func (t *Tx) OutboxByMessageID(messageID string) (*OutboxMail, error) {
	if _, err := t.moveStaged(0); err != nil {
		return nil, err
	}
	m, err := scanOutbox(t.queryRow(outboxRowsSelect+` WHERE o.message_id = ?`, messageID), false)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("outbox message %s: %w", messageID, ErrNotFound)
	}
	return m, err
}

// MarkBounced records that a mail the server took was later returned.
func (t *Tx) MarkBounced(id int64, reason string) error {
	_, err := t.exec(`UPDATE outbox SET state = ?, last_error = ? WHERE id = ?`, OutboxFailed, "bounced: "+reason, id)
	return err
}
