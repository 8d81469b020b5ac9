// Package notify owns liaisond's outgoing mail: who gets what (DESIGN 5),
// rendering from templates, personal reply tokens, and the outbox sender.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"runtime"
	"strings"
	"sync"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"liaisond/directory"
	"liaisond/store"
	"liaisond/templates"
	"liaisond/token"
)

// LoopHeader marks every mail liaisond sends; ingest recognizes it on input.
const LoopHeader = "X-Liaisond-Loop"

// Config is what outgoing mail needs to know about this installation.
type Config struct {
	Domain        string       // D of DESIGN 3
	From          mail.Address // header From and envelope sender
	PublicURL     string       // base of links to statement pages
	TokenPrefix   string       // local part prefix of personal reply addresses ("ls")
	CommandsLocal string       // local part of the commands address ("commands")
	ReplyMargin   time.Duration
	// StatementsLocal is the local part of the statements address; with
	// CommandsLocal, TokenPrefix and From, liaisond's own addresses, to
	// which it never sends (DESIGN 5).
	StatementsLocal string
	// MaxRecipients caps the copies of one mail about a statement (0: 50).
	MaxRecipients int
	// AnswerRatePerHour caps the answers (AnswerKinds) per address and
	// hour (0: 5; negative: no cap).
	AnswerRatePerHour int
}

// Composer renders the mails an event causes into outbox rows, inside the
// transaction that wrote the event, so a crash loses and repeats nothing.
type Composer struct {
	Config    Config
	Keys      *token.Keys
	Templates *templates.Set
	Directory func() *directory.Directory // the current directory (reloaded on SIGHUP)
	Now       func() time.Time
}

// Compose queues the mails caused by ev. Events that cause no mail are fine.
func (c *Composer) Compose(ctx context.Context, tx *store.Tx, ev *store.Event) error {
	switch ev.Type {
	case store.EventSubmitted:
		st, err := tx.Statement(ev.StatementID)
		if err != nil {
			return err
		}
		// An incoming statement is notified unless it is held (DESIGN 7:
		// released later, with an event of its own). Not "unless it is not
		// open": its mails are composed at the end of the mail that wrote
		// the event, and a held statement released by "reopen" may be
		// closed by a later command of that same mail.
		if st.Direction != store.Incoming || st.State == store.StateHeld {
			return nil
		}
		data, err := store.DecodeData[store.SubmittedData](ev)
		if err != nil {
			return err
		}
		mails, err := c.SubmittedMails(st, data)
		if err != nil {
			return err
		}
		return c.QueuePrepared(tx, ev, mails)
	case store.EventRejected:
		data, err := store.DecodeData[store.AnswerData](ev)
		if err != nil {
			return err
		}
		return c.rejection(tx, ev, data)
	case store.EventOversize:
		return c.oversize(tx, ev)
	}
	return c.composeCommand(tx, ev)
}

// SubmittedMails renders the mails of a new incoming statement (its
// notification and its receipt) without the database: ingest calls it
// before the write transaction, with the statement's reserved id, so that
// rendering a dozen personal copies does not hold the write lock (DESIGN
// 10). The copies are rendered as Compose would render them; QueuePrepared
// queues them inside the transaction.
func (c *Composer) SubmittedMails(st *store.Statement, data store.SubmittedData) ([]*store.OutboxMail, error) {
	notification, dropped, err := c.notification(st, data)
	if err != nil {
		return nil, fmt.Errorf("rendering the notification of %s: %w", st.Ref(), err)
	}
	receipt, err := c.receipt(st, data, dropped)
	if err != nil {
		return nil, fmt.Errorf("rendering the receipt of %s: %w", st.Ref(), err)
	}
	return append(notification, receipt...), nil
}

