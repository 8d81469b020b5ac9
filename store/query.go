package store

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Query selects statements for the public lists and the API. Zero values
// select everything; every condition given must hold.
type Query struct {
	States       []string // empty: every state
	Direction    string   // Incoming, Outgoing or ""
	Body         string   // a directory body id, as sender or addressee
	Purposes     []string
	DeadlineFrom string // YYYY-MM-DD inclusive; a bound excludes statements without deadline
	DeadlineTo   string // YYYY-MM-DD inclusive
	Text         string // full-text search over title, body, bodies and contacts
	Unanswered   bool   // only statements not answered by a reply (the action not yet taken)
	Sort         string // "date" (newest received first, the default) or "deadline" (soonest first)
	Limit        int    // 0: 50; negative: all
	Offset       int
}

// SortDeadline orders a Query by deadline, soonest first, statements without one last.
const SortDeadline = "deadline"

func (q *Query) where() (string, []any, bool) {
	var conds []string
	var args []any
	if len(q.States) > 0 {
		conds = append(conds, `s.state IN (`+placeholders(len(q.States))+`)`)
		for _, v := range q.States {
			args = append(args, v)
		}
	}
	if q.Direction != "" {
		conds = append(conds, `s.direction = ?`)
		args = append(args, q.Direction)
	}
	if q.Body != "" {
		conds = append(conds, `(s.from_body = ? OR s.id IN (SELECT statement_id FROM statement_to WHERE body_id = ?))`)
		args = append(args, q.Body, q.Body)
	}
	if q.Unanswered {
		conds = append(conds, `s.replied_at IS NULL`)
	}
	if len(q.Purposes) > 0 {
		conds = append(conds, `s.purpose IN (`+placeholders(len(q.Purposes))+`)`)
		for _, v := range q.Purposes {
			args = append(args, v)
		}
	}
	if q.DeadlineFrom != "" || q.DeadlineTo != "" {
		conds = append(conds, `s.deadline != ''`)
	}
	if q.DeadlineFrom != "" {
		conds = append(conds, `s.deadline >= ?`)
		args = append(args, q.DeadlineFrom)
	}
	if q.DeadlineTo != "" {
		conds = append(conds, `s.deadline <= ?`)
		args = append(args, q.DeadlineTo)
	}
	if strings.TrimSpace(q.Text) != "" {
		terms := ftsTerms(q.Text)
		if len(terms) == 0 {
			return "", nil, false // only punctuation: matches nothing
		}
		cond, targs := ftsCondition(terms)
		conds = append(conds, cond)
		args = append(args, targs...)
	}
	if len(conds) == 0 {
		return "", args, true
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args, true
}

// Find returns one page of the statements q selects (without body and
// events) and how many there are in all.
func (t *Tx) Find(q Query) (list []*Statement, total int, err error) {
	where, args, ok := q.where()
	if !ok {
		return nil, 0, nil
	}
	order := ` ORDER BY s.received_at DESC, s.id DESC` // statements_state serves it
	if q.Sort == SortDeadline {
		order = ` ORDER BY s.deadline = '', s.deadline, s.id`
	}
	limit := q.Limit
	if limit == 0 {
		limit = 50
	} else if limit < 0 {
		limit = -1 // SQLite: no limit
	}
	// The page's ids first (the sort handles ids only), then their rows. A
	// search counts its matches in the same pass (the full-text lookups
	// are the costly part); a plain list counts from an index on its own,
	// so that its page can stop early.
	search := strings.TrimSpace(q.Text) != ""
	idCols := `s.id, 0`
	if search {
		idCols = `s.id, count(*) OVER ()`
	}
	rows, err := t.query(`SELECT `+idCols+` FROM statements s`+where+order+fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, max(q.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list statements: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &total); err != nil {
			rows.Close()
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list statements: %w", err)
	}
	if !search || len(ids) == 0 {
		if err := t.queryRow(`SELECT count(*) FROM statements s`+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count statements: %w", err)
		}
	}
	if len(ids) == 0 {
		return nil, total, nil
	}
	cols := strings.Replace(statementColumns, ", body,", ", '',", 1)
	rows, err = t.query(`SELECT `+cols+` FROM statements WHERE id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, 0, fmt.Errorf("list statements: %w", err)
	}
	byID := map[int64]*Statement{}
	for rows.Next() {
		st, err := scanStatement(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		byID[st.ID] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	for _, id := range ids {
		if st := byID[id.(int64)]; st != nil {
			list = append(list, st)
		}
	}
	return list, total, t.fillMany(list)
}

// fillMany loads the child rows (addressees, contacts, fields, attachments,
// relations) of a page of statements with one query per table.
func (t *Tx) fillMany(list []*Statement) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[int64]*Statement, len(list))
	ids := make([]any, 0, len(list))
	for _, st := range list {
		byID[st.ID] = st
		ids = append(ids, st.ID)
	}
	in := `(` + placeholders(len(ids)) + `)`
	// Each scan callback reads into locals first, then appends to the statement.
	var id int64
	scanInto := func(query string, args []any, dest []any, apply func(st *Statement)) error {
		rows, err := t.query(query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(append([]any{&id}, dest...)...); err != nil {
				return err
			}
			if st := byID[id]; st != nil {
				apply(st)
			}
		}
		return rows.Err()
	}
	var b BodyRef
	if err := scanInto(`SELECT statement_id, body_id, name FROM statement_to WHERE statement_id IN `+in+` ORDER BY statement_id, pos`, ids,
		[]any{&b.ID, &b.Name}, func(st *Statement) { st.To = append(st.To, b) }); err != nil {
		return fmt.Errorf("addressees: %w", err)
	}
	var role string
	var c Contact
	if err := scanInto(`SELECT statement_id, role, name, addr FROM contacts WHERE statement_id IN `+in+` ORDER BY statement_id, role, pos`, ids,
		[]any{&role, &c.Name, &c.Addr}, func(st *Statement) { st.addContact(role, c) }); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	var name, value string
	if err := scanInto(`SELECT statement_id, name, value FROM fields WHERE statement_id IN `+in+` ORDER BY statement_id, pos`, ids,
		[]any{&name, &value}, func(st *Statement) {
			if name == "url" {
				st.URLs = append(st.URLs, value)
			} else if rest, ok := strings.CutPrefix(name, "other:"); ok {
				st.Other = append(st.Other, Field{Name: rest, Value: value})
			}
		}); err != nil {
		return fmt.Errorf("fields: %w", err)
	}
	var a Attachment
	if err := scanInto(`SELECT statement_id, pos, name, content_type, size, sha256 FROM attachments WHERE statement_id IN `+in+` ORDER BY statement_id, pos`, ids,
		[]any{&a.Pos, &a.Name, &a.ContentType, &a.Size, &a.SHA256}, func(st *Statement) { st.Attachments = append(st.Attachments, a) }); err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	var r Relation
	args2 := append(append([]any{}, ids...), ids...)
	if err := scanInto(`SELECT from_id, to_id, relation FROM relations WHERE from_id IN `+in+`
		UNION ALL SELECT to_id, from_id, 'inverse:' || relation FROM relations WHERE to_id IN `+in+` ORDER BY 1, 2`, args2,
		[]any{&r.Ref, &r.Relation}, func(st *Statement) {
			st.Related = append(st.Related, Relation{Ref: r.Ref, Relation: inverseRelation(r.Relation)})
		}); err != nil {
		return fmt.Errorf("relations: %w", err)
	}
	return nil
}

// StatementCounts counts statements by state.
func (t *Tx) StatementCounts() (map[string]int, error) {
	return t.countByState(`SELECT state, count(*) FROM statements GROUP BY state`)
}

// remindersSentQuery counts the reminders delivered; its condition is the
// one of the partial index outbox_reminders (migration 0016), literally.
const remindersSentQuery = `SELECT count(*) FROM outbox WHERE kind = 'tickler' AND state = 'sent'`

// RemindersSent counts the reminders (tickler mails) delivered.
func (t *Tx) RemindersSent() (int, error) {
	var n int
	err := t.queryRow(remindersSentQuery).Scan(&n)
	return n, wrap(err, "counting the reminders sent")
}

// RelatedTitles returns the title and state of each statement named, for
// links to related statements.
func (t *Tx) RelatedTitles(ids []int64) (map[int64][2]string, error) {
	out := map[int64][2]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := t.query(`SELECT id, title, state FROM statements WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var title, state string
		if err := rows.Scan(&id, &title, &state); err != nil {
			return nil, err
		}
		out[id] = [2]string{title, state}
	}
	return out, rows.Err()
}

// BodyNames lists the directory bodies that public statements name as
// sender or addressee, by id, each with a name it was given. The distinct
// ids are found by seeking through the indexes (a loose index scan), so the
// cost grows with the number of bodies, not of statements.
func (t *Tx) BodyNames() ([]BodyRef, error) {
	rows, err := t.query(`WITH RECURSIVE
		f(id) AS (SELECT min(from_body) FROM statements WHERE from_body > ''
			UNION ALL SELECT (SELECT min(from_body) FROM statements WHERE from_body > f.id) FROM f WHERE f.id IS NOT NULL),
		t(id) AS (SELECT min(body_id) FROM statement_to WHERE body_id > ''
			UNION ALL SELECT (SELECT min(body_id) FROM statement_to WHERE body_id > t.id) FROM t WHERE t.id IS NOT NULL)
		SELECT id, (SELECT from_name FROM statements WHERE from_body = f.id AND state IN ('open', 'closed') LIMIT 1) FROM f WHERE id IS NOT NULL
		UNION ALL
		SELECT id, (SELECT st.name FROM statement_to st JOIN statements s ON s.id = st.statement_id
			WHERE st.body_id = t.id AND s.state IN ('open', 'closed') LIMIT 1) FROM t WHERE id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[string]bool{}
	var out []BodyRef
	for rows.Next() {
		var id string
		var name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		if !name.Valid || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, BodyRef{ID: id, Name: name.String})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, rows.Err()
}

// StatementState returns one statement's state (ErrNotFound if there is none).
func (t *Tx) StatementState(id int64) (string, error) {
	var state string
	err := t.queryRow(`SELECT state FROM statements WHERE id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("LS-%d: %w", id, ErrNotFound)
	}
	return state, err
}

// MaxStatementID is the newest statement's id (0 when there is none).
func (t *Tx) MaxStatementID() (int64, error) {
	var id int64
	err := t.queryRow(`SELECT coalesce(max(id), 0) FROM statements`).Scan(&id)
	return id, err
}
