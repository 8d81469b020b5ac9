package store

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outbox states.
const (
	OutboxQueued  = "queued"
	OutboxSending = "sending" // an attempt is under way (or was, when the daemon died)
	OutboxSent    = "sent"
	OutboxFailed  = "failed" // permanently; the statement's history says why
)

// OutboxMail is one rendered mail for one envelope recipient.
type OutboxMail struct {
	ID           int64
	StatementID  int64 // 0: none (e.g. the error reply to a rejected submission)
	EventID      int64
	Kind         string // notification, receipt, tickler, response, outgoing, error, confirm, approval, help, reassigned
	EnvelopeFrom string
	Rcpt         string   // the one envelope recipient
	From         string   // header From, bare address
	To           []string // header To, bare addresses
	Cc           []string // header Cc, bare addresses
	Subject      string
	MessageID    string // without brackets
	Raw          []byte
	// Shared and Fill, when Shared is set, are the mail instead of Raw:
	// the copies of one mail share the parts, stored once, and each keeps
	// its own values, which go between them (Bytes). Reading a mail joins
	// them and sets Raw alone.
	Shared      *SharedParts
	Fill        [][]byte
	fillStored  []byte // Fill as stored (encodeParts), made by EncodeFill
	State       string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
	SentAt      *time.Time
}

// Bytes is the mail: Raw, or its shared parts with its values between.
func (m *OutboxMail) Bytes() []byte {
	if m.Shared != nil {
		return m.Shared.Join(m.Fill)
	}
	return m.Raw
}

// EncodeFill makes, once Fill is final, the form in which InsertOutboxMany
// stores it: a caller that composes mails before its transaction (notify)
// calls it then, so that the encoding is not done under the write lock.
func (m *OutboxMail) EncodeFill() {
	m.fillStored = encodeParts(m.Fill)
}

// InsertOutbox queues a mail and sets m.ID.
func (t *Tx) InsertOutbox(m *OutboxMail) error {
	return t.InsertOutboxMany([]*OutboxMail{m})
}

// InsertOutboxMany queues mails, in order, and sets their IDs: all of them
// in at most three statements (the shared parts, the rows, the bytes of the
// mails kept whole), not a few per mail: they are a dozen per notification,
// inserted while the write lock is held.
func (t *Tx) InsertOutboxMany(ms []*OutboxMail) error {
	if len(ms) == 0 {
		return nil
	}
	// The parts the copies share, once each (0015), first: the copies'
	// rows name them. Ids are assigned here, the next ones after the
	// largest, so that all go in one INSERT.
	shared := map[*SharedParts]int64{}
	var sharedArgs []any
	var sharedID int64 // the last id given
	for _, m := range ms {
		if m.Shared == nil {
			continue
		}
		if len(m.Fill) != len(m.Shared.Parts)-1 {
			return fmt.Errorf("queue mail: %d values for %d shared parts", len(m.Fill), len(m.Shared.Parts))
		}
		if shared[m.Shared] != 0 {
			continue
		}
		if sharedID == 0 {
			if err := t.queryRow(`SELECT coalesce(max(id), 0) FROM outbox_shared`).Scan(&sharedID); err != nil {
				return fmt.Errorf("queue mail: %w", err)
			}
		}
		sharedID++
		shared[m.Shared] = sharedID
		sharedArgs = append(sharedArgs, sharedID, encodeParts(m.Shared.Parts))
	}
	if len(sharedArgs) > 0 {
		if _, err := t.exec(`INSERT INTO outbox_shared (id, parts) VALUES `+valueRows(len(sharedArgs)/2, 2), sharedArgs...); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
	}
	// The rows get their ids here, the next ones after the largest (as
	// SQLite would give them), so that a copy can name the row holding the
	// headers it shares (0020) in the same INSERT.
	var last int64
	if err := t.queryRow(`SELECT coalesce(max(id), 0) FROM outbox`).Scan(&last); err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	const columns = 18
	args := make([]any, 0, columns*len(ms))
	// The first row with given headers holds them; a later one of the same
	// call with the same headers names it instead of repeating them.
	holders := map[[4]string]int64{}
	// The copies of one mail come one after the other with equal To and Cc
	// lists: each list is turned into JSON once (this runs under the write
	// lock).
	var addrJSON addrLists
	var raws []any
	for i, m := range ms {
		m.ID = last + 1 + int64(i)
		to, cc := addrJSON.json(m.To, m.Cc)
		if m.State == "" {
			m.State = OutboxQueued
		}
		if m.NextAttempt.IsZero() {
			m.NextAttempt = m.CreatedAt
		}
		from, subject, toCol, ccCol := m.From, m.Subject, to, cc
		var headersOf any // NULL: the row holds its headers
		key := [4]string{m.From, to, cc, m.Subject}
		if holder, ok := holders[key]; ok {
			headersOf, from, subject, toCol, ccCol = holder, "", "", "[]", "[]"
		} else {
			holders[key] = m.ID
		}
		// A copy's own values go in its row (0023); a mail kept whole
		// goes in outbox_raw, apart from the row the sender changes (0013).
		var partsID, fill any
		if m.Shared != nil {
			if m.fillStored == nil {
				m.EncodeFill()
			}
			partsID, fill = shared[m.Shared], m.fillStored
		} else {
			raws = append(raws, m.ID, nonNilBytes(m.Raw))
		}
		args = append(args, m.ID, nullID(m.StatementID), nullID(m.EventID), m.Kind, m.EnvelopeFrom, m.Rcpt, from, toCol, ccCol, subject, headersOf, m.MessageID,
			m.State, m.Attempts, fmtTime(m.NextAttempt), fmtTime(m.CreatedAt), partsID, fill)
	}
	if _, err := t.exec(`INSERT INTO outbox (id, statement_id, event_id, kind, envelope_from, rcpt, from_addr, to_addrs, cc_addrs, subject, headers_of, message_id,
		state, attempts, next_attempt, created_at, shared_id, fill) VALUES `+valueRows(len(ms), columns), args...); err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	if len(raws) > 0 {
		if _, err := t.exec(`INSERT INTO outbox_raw (id, raw) VALUES `+valueRows(len(raws)/2, 2), raws...); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
	}
	t.queued += len(ms)
	return nil
}