// QueuePrepared queues mails rendered before the transaction for event ev,
// with what needs the database: an answer (the receipt) goes to no
// address whose share of answers this hour is used up (DESIGN 7).
func (c *Composer) QueuePrepared(tx *store.Tx, ev *store.Event, mails []*store.OutboxMail) error {
	queue := make([]*store.OutboxMail, 0, len(mails))
	for _, m := range mails {
		if isAnswerKind(m.Kind) {
			over, err := c.overAnswerRate(tx, m.Rcpt)
			if err != nil {
				return err
			}
			if over {
				continue
			}
		}
		m.EventID = ev.ID
		queue = append(queue, m)
	}
	return tx.InsertOutboxMany(queue)
}

// recipient is one address a mail goes to.
type recipient struct {
	name, addr string
	list       bool // a mailing list: gets a copy without a token
	contact    bool // named in the mail, not by the directory: the first dropped over max_recipients
}

func (r recipient) header() *gomail.Address { return &gomail.Address{Name: r.name, Address: r.addr} }

// recipients collects addresses in order, each once.
type recipients struct {
	list []recipient
	seen map[string]bool
}

func (rs *recipients) add(name, addr string, list bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" || rs.seen[addr] {
		return
	}
	if rs.seen == nil {
		rs.seen = map[string]bool{}
	}
	rs.seen[addr] = true
	rs.list = append(rs.list, recipient{name: name, addr: addr, list: list})
}

// contacts adds addresses named in a mail (technical and response
// contacts, Cc): over max_recipients, these are the ones left out.
func (rs *recipients) contacts(cs []store.Contact) {
	for _, c := range cs {
		n := len(rs.list)
		rs.add(c.Name, c.Addr, false)
		if len(rs.list) > n {
			rs.list[n].contact = true
		}
	}
}

func (rs *recipients) people(ps []directory.Person) {
	for _, p := range ps {
		rs.add(p.Name, p.Addr, false)
	}
}

// NotificationRecipients returns To and Cc of the notification for a new
// incoming statement (DESIGN 5, RFC 4053 3.1.1): the assignee; copied are the
// technical contacts, the supervisors, the sending SDO's liaison managers,
// the alias, the secretariat, every other leader of the addressed bodies,
// and the statement's own Cc.
func NotificationRecipients(dir *directory.Directory, st *store.Statement, withAlias bool) (to, cc []recipient) {
	var all recipients
	all.add(nameOf(dir, st.Assignee), st.Assignee, false)
	all.contacts(st.TechnicalContacts)
	bodies := responsibleBodies(dir, st)
	for _, b := range bodies {
		all.people(dir.Supervisors(b))
	}
	if from := dir.Body(st.From.ID); from != nil {
		all.people(from.LiaisonManagers)
	}
	if withAlias {
		for _, b := range bodies {
			if b.List != "" {
				all.add(b.Name+" list", b.List, true)
			}
		}
	}
	all.add(dir.Secretariat.Name, dir.Secretariat.Addr, false)
	for _, b := range bodies {
		all.people(b.Leaders())
	}
	all.contacts(st.Cc)
	return all.list[:1], all.list[1:]
}

func nameOf(dir *directory.Directory, addr string) string {
	if strings.EqualFold(dir.Secretariat.Addr, addr) {
		return dir.Secretariat.Name
	}
	for _, b := range dir.Bodies {
		for _, group := range [][]directory.Person{b.Chairs, b.ADs, b.LiaisonManagers} {
			for _, p := range group {
				if strings.EqualFold(p.Addr, addr) {
					return p.Name
				}
			}
		}
	}
	return ""
}

// mailData is what the mail templates see.
type mailData struct {
	Ref, Title, URL, PurposeText string
	FromName, ToNames, Submitter string
	Deadline, ReplyBy            string
	DeadlinePast                 bool
	Assignee                     string
	ResponseContacts             []string
	TechnicalContacts            []string
	Attachments                  []attachmentLink
	URLs                         []string
	Body                         string
	Warnings, Problems           []string
	Recipient, ReplyAddress      string
	To, MessageRef               string
	Sender                       string
	// For command answers and workflow mails (notify/commands.go).
	Actor, Old, New, Reason string
	InResponseTo, Help      string
	Done, Approvers         []string
	Reminder                reminderInfo // tickler.txt
	// What the reader may do (workflow.go): "assignee", "actor", "none"
	// (may give no command) or "list"; RoleText names their role.
	Role, RoleText string
	MayRedirect    bool
	Original       *mailData    // approval.txt of a reply: the statement it answers
	Digest         []digestLine // digest.txt
	Failures       []string     // undeliverable.txt
	// Other are the statement's other identifiers (DESIGN 4), "Name: value".
	Other []string
	// Attention: notification.txt's lines for the secretariat and the
	// liaison manager.
	Attention []string
}

