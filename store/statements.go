package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Statement directions and states.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"

	StateOpen    = "open"
	StateClosed  = "closed"
	StatePending = "pending" // an outgoing statement waiting for confirmation or approval
	StateHeld    = "held"    // over the submission rate: kept, not notified
)

// BodyRef names a body as the statement addressed it: ID is the directory
// id, "" for a body the directory does not know.
type BodyRef struct {
	ID   string
	Name string
}

// Unmatched says whether addressee b of st matched no body of the
// directory: an incoming statement keeps such a name (DESIGN 4), and every
// place that shows it says it reached no one.
func (st *Statement) Unmatched(b BodyRef) bool {
	return b.ID == "" && st.Direction == Incoming
}

// Contact is a person named in a statement; Addr is a bare lowercased addr-spec.
type Contact struct {
	Name string
	Addr string
}

// Field is an envelope field kept as written.
type Field struct {
	Name  string
	Value string
}

// Attachment is one attached file. Data is set when inserting and when
// read with Tx.AttachmentData; listings leave it nil.
type Attachment struct {
	Pos         int
	Name        string
	ContentType string
	Size        int64
	SHA256      string // of Data, hex; InsertStatement computes it when empty (ingest does outside the write lock)
	Data        []byte
	// Ref, when set on insert into a statement with a message, says where
	// Data lies in that message's raw bytes: the blob is then kept as this
	// reference, not as a second copy (blobref.go). The caller must have
	// checked that DecodeTransfer of the range gives Data.
	Ref *RawRange
}

// Relation links two statements; Relation is read from this statement's side
// ("replies-to" or its inverse "replied-by").
type Relation struct {
	Ref      int64
	Relation string
}

// Statement is one liaison statement with everything stored about it.
type Statement struct {
	ID                int64
	MessageID         int64 // the stored message that submitted it
	Direction         string
	State             string
	From              BodyRef
	To                []BodyRef
	Title             string
	Purpose           string
	Deadline          string // YYYY-MM-DD or ""
	Submitter         string
	ResponseContacts  []Contact
	TechnicalContacts []Contact
	Cc                []Contact
	Assignee          string
	ReceivedAt        time.Time
	RepliedAt         *time.Time
	ClosedAt          *time.Time
	Body              string
	URLs              []string
	Other             []Field
	ThreadID          string
	StatusLine        string
	Attachments       []Attachment
	Related           []Relation
	Events            []Event
}

// Sides returns the body ids of a statement's IETF side (the addressed
// bodies of an incoming one, the sending body of an outgoing one) and of
// its other side, the SDO.
func (s *Statement) Sides() (ietf, sdo []string) {
	ids := func(refs []BodyRef) []string {
		var out []string
		for _, r := range refs {
			out = append(out, r.ID)
		}
		return out
	}
	if s.Direction == Outgoing {
		return []string{s.From.ID}, ids(s.To)
	}
	return ids(s.To), []string{s.From.ID}
}

// Ref is the statement's reference, "LS-42".
func (s *Statement) Ref() string { return fmt.Sprintf("LS-%d", s.ID) }