// addrLists keeps the JSON of the last To and Cc lists it turned into JSON.
type addrLists struct {
	to, cc         []string
	toJSON, ccJSON string
	done           bool
}

func (a *addrLists) json(to, cc []string) (string, string) {
	if !a.done || !slices.Equal(a.to, to) {
		b, _ := json.Marshal(nonNil(to))
		a.to, a.toJSON = to, string(b)
	}
	if !a.done || !slices.Equal(a.cc, cc) {
		b, _ := json.Marshal(nonNil(cc))
		a.cc, a.ccJSON = cc, string(b)
	}
	a.done = true
	return a.toJSON, a.ccJSON
}

// valueRows is n rows of VALUES with the given number of placeholders each.
func valueRows(n, columns int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", columns), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// nonNilBytes keeps a nil slice from becoming NULL in a NOT NULL column.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// withRawColumn selects, after outboxColumns, a mail's bytes: whole, or
// its own values and the parts it shares (0015), which a copy queued since
// 0023 names in its row and one queued before in its outbox_raw row.
const withRawColumn = `,
	CASE WHEN outbox.shared_id IS NULL THEN (SELECT r.raw FROM outbox_raw r WHERE r.id = outbox.id) ELSE outbox.fill END,
	CASE WHEN outbox.shared_id IS NULL THEN (SELECT s.parts FROM outbox_raw r JOIN outbox_shared s ON s.id = r.shared_id WHERE r.id = outbox.id)
		ELSE (SELECT s.parts FROM outbox_shared s WHERE s.id = outbox.shared_id) END`

// outboxColumns reads a copy's From, To, Cc and Subject from the row that
// holds the headers it shares with the other copies of its mail, when it
// names one (0020).
const outboxColumns = `id, coalesce(statement_id,0), coalesce(event_id,0), kind, envelope_from, rcpt,
	CASE WHEN headers_of IS NULL THEN from_addr ELSE (SELECT h.from_addr FROM outbox h WHERE h.id = outbox.headers_of) END,
	CASE WHEN headers_of IS NULL THEN to_addrs ELSE (SELECT h.to_addrs FROM outbox h WHERE h.id = outbox.headers_of) END,
	CASE WHEN headers_of IS NULL THEN cc_addrs ELSE (SELECT h.cc_addrs FROM outbox h WHERE h.id = outbox.headers_of) END,
	CASE WHEN headers_of IS NULL THEN subject ELSE (SELECT h.subject FROM outbox h WHERE h.id = outbox.headers_of) END,
	message_id, state, attempts, next_attempt, last_error, created_at, sent_at`

func scanOutbox(sc interface{ Scan(...any) error }, withRaw bool) (*OutboxMail, error) {
	var m OutboxMail
	var to, cc, next, created string
	var sent sql.NullString
	dest := []any{&m.ID, &m.StatementID, &m.EventID, &m.Kind, &m.EnvelopeFrom, &m.Rcpt, &m.From, &to, &cc, &m.Subject, &m.MessageID,
		&m.State, &m.Attempts, &next, &m.LastError, &created, &sent}
	var parts []byte
	if withRaw {
		dest = append(dest, &m.Raw, &parts)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if parts != nil {
		raw, err := joinStored(parts, m.Raw)
		if err != nil {
			return nil, fmt.Errorf("outbox %d: %w", m.ID, err)
		}
		m.Raw = raw
	}
	json.Unmarshal([]byte(to), &m.To)
	json.Unmarshal([]byte(cc), &m.Cc)
	m.NextAttempt = parseTime(next)
	m.CreatedAt = parseTime(created)
	m.SentAt = parseTimePtr(sent)
	return &m, nil
}

// OutboxFilter selects outbox rows.
type OutboxFilter struct {
	StatementID int64 // 0: any
	States      []string
	Limit       int
}

// Outbox lists outbox rows oldest first, without raw content.
func (t *Tx) Outbox(f OutboxFilter) ([]*OutboxMail, error) {
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE 1=1`
	var args []any
	if f.StatementID != 0 {
		q += ` AND statement_id = ?`
		args = append(args, f.StatementID)
	}
	if len(f.States) > 0 {
		q += ` AND state IN (` + placeholders(len(f.States)) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	q += ` ORDER BY id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	list, err := t.outboxRows(q, false, args...)
	return list, wrap(err, "listing the outbox")
}

// outboxRows reads the outbox rows a query selects; withRaw: the query
// selects raw after outboxColumns.
func (t *Tx) outboxRows(query string, withRaw bool, args ...any) ([]*OutboxMail, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*OutboxMail
	for rows.Next() {
		m, err := scanOutbox(rows, withRaw)
		if err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// DueOutbox returns up to limit queued mails whose next attempt is due, with
// their raw content, oldest first.
func (t *Tx) DueOutbox(now time.Time, limit int) ([]*OutboxMail, error) {
	list, err := t.outboxRows(`SELECT `+outboxColumns+withRawColumn+` FROM outbox WHERE state = ? AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
		true, OutboxQueued, fmtTime(now), limit)
	return list, wrap(err, "reading the due outbox")
}

// NextOutboxAttempt returns when the earliest queued mail is due, or false
// when nothing is queued.
func (t *Tx) NextOutboxAttempt() (time.Time, bool, error) {
	var next sql.NullString
	err := t.queryRow(`SELECT min(next_attempt) FROM outbox WHERE state = ?`, OutboxQueued).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return parseTime(next.String), true, nil
}

// OutboxMail returns one outbox row with its raw content.
func (t *Tx) OutboxMail(id int64) (*OutboxMail, error) {
	m, err := scanOutbox(t.queryRow(`SELECT `+outboxColumns+withRawColumn+` FROM outbox WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("outbox %d: %w", id, ErrNotFound)
	}
	return m, err
}

// MarkSending records that an attempt starts, before the mail goes out, so
// that a crash during delivery is visible afterwards.
func (t *Tx) MarkSending(id int64, now time.Time) error {
	_, err := t.exec(`UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt = ? WHERE id = ?`, OutboxSending, fmtTime(now), id)
	return err
}

// MarkSent records a delivery.
func (t *Tx) MarkSent(id int64, now time.Time) error {
	_, err := t.exec(`UPDATE outbox SET state = ?, sent_at = ?, last_error = '' WHERE id = ?`, OutboxSent, fmtTime(now), id)
	return err
}

// MarkRetry records a temporary failure and when to try again.
func (t *Tx) MarkRetry(id int64, next time.Time, reason string) error {
	_, err := t.exec(`UPDATE outbox SET state = ?, next_attempt = ?, last_error = ? WHERE id = ?`, OutboxQueued, fmtTime(next), reason, id)
	return err
}

// MarkFailed records a permanent failure.
func (t *Tx) MarkFailed(id int64, reason string) error {
	_, err := t.exec(`UPDATE outbox SET state = ?, last_error = ? WHERE id = ?`, OutboxFailed, reason, id)
	return err
}

// RequeueSending puts back mails left in state sending by a crash.
// A delivery may have happened; the SMTP server sees the same Message-ID
// again, which is the best a client can do without a transaction log on the
// server side.
func (t *Tx) RequeueSending(now time.Time) (int64, error) {
	res, err := t.exec(`UPDATE outbox SET state = ?, next_attempt = ?, last_error = 'interrupted: the daemon stopped during delivery' WHERE state = ?`,
		OutboxQueued, fmtTime(now), OutboxSending)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// OutboxCounts counts outbox rows by state.
func (t *Tx) OutboxCounts() (map[string]int, error) {
	return t.countByState(`SELECT state, count(*) FROM outbox GROUP BY state`)
}

// SharedParts are the bytes the copies of one mail have in common.
type SharedParts struct {
	Parts [][]byte
}

// Join is one copy's bytes: the parts with its values between them.
func (sp *SharedParts) Join(fill [][]byte) []byte {
	n := 0
	for _, p := range sp.Parts {
		n += len(p)
	}
	for _, f := range fill {
		n += len(f)
	}
	out := make([]byte, 0, n)
	for i, p := range sp.Parts {
		out = append(out, p...)
		if i < len(fill) {
			out = append(out, fill[i]...)
		}
	}
	return out
}

// encodeParts stores a list of byte strings as one blob: each its length
// (a uvarint), then its bytes.
func encodeParts(parts [][]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + binary.MaxVarintLen64
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

func decodeParts(b []byte) ([][]byte, error) {
	var parts [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errors.New("stored mail parts are damaged")
		}
		parts = append(parts, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return parts, nil
}

// joinStored is a mail's bytes from its stored shared parts and values.
func joinStored(parts, fill []byte) ([]byte, error) {
	p, err := decodeParts(parts)
	if err != nil {
		return nil, err
	}
	f, err := decodeParts(fill)
	if err != nil {
		return nil, err
	}
	if len(f) != len(p)-1 {
		return nil, fmt.Errorf("stored mail has %d values for %d parts", len(f), len(p))
	}
	return (&SharedParts{Parts: p}).Join(f), nil
}