type attachmentLink struct{ Name, URL, Size string }

var purposeText = map[string]string{
	"information": "For Information", "comment": "For Comment", "action": "For Action", "response": "In Response",
}

func (c *Composer) statementData(st *store.Statement) mailData {
	d := mailData{
		Ref: st.Ref(), Title: st.Title, URL: c.statementURL(st.ID), PurposeText: purposeText[st.Purpose],
		FromName: st.From.Name, Submitter: st.Submitter, Deadline: st.Deadline, Assignee: st.Assignee,
		Body: st.Body, URLs: st.URLs, Sender: c.Config.From.Name,
	}
	if d.Sender == "" {
		d.Sender = "Liaison Statement Manager"
	}
	var names []string
	for _, b := range st.To {
		names = append(names, b.Name)
	}
	d.ToNames = strings.Join(names, ", ")
	if dl, err := time.Parse("2006-01-02", st.Deadline); err == nil {
		d.DeadlinePast = dl.Before(st.ReceivedAt.Truncate(24 * time.Hour))
		d.ReplyBy = dl.Add(-c.Config.ReplyMargin).Format("2006-01-02")
	}
	// A mail lists as many contacts as it may have copies; the page has all.
	d.ResponseContacts = c.contactList(st.ResponseContacts)
	d.TechnicalContacts = c.contactList(st.TechnicalContacts)
	for _, f := range st.Other {
		d.Other = append(d.Other, f.Name+": "+f.Value)
	}
	for _, a := range st.Attachments {
		d.Attachments = append(d.Attachments, attachmentLink{Name: a.Name, Size: humanSize(a.Size),
			URL: fmt.Sprintf("%s/att/%d/%s", c.statementURL(st.ID), a.Pos, urlPathEscape(a.Name))})
	}
	return d
}

func (c *Composer) statementURL(id int64) string {
	return fmt.Sprintf("%s/ls/%d", strings.TrimRight(c.Config.PublicURL, "/"), id)
}

// notification queues the copies of a new statement's notification and
// returns how many contacts the copy limit left out.
func (c *Composer) notification(st *store.Statement, data store.SubmittedData) ([]*store.OutboxMail, int, error) {
	to, cc := NotificationRecipients(c.Directory(), st, true)
	if data.AutomaticSender != "" {
		// Nothing goes back to an automatic sender (DESIGN 5.2), even
		// when the statement names it as a contact.
		cc = without(cc, data.AutomaticSender)
	}
	to, cc, dropped := capRecipients(c.withoutOwn(to), c.withoutOwn(cc), c.maxRecipients())
	attention := attentionLines(data)
	copies, err := c.collectCopies(nil, "notification", st, to, cc, false, func(d *mailData) {
		d.Attention = attention
	})
	if err != nil {
		return nil, 0, err
	}
	mails, err := c.renderCopies("notification.txt", st.ID, 0, copies)
	return mails, len(dropped), err
}