// InsertStatement stores a new statement with its addressed bodies,
// contacts, fields and attachments (whose content goes to the blob table,
// once per distinct content). With st.ID 0 SQLite chooses the id and
// st.ID is set; otherwise st.ID is used (one from ReserveStatementID).
func (t *Tx) InsertStatement(st *Statement) error {
	res, err := t.exec(`INSERT INTO statements (id, message_id, direction, state, from_body, from_name, title, purpose, deadline,
		submitter, assignee, received_at, replied_at, closed_at, body, thread_id, status_line)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		nullID(st.ID), nullID(st.MessageID), st.Direction, st.State, st.From.ID, st.From.Name, st.Title, st.Purpose, st.Deadline,
		st.Submitter, st.Assignee, fmtTime(st.ReceivedAt), fmtTimePtr(st.RepliedAt), fmtTimePtr(st.ClosedAt), st.Body, st.ThreadID, st.StatusLine)
	if err != nil {
		return fmt.Errorf("insert statement: %w", err)
	}
	if st.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if t.ids != nil {
		t.ids.inserted(st.ID)
	}
	for i, b := range st.To {
		if _, err := t.exec(`INSERT INTO statement_to (statement_id, pos, body_id, name) VALUES (?,?,?,?)`, st.ID, i+1, b.ID, b.Name); err != nil {
			return fmt.Errorf("insert addressee: %w", err)
		}
	}
	for _, group := range []struct {
		role string
		cs   []Contact
	}{{"response", st.ResponseContacts}, {"technical", st.TechnicalContacts}, {"cc", st.Cc}} {
		for i, c := range group.cs {
			if _, err := t.exec(`INSERT INTO contacts (statement_id, role, pos, name, addr) VALUES (?,?,?,?,?)`, st.ID, group.role, i+1, c.Name, c.Addr); err != nil {
				return fmt.Errorf("insert contact: %w", err)
			}
		}
	}
	// The statement is indexed for search after this transaction, once,
	// with its addressees and contacts (0026, searchindex.go): the
	// triggers of those tables re-index only a statement already indexed.
	if _, err := t.exec(`INSERT INTO search_pending (id) VALUES (?)`, st.ID); err != nil {
		return fmt.Errorf("index LS-%d for search: %w", st.ID, err)
	}
	t.searchPending = true
	pos := 0
	for _, u := range st.URLs {
		pos++
		if _, err := t.exec(`INSERT INTO fields (statement_id, pos, name, value) VALUES (?,?,?,?)`, st.ID, pos, "url", u); err != nil {
			return err
		}
	}
	for _, f := range st.Other {
		pos++
		if _, err := t.exec(`INSERT INTO fields (statement_id, pos, name, value) VALUES (?,?,?,?)`, st.ID, pos, "other:"+f.Name, f.Value); err != nil {
			return err
		}
	}
	for i := range st.Attachments {
		a := &st.Attachments[i]
		a.Pos = i + 1
		if err := t.putBlob(a, st.MessageID); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO attachments (statement_id, pos, name, content_type, size, sha256) VALUES (?,?,?,?,?,?)`,
			st.ID, a.Pos, a.Name, a.ContentType, a.Size, a.SHA256); err != nil {
			return fmt.Errorf("insert attachment: %w", err)
		}
	}
	return nil
}

// putBlob stores a's content under its sha256 unless a blob with the same
// content is already stored: as a reference into message msgID's raw bytes
// when a.Ref says where it lies there, else as bytes.
func (t *Tx) putBlob(a *Attachment, msgID int64) error {
	if a.SHA256 == "" {
		a.SHA256 = SHA256Hex(a.Data)
	}
	a.Size = int64(len(a.Data))
	if a.Ref != nil && msgID != 0 {
		_, err := t.exec(`INSERT INTO blobs (sha256, size, data, ref_message, ref_offset, ref_length, ref_encoding) VALUES (?,?,x'',?,?,?,?)
			ON CONFLICT(sha256) DO NOTHING`, a.SHA256, a.Size, msgID, a.Ref.Offset, a.Ref.Length, a.Ref.Encoding)
		if err != nil {
			return fmt.Errorf("store attachment reference: %w", err)
		}
		return nil
	}
	data := a.Data
	if len(data) >= pieceSize {
		data = []byte{} // kept in pieces, below
	}
	res, err := t.exec(`INSERT INTO blobs (sha256, size, data) VALUES (?,?,?) ON CONFLICT(sha256) DO NOTHING`, a.SHA256, a.Size, data)
	if err != nil {
		return fmt.Errorf("store attachment content: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 && len(data) < len(a.Data) {
		if err := t.putPieces(a.SHA256, a.Data); err != nil {
			return fmt.Errorf("store attachment content: %w", err)
		}
	}
	return nil
}

// AttachmentData returns attachment pos (1-based) of a statement with its
// content: from the blob's bytes, its pieces, or the message it refers to.
func (t *Tx) AttachmentData(statementID int64, pos int) (*Attachment, error) {
	a := Attachment{Pos: pos}
	var refMsg, refOffset, refLength sql.NullInt64
	var refEncoding sql.NullString
	err := t.queryRow(`SELECT a.name, a.content_type, a.size, a.sha256, b.data, b.ref_message, b.ref_offset, b.ref_length, b.ref_encoding
		FROM attachments a JOIN blobs b ON b.sha256 = a.sha256
		WHERE a.statement_id = ? AND a.pos = ?`, statementID, pos).Scan(&a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Data,
		&refMsg, &refOffset, &refLength, &refEncoding)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachment %d of LS-%d: %w", pos, statementID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case refMsg.Valid:
		r := RawRange{Offset: refOffset.Int64, Length: refLength.Int64, Encoding: refEncoding.String}
		if a.Data, err = t.readBlobRef(a.SHA256, a.Size, refMsg.Int64, r); err != nil {
			return nil, fmt.Errorf("attachment %d of LS-%d: %w", pos, statementID, err)
		}
	case len(a.Data) == 0 && a.Size > 0:
		if a.Data, err = t.readPieces(a.SHA256, a.Size); err != nil {
			return nil, fmt.Errorf("attachment %d of LS-%d: %w", pos, statementID, err)
		}
	}
	return &a, nil
}

