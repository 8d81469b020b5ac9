package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// IMAPState is where the poller of one mailbox stands (migration 0003).
type IMAPState struct {
	Mailbox     string // key: user@host:port/mailbox
	UIDValidity uint32
	LastUID     uint32 // every message up to this UID (of UIDValidity) is stored
	Connected   bool
	Backlog     int // messages above LastUID at the last look
	LastError   string
	UpdatedAt   time.Time
}

// IMAPState returns the stored state of a mailbox; a mailbox never polled
// gives a zero state (UIDValidity 0) and no error.
func (t *Tx) IMAPState(mailbox string) (*IMAPState, error) {
	st := &IMAPState{Mailbox: mailbox}
	var at string
	err := t.queryRow(`SELECT uidvalidity, last_uid, connected, backlog, last_error, updated_at FROM imap_state WHERE mailbox = ?`, mailbox).
		Scan(&st.UIDValidity, &st.LastUID, &st.Connected, &st.Backlog, &st.LastError, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("imap state of %s: %w", mailbox, err)
	}
	st.UpdatedAt = parseTime(at)
	return st, nil
}

// IMAPStates returns the state of every mailbox ever polled.
func (t *Tx) IMAPStates() ([]*IMAPState, error) {
	rows, err := t.query(`SELECT mailbox, uidvalidity, last_uid, connected, backlog, last_error, updated_at FROM imap_state ORDER BY mailbox`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*IMAPState
	for rows.Next() {
		st := &IMAPState{}
		var at string
		if err := rows.Scan(&st.Mailbox, &st.UIDValidity, &st.LastUID, &st.Connected, &st.Backlog, &st.LastError, &at); err != nil {
			return nil, err
		}
		st.UpdatedAt = parseTime(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

// PutIMAPState writes the whole state of a mailbox.
func (t *Tx) PutIMAPState(st *IMAPState) error {
	_, err := t.exec(`INSERT INTO imap_state (mailbox, uidvalidity, last_uid, connected, backlog, last_error, updated_at) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, connected = excluded.connected,
		backlog = excluded.backlog, last_error = excluded.last_error, updated_at = excluded.updated_at`,
		st.Mailbox, st.UIDValidity, st.LastUID, st.Connected, st.Backlog, st.LastError, fmtTime(st.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save imap state of %s: %w", st.Mailbox, err)
	}
	return nil
}

// SetMessageDisposition records what the source did with a stored message
// once it was committed (moved, flagged, sent to the failed folder).
func (t *Tx) SetMessageDisposition(id int64, disposition string) error {
	_, err := t.exec(`UPDATE messages SET disposition = ? WHERE id = ?`, disposition, id)
	return err
}

// MessageStatus returns the state, error and disposition of a stored message
// without its raw bytes.
func (t *Tx) MessageStatus(id int64) (state, errText, disposition string, err error) {
	err = t.queryRow(`SELECT state, error, disposition FROM messages WHERE id = ?`, id).Scan(&state, &errText, &disposition)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return state, errText, disposition, err
}

// EventOversize records a message too large to take whole (its header is
// kept); it causes one mail to the secretariat.
const EventOversize = "oversize"