// attentionLines are what the secretariat and the sending SDO's liaison
// manager (both copied on every notification) must look at: addressees
// the directory does not know, a statement that went to the secretariat
// for want of a known IETF body, and a Message-ID reused for other content.
func attentionLines(data store.SubmittedData) []string {
	var lines []string
	for _, u := range data.UnknownTo {
		l := fmt.Sprintf("The addressee %q matches no body in the directory", u.Name)
		if len(u.Suggestions) > 0 {
			l += "; closest names: " + strings.Join(u.Suggestions, ", ")
		}
		lines = append(lines, l+". Use \"redirect <body id>\" if it meant one of them.")
	}
	if data.NoIETFBody {
		lines = append(lines, "It is assigned to the IETF Secretariat because none of the addressed bodies is an IETF body in the directory; the Secretariat directs it with \"redirect <body id>\".")
	}
	for _, id := range data.SameMessageID {
		lines = append(lines, fmt.Sprintf("Its mail has the Message-ID of LS-%d, with other content; both are kept. Check whether one replaces the other.", id))
	}
	if data.Automatic != "" {
		lines = append(lines, fmt.Sprintf("It came from an automatic sender (%s); no receipt went to %s.", data.Automatic, data.AutomaticSender))
	}
	if n := len(data.OmittedAttachments); n > 0 {
		lines = append(lines, fmt.Sprintf("%d attachments past the cap were not kept as attachments of the statement; the stored mail keeps them.", n))
	}
	return lines
}

// without returns rs less the address addr.
func without(rs []recipient, addr string) []recipient {
	out := rs[:0:0]
	for _, r := range rs {
		if !strings.EqualFold(r.addr, addr) {
			out = append(out, r)
		}
	}
	return out
}

func (c *Composer) receipt(st *store.Statement, data store.SubmittedData, dropped int) ([]*store.OutboxMail, error) {
	var rs recipients
	if data.AutomaticSender == "" {
		rs.add("", st.Submitter, false)
	}
	rs.contacts(st.ResponseContacts)
	if data.AutomaticSender != "" {
		// Nothing back to an automatic sender (DESIGN 5.2): the receipt
		// goes to the response contacts alone, if any.
		rs.list = without(rs.list, data.AutomaticSender)
	}
	if len(rs.list) == 0 {
		return nil, nil
	}
	rs.list[0].contact = false // the first is answered first
	to, cc, more := capRecipients(rs.list[:1], rs.list[1:], c.maxRecipients())
	warnings := data.Warnings
	if n := dropped + len(more); n > 0 {
		warnings = append(warnings, droppedWarning(n, c.maxRecipients()))
	}
	// Not checked against the answer rate here: QueuePrepared does, in
	// the transaction.
	copies, err := c.collectCopies(nil, "receipt", st, to, cc, true, func(d *mailData) {
		d.Warnings = warnings
	})
	if err != nil {
		return nil, err
	}
	return c.renderCopies("receipt.txt", st.ID, 0, copies)
}

func (c *Composer) personalCopies(tx *store.Tx, kind, tmpl string, st *store.Statement, ev *store.Event, to, cc []recipient, answer bool) error {
	return c.personalCopiesWith(tx, kind, tmpl, st, ev, to, cc, answer, nil)
}

// personalCopiesWith queues one copy per recipient: the same To and Cc
// headers, each with its own Reply-To token and Message-ID (DESIGN 3).
func (c *Composer) personalCopiesWith(tx *store.Tx, kind, tmpl string, st *store.Statement, ev *store.Event, to, cc []recipient, answer bool, edit func(*mailData)) error {
	copies, err := c.collectCopies(tx, kind, st, to, cc, answer, edit)
	if err != nil {
		return err
	}
	return c.queueCopies(tx, tmpl, st.ID, ev.ID, copies)
}

