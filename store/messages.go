package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one received mail, kept byte for byte.
type Message struct {
	ID         int64
	ReceivedAt time.Time
	Source     string   // smtp, lmtp, imap, pipe
	MailFrom   string   // envelope sender
	RcptTo     []string // envelope recipients
	MessageID  string   // Message-ID header without brackets
	Identity   string   // equal for re-deliveries of the same message
	// LegacyIdentity is the identity an earlier version computed for the
	// same bytes: a message stored then is still recognized (not stored).
	// Empty when the store holds no such identity (LegacyIdentityPossible).
	LegacyIdentity string
	SHA256         string // of Raw, hex
	Raw            []byte
	Class          string
	State          string
	Error          string
}

// Message states.
const (
	MessageReceived  = "received"  // stored, not yet processed
	MessageProcessed = "processed" // applied
	MessageRejected  = "rejected"  // a submission with problems; the sender was told
	MessageIgnored   = "ignored"   // automatic mail, loops: kept, never answered
	MessageHeld      = "held"      // kept for a later step (e.g. a command before commands are handled)
	MessageFailed    = "failed"    // processing failed permanently; the error says why
)

// messageInlineMax is the largest raw message kept in its messages row;
// a larger one goes to pieces (as a large attachment does). A message's
// row is updated in the transaction that stored it (SetMessageState), and
// SQLite rewrites a whole row on UPDATE, its overflow pages included: with
// the raw bytes in the row every received mail was copied twice inside the
// write lock. Small mails stay inline, where one row costs less than two.
const messageInlineMax = 2048

// Legacy identities (DESIGN 5.1): before identities ignored trace fields
// and line ends, a message with a Message-ID had "mid:" and one without
// "raw:" (which the present rule still gives a message whose header cannot
// be parsed). A database without either was never written by such a
// version, so a message's legacy identity need not be computed.
func isLegacyIdentity(id string) bool {
	return strings.HasPrefix(id, "mid:") || strings.HasPrefix(id, "raw:")
}

// findLegacyIdentities sets legacyIDs when the database holds an identity
// of the earlier form (on the identity index: two range lookups).
func (s *Store) findLegacyIdentities(ctx context.Context) error {
	var found bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM messages WHERE identity >= 'mid:' AND identity < 'mid;')
		OR EXISTS(SELECT 1 FROM messages WHERE identity >= 'raw:' AND identity < 'raw;')`).Scan(&found)
	if err != nil {
		return fmt.Errorf("looking for legacy message identities: %w", err)
	}
	s.legacyIDs.Store(found)
	return nil
}

// LegacyIdentityPossible reports whether a message may have been stored
// under its legacy identity: only then is Message.LegacyIdentity worth
// computing (parse.LegacyIdentity reads the whole message once more).
func (s *Store) LegacyIdentityPossible() bool { return s.legacyIDs.Load() }

// InsertMessage stores a received message. When a message with the same
// identity is already stored it returns that message's id and dup=true and
// stores nothing (DESIGN 5.1: a re-delivery changes nothing).
func (t *Tx) InsertMessage(m *Message) (id int64, dup bool, err error) {
	rcpt, _ := json.Marshal(nonNil(m.RcptTo))
	if m.LegacyIdentity != "" && m.LegacyIdentity != m.Identity {
		err := t.queryRow(`SELECT id FROM messages WHERE identity = ?`, m.LegacyIdentity).Scan(&id)
		if err == nil {
			return id, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, fmt.Errorf("find stored message: %w", err)
		}
	}
	if isLegacyIdentity(m.Identity) && t.legacyIDs != nil {
		t.legacyIDs.Store(true) // before the commit: the flag may only err on the safe side
	}
	state := m.State
	if state == "" {
		state = MessageReceived
	}
	raw := m.Raw
	if len(raw) > messageInlineMax {
		raw = []byte{} // kept in pieces, below
	}
	res, err := t.exec(`INSERT INTO messages (received_at, source, mail_from, rcpt_to, message_id, identity, sha256, size, raw, class, state, error)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(identity) DO NOTHING`,
		fmtTime(m.ReceivedAt), m.Source, m.MailFrom, string(rcpt), m.MessageID, m.Identity, m.SHA256, len(m.Raw), raw, m.Class, state, m.Error)
	if err != nil {
		return 0, false, fmt.Errorf("store message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		err := t.queryRow(`SELECT id FROM messages WHERE identity = ?`, m.Identity).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("find stored message: %w", err)
		}
		return id, true, nil
	}
	id, err = res.LastInsertId()
	if err != nil {
		return 0, false, err
	}
	m.ID = id
	if len(raw) < len(m.Raw) {
		if err := t.putRaw(id, m.Raw); err != nil {
			return 0, false, fmt.Errorf("store message: %w", err)
		}
	}
	return id, false, nil
}

// SetMessageState records what became of a message.
func (t *Tx) SetMessageState(id int64, class, state, errText string) error {
	_, err := t.exec(`UPDATE messages SET class = ?, state = ?, error = ? WHERE id = ?`, class, state, errText, id)
	return wrap(err, "setting the state of message %d", id)
}

// Message returns one stored message with its raw bytes.
func (t *Tx) Message(id int64) (*Message, error) {
	var m Message
	var at, rcpt string
	var size int64
	err := t.queryRow(`SELECT id, received_at, source, mail_from, rcpt_to, message_id, identity, sha256, size, raw, class, state, error
		FROM messages WHERE id = ?`, id).Scan(&m.ID, &at, &m.Source, &m.MailFrom, &rcpt, &m.MessageID, &m.Identity, &m.SHA256, &size, &m.Raw, &m.Class, &m.State, &m.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if len(m.Raw) == 0 && size > 0 {
		if m.Raw, err = t.readRaw(id, size); err != nil {
			return nil, fmt.Errorf("message %d: %w", id, err)
		}
	}
	m.ReceivedAt = parseTime(at)
	json.Unmarshal([]byte(rcpt), &m.RcptTo)
	return &m, nil
}

// MessagesInState lists the ids of messages in a state, oldest first: used
// to finish the processing of messages stored before a crash.
func (t *Tx) MessagesInState(state string, limit int) ([]int64, error) {
	return t.queryIDs(`SELECT id FROM messages WHERE state = ? ORDER BY id LIMIT ?`, state, limit)
}

// queryIDs runs a query that selects one integer column.
func (t *Tx) queryIDs(query string, args ...any) ([]int64, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// MessageCounts counts stored messages by state.
func (t *Tx) MessageCounts() (map[string]int, error) {
	return t.countByState(`SELECT state, count(*) FROM messages GROUP BY state`)
}

// countByState runs a "SELECT state, count(*) ... GROUP BY state" query.
func (t *Tx) countByState(query string) (map[string]int, error) {
	rows, err := t.query(query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		counts[s] = n
	}
	return counts, rows.Err()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// StatementsFromMessageID returns the statements made from earlier stored
// messages with this Message-ID (other than message except): a sender that
// reused a Message-ID for other content (DESIGN 5.1).
func (t *Tx) StatementsFromMessageID(messageID string, except int64) ([]int64, error) {
	if messageID == "" {
		return nil, nil
	}
	return t.queryIDs(`SELECT s.id FROM statements s JOIN messages m ON m.id = s.message_id
		WHERE m.message_id = ? AND m.id <> ? ORDER BY s.id`, messageID, except)
}
