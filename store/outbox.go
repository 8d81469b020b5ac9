package store

import (
	"cmp"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
// in a few statements (the shared parts, the staged copies, the rows queued
// straight into outbox, the bytes of the mails kept whole), not a few per
// mail: they are a dozen per notification, inserted while the write lock
// is held.
//
// The copies of a notification (stagedMail) are staged: one row of
// outbox_staged holds them all, and the sender moves them into outbox
// before it looks for due mail (moveStaged, migration 0024). The mails the
// answer rate counts (AnswerKinds) and reminders go straight into outbox,
// where the counts look.
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
	// The rows get their ids here, the next ones after the largest of
	// both tables (as SQLite would give them in one), so that a copy can
	// name the row holding the headers it shares (0020) in the same
	// INSERT, and a staged copy keeps its id when it moves.
	last, err := t.lastOutboxID()
	if err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	var direct, staged []outboxRow
	var raws []any
	// A call that stages copies stages its first answer too (a
	// submission's receipt), named in the staged row for the answer rate
	// (0025); any other answer goes straight into outbox.
	stagesCopies := slices.ContainsFunc(ms, stagedMail)
	var answer *OutboxMail
	for i, m := range ms {
		m.ID = last + 1 + int64(i)
		if m.State == "" {
			m.State = OutboxQueued
		}
		if m.NextAttempt.IsZero() {
			m.NextAttempt = m.CreatedAt
		}
		r := outboxRow{id: m.ID, statementID: m.StatementID, eventID: m.EventID, kind: m.Kind, envelopeFrom: m.EnvelopeFrom, rcpt: m.Rcpt,
			from: m.From, to: m.To, cc: m.Cc, subject: m.Subject, messageID: m.MessageID, state: m.State, attempts: m.Attempts,
			next: m.NextAttempt, created: m.CreatedAt}
		stage := stagedMail(m)
		if !stage && stagesCopies && answer == nil && stagedAnswer(m) {
			stage, answer = true, m
		}
		// A copy's own values go in its row (0023); a mail kept whole
		// goes in outbox_raw, apart from the row the sender changes (0013),
		// or, staged, in the staged row.
		switch {
		case m.Shared != nil:
			if m.fillStored == nil {
				m.EncodeFill()
			}
			r.sharedID, r.fill = shared[m.Shared], m.fillStored
		case stage:
			r.fill = nonNilBytes(m.Raw)
		default:
			raws = append(raws, m.ID, nonNilBytes(m.Raw))
		}
		if stage {
			staged = append(staged, r)
		} else {
			direct = append(direct, r)
		}
	}
	if len(staged) > 0 {
		next := staged[0].next
		for _, r := range staged {
			if r.next.Before(next) {
				next = r.next
			}
		}
		var answerRcpt, answerKind, answerAt any // NULL: no answer staged
		if answer != nil {
			answerRcpt, answerKind, answerAt = answer.Rcpt, answer.Kind, fmtTime(answer.CreatedAt)
		}
		if _, err := t.exec(`INSERT INTO outbox_staged (id, last_id, copies, next_attempt, mails, answer_rcpt, answer_kind, answer_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			staged[0].id, staged[len(staged)-1].id, len(staged), fmtTime(next), encodeStaged(staged), answerRcpt, answerKind, answerAt); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
	}
	if err := t.insertOutboxRows(direct); err != nil {
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

// lastOutboxID is the largest id given to a mail, in outbox or staged.
func (t *Tx) lastOutboxID() (int64, error) {
	var last int64
	err := t.queryRow(`SELECT max(coalesce((SELECT max(id) FROM outbox), 0), coalesce((SELECT last_id FROM outbox_staged ORDER BY id DESC LIMIT 1), 0))`).Scan(&last)
	return last, err
}

// outboxRow is an outbox row's values as InsertOutboxMany and the move of
// staged copies write them.
type outboxRow struct {
	id, statementID, eventID                                  int64
	kind, envelopeFrom, rcpt, from, subject, messageID, state string
	to, cc                                                    []string
	attempts                                                  int
	next, created                                             time.Time
	sharedID                                                  int64 // 0: the mail is kept whole (outbox_raw)
	fill                                                      []byte
}

// insertOutboxRows inserts rows into outbox in one statement.
func (t *Tx) insertOutboxRows(rows []outboxRow) error {
	if len(rows) == 0 {
		return nil
	}
	const columns = 18
	args := make([]any, 0, columns*len(rows))
	// The first row with given headers holds them; a later one of the same
	// call with the same headers names it instead of repeating them.
	holders := map[[4]string]int64{}
	// The copies of one mail come one after the other with equal To and Cc
	// lists: each list is turned into JSON once (this runs under the write
	// lock).
	var addrJSON addrLists
	for _, r := range rows {
		to, cc := addrJSON.json(r.to, r.cc)
		from, subject, toCol, ccCol := r.from, r.subject, to, cc
		var headersOf any // NULL: the row holds its headers
		key := [4]string{r.from, to, cc, r.subject}
		if holder, ok := holders[key]; ok {
			headersOf, from, subject, toCol, ccCol = holder, "", "", "[]", "[]"
		} else {
			holders[key] = r.id
		}
		var partsID, fill any
		if r.sharedID != 0 {
			partsID, fill = r.sharedID, r.fill
		}
		args = append(args, r.id, nullID(r.statementID), nullID(r.eventID), r.kind, r.envelopeFrom, r.rcpt, from, toCol, ccCol, subject, headersOf, r.messageID,
			r.state, r.attempts, fmtTime(r.next), fmtTime(r.created), partsID, fill)
	}
	_, err := t.exec(`INSERT INTO outbox (id, statement_id, event_id, kind, envelope_from, rcpt, from_addr, to_addrs, cc_addrs, subject, headers_of, message_id,
		state, attempts, next_attempt, created_at, shared_id, fill) VALUES `+valueRows(len(rows), columns), args...)
	return err
}

// stagedMail says whether a mail being queued is staged: a copy made of
// shared parts (a notification's), new, and of none of the kinds that
// counts read (the answer rate, reminders).
func stagedMail(m *OutboxMail) bool {
	return m.Shared != nil && newMail(m) && m.Kind != "tickler" && !slices.Contains(AnswerKinds, m.Kind)
}

// stagedAnswer says whether a mail being queued is an answer that may be
// staged beside staged copies (one per staged row, which names it for the
// answer rate).
func stagedAnswer(m *OutboxMail) bool {
	return newMail(m) && slices.Contains(AnswerKinds, m.Kind)
}

func newMail(m *OutboxMail) bool {
	return (m.State == "" || m.State == OutboxQueued) && m.Attempts == 0
}

// encodeStaged is the mails column of outbox_staged: for each copy, its
// values as encodeParts would store them, the headers only when they
// differ from the copy before (the copies of one mail share them). It runs
// under the write lock: it writes into one buffer, and formats a time only
// when it differs from the copy before.
func encodeStaged(rows []outboxRow) []byte {
	size := 0
	for i := range rows {
		size += len(rows[i].fill) + len(rows[i].rcpt) + len(rows[i].messageID) + 128
	}
	out := make([]byte, 0, size)
	var one []byte
	var num [20]byte
	var next, created string
	var prev *outboxRow
	for i := range rows {
		r := &rows[i]
		if prev == nil || !r.next.Equal(prev.next) {
			next = fmtTime(r.next)
		}
		if prev == nil || !r.created.Equal(prev.created) {
			created = fmtTime(r.created)
		}
		one = appendPart(one[:0], strconv.AppendInt(num[:0], r.id, 10))
		one = appendPart(one, strconv.AppendInt(num[:0], r.statementID, 10))
		one = appendPart(one, strconv.AppendInt(num[:0], r.eventID, 10))
		one = appendPartString(one, r.kind)
		one = appendPartString(one, r.envelopeFrom)
		one = appendPartString(one, r.rcpt)
		one = appendPartString(one, r.messageID)
		one = appendPartString(one, next)
		one = appendPartString(one, created)
		one = appendPart(one, strconv.AppendInt(num[:0], r.sharedID, 10))
		one = appendPart(one, r.fill)
		if prev == nil || r.from != prev.from || r.subject != prev.subject || !slices.Equal(r.to, prev.to) || !slices.Equal(r.cc, prev.cc) {
			one = appendPartString(one, r.from)
			one = appendPartString(one, r.subject)
			one = appendPart(one, encodeParts(stringBytes(r.to)))
			one = appendPart(one, encodeParts(stringBytes(r.cc)))
		}
		out = appendPart(out, one)
		prev = r
	}
	return out
}

// appendPart appends p as encodeParts stores each part.
func appendPart(dst, p []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(p))), p...)
}

func appendPartString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// decodeStaged reads the copies encodeStaged wrote, queued and not yet
// attempted.
func decodeStaged(b []byte) ([]outboxRow, error) {
	copies, err := decodeParts(b)
	if err != nil {
		return nil, err
	}
	bad := errors.New("a staged mail is damaged")
	rows := make([]outboxRow, 0, len(copies))
	for i, c := range copies {
		f, err := decodeParts(c)
		if err != nil || (len(f) != 11 && len(f) != 15) || (i == 0 && len(f) != 15) {
			return nil, bad
		}
		var r outboxRow
		var errs [4]error
		r.id, errs[0] = strconv.ParseInt(string(f[0]), 10, 64)
		r.statementID, errs[1] = strconv.ParseInt(string(f[1]), 10, 64)
		r.eventID, errs[2] = strconv.ParseInt(string(f[2]), 10, 64)
		r.sharedID, errs[3] = strconv.ParseInt(string(f[9]), 10, 64)
		if errors.Join(errs[:]...) != nil {
			return nil, bad
		}
		r.kind, r.envelopeFrom, r.rcpt, r.messageID = string(f[3]), string(f[4]), string(f[5]), string(f[6])
		r.next, r.created = parseTime(string(f[7])), parseTime(string(f[8]))
		r.fill = f[10]
		r.state = OutboxQueued
		if len(f) == 15 {
			to, err1 := decodeParts(f[13])
			cc, err2 := decodeParts(f[14])
			if err1 != nil || err2 != nil {
				return nil, bad
			}
			r.from, r.subject, r.to, r.cc = string(f[11]), string(f[12]), byteStrings(to), byteStrings(cc)
		} else {
			p := rows[i-1]
			r.from, r.subject, r.to, r.cc = p.from, p.subject, p.to, p.cc
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func stringBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func byteStrings(bs [][]byte) []string {
	if len(bs) == 0 {
		return nil
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// stagedInsertRows bounds the rows of one INSERT of moved copies (SQLite
// takes at most 32,766 parameters in a statement, 18 per row).
const stagedInsertRows = 600

// moveStaged moves staged copies into outbox, oldest first: the
// notifications whose copies fit in limit (at least one), or all when
// limit is 0. It returns how many copies moved; with nothing staged it
// writes nothing (it runs in lookups too).
func (t *Tx) moveStaged(limit int) (int, error) {
	q := `SELECT id, copies, mails FROM outbox_staged ORDER BY id`
	if limit > 0 {
		// Enough notifications for limit copies: a dozen each, mostly.
		q += fmt.Sprintf(" LIMIT %d", max(1, limit/8))
	}
	moving, lastStaged, err := t.readStaged(q, limit)
	if err != nil {
		return 0, fmt.Errorf("moving staged mails into the outbox: %w", err)
	}
	if len(moving) == 0 {
		return 0, nil
	}
	var raws []any
	for rest := moving; len(rest) > 0; {
		n := min(len(rest), stagedInsertRows)
		if err := t.insertOutboxRows(rest[:n]); err != nil {
			return 0, wrap(err, "moving staged mails into the outbox")
		}
		rest = rest[n:]
	}
	// A mail kept whole (a staged answer) takes its bytes to outbox_raw.
	for _, r := range moving {
		if r.sharedID == 0 {
			raws = append(raws, r.id, r.fill)
		}
	}
	for len(raws) > 0 {
		n := min(len(raws), 2*stagedInsertRows)
		if _, err := t.exec(`INSERT INTO outbox_raw (id, raw) VALUES `+valueRows(n/2, 2), raws[:n]...); err != nil {
			return 0, wrap(err, "moving staged mails into the outbox")
		}
		raws = raws[n:]
	}
	if _, err := t.exec(`DELETE FROM outbox_staged WHERE id <= ?`, lastStaged); err != nil {
		return 0, wrap(err, "moving staged mails into the outbox")
	}
	return len(moving), nil
}

// MoveStaged moves every staged copy into outbox (the sender does it as it
// goes; tests and tools that read outbox's rows directly call this first).
func (t *Tx) MoveStaged() error {
	_, err := t.moveStaged(0)
	return err
}

// readStaged decodes the staged rows a query selects (id, copies, mails),
// in order: all of them, or, when limit > 0, those whose copies fit in
// limit (at least one row). It returns the copies and the id of the last
// row taken.
func (t *Tx) readStaged(query string, limit int, args ...any) (copies []outboxRow, last int64, err error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		var b []byte
		if err := rows.Scan(&id, &n, &b); err != nil {
			return nil, 0, err
		}
		if limit > 0 && len(copies) > 0 && len(copies)+n > limit {
			break
		}
		rs, err := decodeStaged(b)
		if err != nil {
			return nil, 0, fmt.Errorf("staged row %d: %w", id, err)
		}
		copies, last = append(copies, rs...), id
	}
	return copies, last, rows.Err()
}

// stagedMails reads the staged copies as queued mails, with their bytes
// when withRaw: what the readers of the outbox add to its rows. where
// selects rows of outbox_staged.
func (t *Tx) stagedMails(withRaw bool, where string, args ...any) ([]*OutboxMail, error) {
	rs, _, err := t.readStaged(`SELECT id, copies, mails FROM outbox_staged `+where+` ORDER BY id`, 0, args...)
	if err != nil {
		return nil, err
	}
	list := make([]*OutboxMail, 0, len(rs))
	parts := map[int64][]byte{}
	for _, r := range rs {
		m := &OutboxMail{ID: r.id, StatementID: r.statementID, EventID: r.eventID, Kind: r.kind, EnvelopeFrom: r.envelopeFrom,
			Rcpt: r.rcpt, From: r.from, To: r.to, Cc: r.cc, Subject: r.subject, MessageID: r.messageID, State: r.state,
			NextAttempt: r.next, CreatedAt: r.created}
		list = append(list, m)
		switch {
		case !withRaw:
		case r.sharedID == 0:
			m.Raw = r.fill // a mail kept whole
		default:
			p, ok := parts[r.sharedID]
			if !ok {
				if err := t.queryRow(`SELECT parts FROM outbox_shared WHERE id = ?`, r.sharedID).Scan(&p); err != nil {
					return nil, fmt.Errorf("staged mail %d: %w", m.ID, err)
				}
				parts[r.sharedID] = p
			}
			raw, err := joinStored(p, r.fill)
			if err != nil {
				return nil, fmt.Errorf("staged mail %d: %w", m.ID, err)
			}
			m.Raw = raw
		}
	}
	return list, nil
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

// withRawColumn selects, after the columns of a row, a mail's bytes: whole, or
// its own values and the parts it shares (0015), which a copy queued since
// 0023 names in its row and one queued before in its outbox_raw row.
const withRawColumn = `,
	CASE WHEN o.shared_id IS NULL THEN (SELECT r.raw FROM outbox_raw r WHERE r.id = o.id) ELSE o.fill END,
	CASE WHEN o.shared_id IS NULL THEN (SELECT s.parts FROM outbox_raw r JOIN outbox_shared s ON s.id = r.shared_id WHERE r.id = o.id)
		ELSE (SELECT s.parts FROM outbox_shared s WHERE s.id = o.shared_id) END`

// outboxSelect selects outbox rows (their columns, and the mail's bytes
// when withRaw) from source, as "o". A row reads its From, To, Cc and
// Subject from the row that holds the headers it shares with the other
// copies of its mail, when it names one (0020).
func outboxSelect(source string, withRaw bool) string {
	q := `SELECT o.id, coalesce(o.statement_id,0), coalesce(o.event_id,0), o.kind, o.envelope_from, o.rcpt,
	CASE WHEN o.headers_of IS NULL THEN o.from_addr ELSE (SELECT h.from_addr FROM ` + source + ` h WHERE h.id = o.headers_of) END,
	CASE WHEN o.headers_of IS NULL THEN o.to_addrs ELSE (SELECT h.to_addrs FROM ` + source + ` h WHERE h.id = o.headers_of) END,
	CASE WHEN o.headers_of IS NULL THEN o.cc_addrs ELSE (SELECT h.cc_addrs FROM ` + source + ` h WHERE h.id = o.headers_of) END,
	CASE WHEN o.headers_of IS NULL THEN o.subject ELSE (SELECT h.subject FROM ` + source + ` h WHERE h.id = o.headers_of) END,
	o.message_id, o.state, o.attempts, o.next_attempt, o.last_error, o.created_at, o.sent_at`
	if withRaw {
		q += withRawColumn
	}
	return q + ` FROM ` + source + ` o`
}

// The selects of outbox rows, made once.
var (
	outboxRowsSelect = outboxSelect("outbox", false)
	outboxRawSelect  = outboxSelect("outbox", true)
)

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

// Outbox lists outbox rows oldest first, without raw content: the staged
// copies too (InsertOutboxMany), as queued mails.
func (t *Tx) Outbox(f OutboxFilter) ([]*OutboxMail, error) {
	q := outboxRowsSelect + ` WHERE 1=1`
	var args []any
	if f.StatementID != 0 {
		q += ` AND o.statement_id = ?`
		args = append(args, f.StatementID)
	}
	if len(f.States) > 0 {
		q += ` AND o.state IN (` + placeholders(len(f.States)) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	q += ` ORDER BY o.id`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	list, err := t.outboxRows(q, false, args...)
	if err != nil {
		return nil, wrap(err, "listing the outbox")
	}
	if len(f.States) > 0 && !slices.Contains(f.States, OutboxQueued) {
		return list, nil
	}
	staged, err := t.stagedMails(false, "")
	if err != nil {
		return nil, wrap(err, "listing the outbox")
	}
	for _, m := range staged {
		if f.StatementID == 0 || m.StatementID == f.StatementID {
			list = append(list, m)
		}
	}
	slices.SortFunc(list, func(a, b *OutboxMail) int { return cmp.Compare(a.ID, b.ID) })
	if f.Limit > 0 && len(list) > f.Limit {
		list = list[:f.Limit]
	}
	return list, nil
}

// outboxRows reads the outbox rows a query selects; withRaw: the query
// selects raw after the columns of the row (outboxSelect).
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
	list, err := t.outboxRows(outboxRawSelect+` WHERE o.state = ? AND o.next_attempt <= ? ORDER BY o.next_attempt, o.id LIMIT ?`,
		true, OutboxQueued, fmtTime(now), limit)
	return list, wrap(err, "reading the due outbox")
}

// NextOutboxAttempt returns when the earliest queued mail is due, or false
// when nothing is queued. Staged copies are new mail, due when queued
// (mostly at once): the first staged row stands for them all, found
// without a search.
func (t *Tx) NextOutboxAttempt() (time.Time, bool, error) {
	var next sql.NullString
	err := t.queryRow(`SELECT min(next) FROM (SELECT min(next_attempt) AS next FROM outbox WHERE state = ?
		UNION ALL SELECT * FROM (SELECT next_attempt FROM outbox_staged ORDER BY id LIMIT 1))`, OutboxQueued).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return parseTime(next.String), true, nil
}

// OutboxMail returns one outbox row with its raw content.
func (t *Tx) OutboxMail(id int64) (*OutboxMail, error) {
	m, err := scanOutbox(t.queryRow(outboxRawSelect+` WHERE o.id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		// Maybe a copy still staged.
		// The one staged row whose range of ids holds it, if any.
		staged, serr := t.stagedMails(true, `WHERE id = (SELECT max(id) FROM outbox_staged WHERE id <= ?1) AND last_id >= ?1`, id)
		if serr != nil {
			return nil, fmt.Errorf("outbox %d: %w", id, serr)
		}
		for _, m := range staged {
			if m.ID == id {
				return m, nil
			}
		}
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

// OutboxCounts counts outbox rows by state, the staged copies as queued.
func (t *Tx) OutboxCounts() (map[string]int, error) {
	counts, err := t.countByState(`SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	var staged int
	if err := t.queryRow(`SELECT coalesce(sum(copies), 0) FROM outbox_staged`).Scan(&staged); err != nil {
		return nil, err
	}
	if staged > 0 {
		counts[OutboxQueued] += staged
	}
	return counts, nil
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