// collectCopies makes one copy per recipient before rendering: the same To
// and Cc headers, each with its own Reply-To token (DESIGN 3). With rateTx,
// an answer kind skips addresses over their answer rate (DESIGN 7); answer
// marks the mail as one (Auto-Submitted: auto-replied).
func (c *Composer) collectCopies(rateTx *store.Tx, kind string, st *store.Statement, to, cc []recipient, answer bool, edit func(*mailData)) ([]personalCopy, error) {
	// Never to ourselves; never more than max_recipients copies (DESIGN 5).
	to, cc = c.withoutOwn(to), c.withoutOwn(cc)
	if len(to) == 0 && len(cc) > 0 {
		to, cc = cc[:1], cc[1:]
	}
	to, cc, _ = capRecipients(to, cc, c.maxRecipients())
	all := append(append([]recipient{}, to...), cc...)
	copies := make([]personalCopy, 0, len(all))
	limited := isAnswerKind(kind)
	base := c.statementData(st) // the same for every copy; each gets its own fields below
	for _, r := range all {
		if limited && rateTx != nil {
			over, err := c.overAnswerRate(rateTx, r.addr)
			if err != nil {
				return nil, err
			}
			if over {
				continue // its share of answers this hour is used up (DESIGN 7)
			}
		}
		d := base
		d.Recipient = r.addr
		replyTo := ""
		if !r.list {
			replyTo = c.Keys.Address(c.Config.TokenPrefix, c.Config.Domain, st.ID, r.addr)
			d.ReplyAddress = replyTo
		}
		c.setRole(&d, st, r)
		if edit != nil {
			edit(&d)
		}
		if r.list {
			// Replies from the list go to the commands address, where they
			// are recorded as comments instead of looking like a submission.
			replyTo = c.Config.CommandsLocal + "@" + c.Config.Domain
		}
		refs := []string{}
		if st.ThreadID != "" {
			refs = append(refs, st.ThreadID)
		}
		copies = append(copies, personalCopy{data: d, m: outgoing{kind: kind, rcpt: r.addr, to: to, cc: cc, replyTo: replyTo,
			inReplyTo: st.ThreadID, references: refs, answer: answer}})
	}
	return copies, nil
}

// personalCopy is one recipient's copy before rendering.
type personalCopy struct {
	data mailData
	m    outgoing
	row  *store.OutboxMail
	err  error
}

// queueCopies renders the copies and inserts them in order.
func (c *Composer) queueCopies(tx *store.Tx, tmpl string, statementID, eventID int64, copies []personalCopy) error {
	rows, err := c.renderCopies(tmpl, statementID, eventID, copies)
	if err != nil {
		return err
	}
	return tx.InsertOutboxMany(rows)
}

// renderCopies renders the copies of one mail (template, MIME) in
// parallel and returns their outbox rows in order, none for a copy to
// ourselves. It needs nothing of the database.
func (c *Composer) renderCopies(tmpl string, statementID, eventID int64, copies []personalCopy) ([]*store.OutboxMail, error) {
	if len(copies) > 0 {
		// The copies of one mail (collectCopies) have the same To and
		// Cc: formatted once.
		var h gomail.Header
		h.SetAddressList("To", headerAddrs(copies[0].m.to))
		if len(copies[0].m.cc) > 0 {
			h.SetAddressList("Cc", headerAddrs(copies[0].m.cc))
		}
		for i := range copies {
			copies[i].m.toValue, copies[i].m.ccValue = h.Get("To"), h.Get("Cc")
		}
	}
	if len(copies) > 1 && c.Templates.PrintsVerbatim(tmpl, sharedFields...) {
		rows, _, err := c.renderShared(tmpl, statementID, eventID, copies) // notify/shared.go
		return rows, err
	}
	var wg sync.WaitGroup
	work := make(chan *personalCopy)
	for range min(runtime.GOMAXPROCS(0), len(copies)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pc := range work {
				pc.m.subject, pc.m.body, pc.err = c.Templates.Mail(tmpl, pc.data)
				if pc.err == nil {
					pc.row, pc.err = c.render(statementID, eventID, pc.m)
				}
			}
		}()
	}
	for i := range copies {
		work <- &copies[i]
	}
	close(work)
	wg.Wait()
	rows := make([]*store.OutboxMail, 0, len(copies))
	for _, pc := range copies {
		if pc.err != nil {
			return nil, pc.err
		}
		if pc.row != nil { // nil: to ourselves
			rows = append(rows, pc.row)
		}
	}
	return rows, nil
}