// BlobCount counts distinct stored attachment contents.
func (t *Tx) BlobCount() (int, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM blobs`).Scan(&n)
	return n, err
}

const statementColumns = `id, coalesce(message_id, 0), direction, state, from_body, from_name, title, purpose, deadline, submitter, assignee,
	received_at, replied_at, closed_at, body, thread_id, status_line`

func scanStatement(sc interface{ Scan(...any) error }) (*Statement, error) {
	var st Statement
	var at string
	var replied, closed sql.NullString
	err := sc.Scan(&st.ID, &st.MessageID, &st.Direction, &st.State, &st.From.ID, &st.From.Name, &st.Title, &st.Purpose, &st.Deadline,
		&st.Submitter, &st.Assignee, &at, &replied, &closed, &st.Body, &st.ThreadID, &st.StatusLine)
	if err != nil {
		return nil, err
	}
	st.ReceivedAt = parseTime(at)
	st.RepliedAt = parseTimePtr(replied)
	st.ClosedAt = parseTimePtr(closed)
	return &st, nil
}

// Statement returns one statement with its contacts, fields, attachments
// (without content), relations and events.
func (t *Tx) Statement(id int64) (*Statement, error) {
	st, err := scanStatement(t.queryRow(`SELECT `+statementColumns+` FROM statements WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("LS-%d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if err := t.fillMany([]*Statement{st}); err != nil {
		return nil, fmt.Errorf("reading LS-%d: %w", id, err)
	}
	if st.Events, err = t.Events(id); err != nil {
		return nil, err
	}
	return st, nil
}

// addContact files a contact read from the contacts table under its role.
func (st *Statement) addContact(role string, c Contact) {
	switch role {
	case "response":
		st.ResponseContacts = append(st.ResponseContacts, c)
	case "technical":
		st.TechnicalContacts = append(st.TechnicalContacts, c)
	case "cc":
		st.Cc = append(st.Cc, c)
	}
}

// Relations as stored (from_id relation to_id) and as read from the other side.
const (
	RelRepliesTo = "replies-to"
	RelRepliedBy = "replied-by"
)

func inverseRelation(r string) string {
	switch r {
	case "inverse:" + RelRepliesTo:
		return RelRepliedBy
	}
	if len(r) > 8 && r[:8] == "inverse:" {
		return r[8:] + "-of"
	}
	return r
}

// AddRelation records that statement from <relation> statement to.
func (t *Tx) AddRelation(from, to int64, relation string) error {
	_, err := t.exec(`INSERT INTO relations (from_id, to_id, relation) VALUES (?,?,?) ON CONFLICT DO NOTHING`, from, to, relation)
	return wrap(err, "relating LS-%d to LS-%d", from, to)
}

// StatementExists reports whether LS-id exists.
func (t *Tx) StatementExists(id int64) (bool, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM statements WHERE id = ?`, id).Scan(&n)
	return n > 0, wrap(err, "looking up LS-%d", id)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// SetReplied records when a statement was answered (shown as "replied on DATE").
func (t *Tx) SetReplied(id int64, at time.Time) error {
	_, err := t.exec(`UPDATE statements SET replied_at = ? WHERE id = ?`, fmtTime(at), id)
	return wrap(err, "marking LS-%d answered", id)
}