func (c *Composer) rejection(tx *store.Tx, ev *store.Event, data store.AnswerData) error {
	if data.To == "" {
		return nil
	}
	title := data.Subject
	if title == "" {
		title = "(no subject)"
	}
	d := mailData{Title: title, Problems: data.Problems, To: data.Rcpt, Sender: c.Config.From.Name,
		MessageRef: fmt.Sprintf("message %d", ev.MessageID)}
	if d.Sender == "" {
		d.Sender = "Liaison Statement Manager"
	}
	subject, body, err := c.Templates.Mail("error.txt", d)
	if err != nil {
		return err
	}
	r := recipient{addr: strings.ToLower(data.To)}
	if over, err := c.overAnswerRate(tx, r.addr); err != nil || over {
		return err // its share of answers this hour is used up (DESIGN 7)
	}
	var refs []string
	if data.MessageID != "" {
		refs = []string{data.MessageID}
	}
	return c.queue(tx, 0, ev.ID, outgoing{kind: "error", rcpt: r.addr, to: []recipient{r}, subject: subject, body: body,
		inReplyTo: data.MessageID, references: refs, answer: true})
}

// outgoing is one mail before rendering to bytes.
type outgoing struct {
	kind, rcpt, replyTo, subject, body string
	to, cc                             []recipient
	// toValue and ccValue are the To and Cc headers already formatted,
	// the same for every copy of a mail; "" formats them from to and cc.
	toValue, ccValue string
	inReplyTo        string
	references       []string
	answer           bool // Auto-Submitted: auto-replied rather than auto-generated
}

func (c *Composer) queue(tx *store.Tx, statementID, eventID int64, m outgoing) error {
	row, err := c.render(statementID, eventID, m)
	if err != nil || row == nil {
		return err
	}
	return tx.InsertOutbox(row)
}

// render makes the outbox row of one mail; none for a mail to ourselves. It
// may run in parallel with others.
func (c *Composer) render(statementID, eventID int64, m outgoing) (*store.OutboxMail, error) {
	if c.isOwn(m.rcpt) {
		return nil, nil // it would come straight back to us (DESIGN 5)
	}
	now := c.Now()
	msgID := c.newMessageID(m.kind)
	raw, _, err := c.renderMIME(m, msgID, now)
	if err != nil {
		return nil, err
	}
	return c.outboxRow(statementID, eventID, m, msgID, now, raw), nil
}

// renderMIME renders m to a mail's bytes and says whether its body went
// as 7bit (the text as it is) rather than quoted-printable.
func (c *Composer) renderMIME(m outgoing, msgID string, now time.Time) ([]byte, bool, error) {
	body := crlfText(m.body)
	// The lightest encoding that carries the text (RFC 2045 6): ASCII in
	// lines that SMTP carries as they are goes as it is; other text is
	// quoted-printable.
	sevenBit := isSevenBit(body)
	h := c.mimeHeader(m, msgID, now, sevenBit)
	var buf bytes.Buffer
	buf.Grow(len(body) + 2048)
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, false, fmt.Errorf("render %s: %w", m.kind, err)
	}
	if _, err := io.WriteString(w, body); err != nil {
		return nil, false, fmt.Errorf("render %s: %w", m.kind, err)
	}
	if err := w.Close(); err != nil {
		return nil, false, fmt.Errorf("render %s: %w", m.kind, err)
	}
	return buf.Bytes(), sevenBit, nil
}

// crlfText ends every line of text with CRLF.
func crlfText(text string) string {
	return strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
}

// mimeHeader is the header of m, a single text/plain part.
func (c *Composer) mimeHeader(m outgoing, msgID string, now time.Time, sevenBit bool) gomail.Header {
	var h gomail.Header
	h.SetDate(now)
	h.SetAddressList("From", []*gomail.Address{{Name: c.Config.From.Name, Address: c.Config.From.Address}})
	if m.toValue != "" {
		h.Set("To", m.toValue) // formatted once for all the copies (renderCopies)
	} else {
		h.SetAddressList("To", headerAddrs(m.to))
	}
	if m.ccValue != "" {
		h.Set("Cc", m.ccValue)
	} else if len(m.cc) > 0 {
		h.SetAddressList("Cc", headerAddrs(m.cc))
	}
	if m.replyTo != "" {
		h.SetAddressList("Reply-To", []*gomail.Address{{Address: m.replyTo}})
	}
	h.SetSubject(m.subject)
	h.SetMessageID(msgID)
	if m.inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.inReplyTo})
	}
	if len(m.references) > 0 {
		h.SetMsgIDList("References", m.references)
	}
	// RFC 3834 5: mark every mail as automatic so that well-behaved
	// responders do not answer it; our own loop marker catches the rest.
	if m.answer {
		h.Set("Auto-Submitted", "auto-replied")
	} else {
		h.Set("Auto-Submitted", "auto-generated")
	}
	h.Set(LoopHeader, c.Config.Domain)
	h.Set("X-Auto-Response-Suppress", "All") // Exchange: no out-of-office replies to us
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	if sevenBit {
		h.Set("Content-Transfer-Encoding", "7bit")
	} else {
		h.Set("Content-Transfer-Encoding", "quoted-printable")
	}
	return h
}

// outboxRow is the outbox row of a rendered mail. Its bytes are stored
// unsigned: the Sender DKIM-signs each mail as it goes out
// (Sender.signForSending), with the key current then, so that no signing
// delays the answer to whoever sent us the mail that caused it.
func (c *Composer) outboxRow(statementID, eventID int64, m outgoing, msgID string, now time.Time, raw []byte) *store.OutboxMail {
	return &store.OutboxMail{
		StatementID: statementID, EventID: eventID, Kind: m.kind,
		EnvelopeFrom: c.Config.From.Address, Rcpt: m.rcpt, From: strings.ToLower(c.Config.From.Address),
		To: bareAddrs(m.to), Cc: bareAddrs(m.cc), Subject: m.subject, MessageID: msgID, Raw: raw, CreatedAt: now,
	}
}

// isSevenBit reports whether text (with CRLF line ends) may go as 7bit
// (RFC 2045 2.7): ASCII without NUL or a CR or LF out of a line end, in
// lines of at most 998 octets (RFC 5322 2.1.1). It runs over every body
// rendered, the statement's text included: line ends are found with
// strings.IndexByte and each line checked eight bytes at a time.
func isSevenBit(text string) bool {
	for len(text) > 0 {
		line, rest := text, ""
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			if i == 0 || text[i-1] != '\r' {
				return false // an LF out of a CRLF
			}
			line, rest = text[:i-1], text[i+1:]
		}
		if len(line) > 998 || !sevenBitLine(line) {
			return false
		}
		text = rest
	}
	return true
}

// sevenBitLine reports whether line holds no NUL, CR or octet above 127.
func sevenBitLine(line string) bool {
	const ones, highs, crs = 0x0101010101010101, 0x8080808080808080, 0x0d0d0d0d0d0d0d0d
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := uint64(line[i]) | uint64(line[i+1])<<8 | uint64(line[i+2])<<16 | uint64(line[i+3])<<24 |
			uint64(line[i+4])<<32 | uint64(line[i+5])<<40 | uint64(line[i+6])<<48 | uint64(line[i+7])<<56
		// A byte above 127, a zero byte, a byte equal to CR (zero after
		// the XOR): the classic "has zero byte" test, exact once no byte
		// has its high bit set.
		cr := w ^ crs
		if w&highs != 0 || (w-ones)&^w&highs != 0 || (cr-ones)&^cr&highs != 0 {
			return false
		}
	}
	for ; i < len(line); i++ {
		if b := line[i]; b == 0 || b == '\r' || b >= 0x80 {
			return false
		}
	}
	return true
}

// newMessageID makes a Message-ID: the kind, the time, and 8 random bytes
// (unique alone). The time first keeps the outbox's Message-ID index in
// order: the dozen copies of one notification go to the end of one page,
// not to a dozen random pages, each a page the write transaction writes.
func (c *Composer) newMessageID(kind string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return fmt.Sprintf("%s.%s@%s", kind, hex.EncodeToString(b[:]), c.Config.Domain)
}

func headerAddrs(rs []recipient) []*gomail.Address {
	out := make([]*gomail.Address, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.header())
	}
	return out
}

func bareAddrs(rs []recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.addr)
	}
	return out
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// urlPathEscape escapes a file name for one path segment.
func urlPathEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-._~", r):
			b.WriteRune(r)
		default:
			for _, by := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02X", by)
			}
		}
	}
	return b.String()
}
