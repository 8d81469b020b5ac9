package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/receive"
	"liaisond/store"
	"liaisond/token"
)

// Config is what ingest needs to know about this installation's addresses
// (DESIGN 3).
type Config struct {
	Domain          string
	StatementsLocal string // "statements"
	CommandsLocal   string // "commands"
	TokenPrefix     string // "ls"
	// AuthservID is the receiving MTA's authserv-id whose
	// Authentication-Results are believed ("" believes none, DESIGN 7).
	AuthservID string
	// ReplyRatePerHour caps error and help replies per address and hour
	// (0: 5; negative: no cap).
	ReplyRatePerHour int
	// SubmitPerSenderPerHour and SubmitPerHour cap new statements per
	// submitter and in all; more are held (DESIGN 7). 0: no cap.
	SubmitPerSenderPerHour int
	SubmitPerHour          int
	// Relays are the peers whose Authentication-Results with AuthservID
	// are believed; from other peers such headers are removed (DESIGN 7).
	Relays []netip.Prefix
	// VerifyDKIM: liaisond is the MX and checks DKIM and DMARC itself on
	// mail from peers that are not relays.
	VerifyDKIM bool
}

// Composer turns an event into the mails it causes, as outbox rows inside the
// same transaction (DESIGN 10); events that cause no mail are fine.
// notify.Composer is the real one; ingest never sends mail itself. Ingest
// calls it once per event, after the apply of a message wrote them all
// (composeWritten).
type Composer interface {
	Compose(ctx context.Context, tx *store.Tx, ev *store.Event) error
}

// Processor takes received messages into the store: store raw, classify,
// parse, decide, and apply in one transaction.
type Processor struct {
	Config    Config
	Store     *store.Store
	Directory func() *directory.Directory
	Composer  Composer
	Keys      *token.Keys // verifies personal reply addresses (DESIGN 3)
	Log       *slog.Logger
	Now       func() time.Time
	// LookupTXT resolves DNS TXT records for DKIM and DMARC (nil: the
	// system resolver); tests give their own.
	LookupTXT func(domain string) ([]string, error)
}

// Envelope is what the transport knew about a message besides its bytes
// (defined in receive, which hands messages to the Processor).
type Envelope = receive.Envelope

// Message classes.
const (
	ClassSubmission = "submission"
	ClassCommand    = "command"
	ClassBounce     = "bounce"
	ClassAuto       = "auto"
	ClassLoop       = "loop"
	ClassUnknown    = "unknown"
)

// Result says what became of a received message.
type Result = receive.Result

// ErrTemporary wraps failures the sender should retry (SMTP 451, exit 75).
var ErrTemporary = store.ErrTemporary

// Receive stores raw and processes it. The message is durably stored when
// Receive returns a nil error, whatever became of it; with an error nothing
// was stored and the sender must retry.
func (p *Processor) Receive(ctx context.Context, env Envelope, raw []byte) (Result, error) {
	start := p.Now()
	raw = p.authenticate(env, raw)
	msg := &store.Message{
		ReceivedAt: start, Source: env.Source, MailFrom: env.MailFrom, RcptTo: env.Rcpt, Raw: raw,
	}
	msg.SHA256 = store.SHA256Hex(raw)
	msg.MessageID, msg.Identity = parse.Identity(raw, msg.SHA256)
	if p.Store.LegacyIdentityPossible() {
		msg.LegacyIdentity = parse.LegacyIdentity(raw, msg.SHA256)
	}

	// Parsing and deciding need no database: they run here, in the
	// caller's goroutine, in parallel with other sessions; only applying
	// the decision takes the write lock, in a transaction shared with the
	// messages ready at the same moment (group commit, DESIGN 10).
	d, err := p.safeDecide(env, raw, start)
	var res Result
	if err == nil {
		// The mails of a new statement are rendered here too, under a
		// statement id reserved for it (prepare.go).
		pre := p.prepare(ctx, msg, d)
		use := &preparedUse{pre: pre}
		err = p.Store.UpdateGrouped(ctx, func(tx *store.Tx) error {
			res = Result{}
			use.eventID, use.taken = 0, false // fn may run twice (group commit)
			id, dup, err := tx.InsertMessage(msg)
			if err != nil {
				return err
			}
			res.MessageID, res.Duplicate = id, dup
			if dup {
				return nil
			}
			return p.safeApply(ctx, tx, msg, env, d, use, &res)
		})
		if pre != nil && (err != nil || res.Statement != pre.id) && !use.taken {
			// Not used (a second delivery, a rejection, a failure): the
			// next statement takes the id, so numbers have no gap.
			p.Store.ReleaseStatementID(pre.id)
		}
	}
	if err != nil && !errors.Is(err, store.ErrTemporary) {
		// Processing failed for a reason a retry will not cure (a bug, a
		// constraint): keep the message with the reason rather than lose it.
		p.Log.Error("processing failed; message kept as failed", "source", env.Source, "message_id", msg.MessageID, "err", err)
		msg.State, msg.Class, msg.Error = store.MessageFailed, res.Class, err.Error()
		res = Result{Class: res.Class, State: store.MessageFailed}
		err = p.Store.UpdateGrouped(ctx, func(tx *store.Tx) error {
			id, dup, err := tx.InsertMessage(msg)
			res.MessageID, res.Duplicate = id, dup
			return err
		})
	}
	if err != nil {
		return Result{}, fmt.Errorf("store message: %w", err)
	}
	p.Log.Info("message received", "source", env.Source, "id", res.MessageID, "message_id", msg.MessageID,
		"class", res.Class, "state", res.State, "statement", res.Statement, "duplicate", res.Duplicate,
		"bytes", len(raw), "took", p.Now().Sub(start))
	return res, nil
}

// safeApply applies the decision about msg, then composes the mails of the
// events the apply wrote, in the same transaction (DESIGN 10). A panic
// becomes an error: the message is then kept as failed.
func (p *Processor) safeApply(ctx context.Context, tx *store.Tx, msg *store.Message, env Envelope, d *Decision, use *preparedUse, res *Result) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("panic while processing a message", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error while processing: %v", r)
		}
	}()
	if err := p.apply(ctx, tx, msg, env, d, use, res); err != nil {
		return err
	}
	return p.composeWritten(ctx, tx, use, res)
}

// preparedUse is what one run of a message's apply made of its prepared
// mails: the event they stand for, 0 when they were not used.
type preparedUse struct {
	pre     *prepared
	eventID int64
	taken   bool // another process took the reserved id: not to be given back
}

// composeWritten composes the mails of every event written through tx, in
// the order they were written, once each, and says in res whether any mail
// was queued (the caller wakes the outbox sender). It runs at the end of a
// message's apply, inside its transaction (its savepoint in a group
// commit): the apply only writes events, and a message rolled back leaves
// neither its events nor their mails. A mail therefore sees the statement
// as the whole message left it, not as it was halfway through a mail of
// several commands.
func (p *Processor) composeWritten(ctx context.Context, tx *store.Tx, use *preparedUse, res *Result) error {
	for _, ev := range tx.WrittenEvents() {
		if use != nil && use.eventID != 0 && ev.ID == use.eventID {
			// Rendered before the transaction from what this one wrote.
			if err := p.Composer.(MailPreparer).QueuePrepared(tx, &ev, use.pre.mails); err != nil {
				return fmt.Errorf("queueing the prepared mails of %s event %d: %w", ev.Type, ev.ID, err)
			}
			continue
		}
		if err := p.Composer.Compose(ctx, tx, &ev); err != nil {
			return fmt.Errorf("composing the mails of %s event %d: %w", ev.Type, ev.ID, err)
		}
	}
	res.Queued = tx.QueuedMails() > 0
	return nil
}

// safeDecide is Decide that turns a panic into an error: the message is then
// kept as failed, as when applying fails.
func (p *Processor) safeDecide(env Envelope, raw []byte, now time.Time) (d *Decision, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("panic while reading a message", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error while reading: %v", r)
		}
	}()
	return p.Decide(env, raw, p.Directory(), now), nil
}

// target is where a message was sent, by address (DESIGN 3).
type target struct {
	kind  string // statements, commands, token, other
	addr  string
	token string
	id    int64
}

// route finds the most specific of our addresses among the recipients:
// a personal token address, then commands@, then statements@.
func (p *Processor) route(env Envelope, parsed *parse.Message) target {
	rcpts := env.Rcpt
	if len(rcpts) == 0 && parsed != nil {
		// No envelope (pipe): the delivery headers say where it was sent.
		for _, name := range []string{"Delivered-To", "X-Original-To", "Envelope-To"} {
			for _, v := range parsed.Header[name] {
				rcpts = append(rcpts, strings.Trim(strings.TrimSpace(v), "<>"))
			}
		}
		for _, a := range append(append([]parse.Address{}, parsed.To...), parsed.Cc...) {
			rcpts = append(rcpts, a.Addr)
		}
	}
	best := target{kind: "other"}
	rank := map[string]int{"other": 0, "statements": 1, "commands": 2, "token": 3}
	for _, r := range rcpts {
		t := p.classifyAddress(r)
		if rank[t.kind] > rank[best.kind] {
			best = t
		}
	}
	return best
}

func (p *Processor) classifyAddress(addr string) target {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || domain != strings.ToLower(p.Config.Domain) {
		return target{kind: "other", addr: addr}
	}
	switch {
	case local == p.Config.StatementsLocal:
		return target{kind: "statements", addr: addr}
	case local == p.Config.CommandsLocal:
		return target{kind: "commands", addr: addr}
	}
	if rest, ok := strings.CutPrefix(local, p.Config.TokenPrefix+"+"); ok {
		idText, tok, _ := strings.Cut(rest, ".")
		var id int64
		fmt.Sscan(idText, &id)
		return target{kind: "token", addr: addr, token: tok, id: id}
	}
	return target{kind: "other", addr: addr}
}

// Accepts reports whether addr is one of ours that takes mail (RCPT check).
func (p *Processor) Accepts(addr string) bool {
	return p.classifyAddress(addr).kind != "other"
}

func (p *Processor) apply(ctx context.Context, tx *store.Tx, msg *store.Message, env Envelope, d *Decision, use *preparedUse, res *Result) error {
	switch d.Class {
	case ClassBounce:
		return p.bounce(tx, msg, d.Parsed, res)
	case ClassCommand:
		return p.commandMail(ctx, tx, msg, d.Parsed, d.Target, res)
	case ClassSubmission:
		return p.submission(ctx, tx, msg, d, use, res)
	}
	res.Class, res.State = d.Class, d.State
	return tx.SetMessageState(msg.ID, d.Class, d.State, d.Why)
}

// SubmissionDecision is what a mail to statements@ means, decided without
// the database (DESIGN 4 and 5): the statement to store, or the problems to
// answer with. Only whether the statement it answers exists, and the
// submission rates, are looked up when it is applied.
type SubmissionDecision struct {
	Sender string
	// Automatic is why the sender is automatic ("" for a person): its
	// statement is taken like any other, but nothing goes back to it
	// (DESIGN 5.2).
	Automatic string
	Problems  []parse.Problem
	// Statement is the statement to insert when there are no problems
	// (without its message id and, if the mail had no Message-ID, thread).
	Statement    store.Statement
	InResponseTo int64 // the statement it answers, to check and link
	Warnings     []string
	UnknownTo    []UnknownAddressee
	NoIETFBody   bool
	DeadlinePast bool
}

// decideSubmission reads a mail to statements@: its fields, their problems,
// the bodies it names and the statement it makes, as data.
func (p *Processor) decideSubmission(dir *directory.Directory, now time.Time, env Envelope, raw []byte, parsed *parse.Message, automatic string) *SubmissionDecision {
	sender := parsed.From.Addr
	if sender == "" {
		sender = strings.ToLower(env.MailFrom)
	}

	var problems []parse.Problem
	if parsed.IsSevere() {
		for _, mp := range parsed.Problems {
			problems = append(problems, parse.Problem{Message: "the mail could not be read: " + mp, Fix: "send it again as plain text, with any documents as ordinary attachments"})
		}
		if len(parsed.Problems) == 0 {
			problems = append(problems, parse.Problem{Message: "the mail could not be read", Fix: "send it again as plain text, with any documents as ordinary attachments"})
		}
	}
	sub, fieldProblems := parse.ParseFields(parsed.Text)
	problems = append(problems, fieldProblems...)
	subjectRef := parse.SubjectRef(parsed.Subject)
	problems = append(problems, parse.Check(&sub, parsed.Subject, subjectRef, len(parsed.Attachments))...)
	if sub.Title == "" {
		sub.Title = parse.CleanSubject(parsed.Subject)
	}

	st := &store.Statement{
		Direction: store.Incoming, State: store.StateOpen, Title: sub.Title, Purpose: sub.Purpose,
		Deadline: sub.Deadline, Submitter: sender, ReceivedAt: now, Body: token.Scrub(sub.Body), URLs: sub.URLs,
		ThreadID: parsed.MessageID,
	}
	var warnings []string

	// From: an SDO we do not know is accepted all the same (RFC 4053 4).
	fromBody, from, to, matchProblems := resolveBodies(dir, &sub)
	problems = append(problems, matchProblems...)
	st.From, st.To = from, to
	unknownTo := unknownAddressees(dir, st.To)
	if fromBody != nil && fromBody.IsIETF() {
		st.Direction = store.Outgoing
		problems = append(problems, outgoingProblems(dir, fromBody, sender, st.To)...)
		if automatic != "" {
			// Confirmation is a round trip with a person (DESIGN 4).
			problems = append(problems, parse.Problem{Message: "an outgoing statement must come from a person, not from an automatic sender (" + automatic + ")"})
		}
	}

	inResponseTo := sub.InResponseTo
	if inResponseTo == 0 && sub.Purpose == "response" && sub.InResponseToWords == "" {
		inResponseTo = subjectRef
	}
	sd := &SubmissionDecision{Sender: sender, Automatic: automatic, Problems: problems, InResponseTo: inResponseTo, UnknownTo: unknownTo}
	if len(problems) > 0 {
		return sd
	}
	// Assignee: the first leader of the first addressed IETF body (DESIGN 1);
	// none known: the secretariat, which redirects it (DESIGN 2).
	for _, ref := range st.To {
		if b := dir.Body(ref.ID); b != nil && b.IsIETF() {
			if a, ok := dir.Assignee(b); ok {
				st.Assignee = a.Addr
				break
			}
		}
	}
	noIETFBody := false
	if st.Assignee == "" {
		st.Assignee = dir.Secretariat.Addr
		if st.Direction == store.Incoming {
			noIETFBody = true
			warnings = append(warnings, noIETFBodyWarning(dir, st.To))
		}
	}
	for _, u := range unknownTo {
		warnings = append(warnings, addresseeWarning(u))
	}
	if st.From.ID == "" && st.Direction == store.Incoming {
		warnings = append(warnings, fmt.Sprintf("%q is not in our directory of organizations; the statement is accepted all the same", st.From.Name))
	}
	// The contacts default to the sender (DESIGN 4), unless it is an
	// automatic one, which is never written to.
	contactDefault := sender
	if automatic != "" {
		contactDefault = ""
	}
	st.ResponseContacts = contacts(sub.ResponseContacts, contactDefault)
	st.TechnicalContacts = contacts(sub.TechnicalContacts, contactDefault)
	st.Cc = contacts(sub.Cc, "")
	if sub.InResponseToWords != "" {
		// An answer to a statement this system never recorded: the words
		// are kept as an identifier, to be linked later (DESIGN 4).
		st.Other = append(st.Other, store.Field{Name: InResponseToField, Value: token.Scrub(sub.InResponseToWords)})
	}
	for _, f := range sub.Other {
		// Shown on the page and in every copy of the notification: no
		// one's reply token may ride along (DESIGN 7).
		st.Other = append(st.Other, store.Field{Name: f.Name, Value: token.Scrub(f.Value)})
	}
	// Hashed here, and kept as references into the stored message where
	// they can be, rather than in the write transaction.
	st.Attachments = storedAttachments(raw, parsed.Attachments)
	if len(parsed.OmittedAttachments) > 0 {
		warnings = append(warnings, omittedWarning(parsed.OmittedAttachments))
	}
	if automatic != "" && len(st.ResponseContacts) == 0 {
		warnings = append(warnings, "the statement came from an automatic sender and names no response contact; add a Response-Contact line to receive the IETF's response")
	}
	if w := readabilityWarning(parsed.Attachments); w != "" {
		warnings = append(warnings, w)
	}
	deadlinePast := false
	if d, err := time.Parse("2006-01-02", st.Deadline); err == nil && d.Before(now.UTC().Truncate(24*time.Hour)) {
		deadlinePast = true
		warnings = append(warnings, fmt.Sprintf("the deadline %s had already passed when the statement arrived", st.Deadline))
	}
	if st.Direction == store.Outgoing {
		// Outgoing statements need confirmation and approval (DESIGN 4)
		// before they go to the SDO.
		st.State = store.StatePending
		st.Assignee = sender
	}
	sd.Statement, sd.Warnings, sd.NoIETFBody, sd.DeadlinePast = *st, warnings, noIETFBody, deadlinePast
	return sd
}

// submission applies a mail to statements@ (DESIGN 4 and 5) as decided.
func (p *Processor) submission(ctx context.Context, tx *store.Tx, msg *store.Message, d *Decision, use *preparedUse, res *Result) error {
	res.Class = ClassSubmission
	sub := d.Submission
	parsed, sender, automatic, inResponseTo := d.Parsed, sub.Sender, sub.Automatic, sub.InResponseTo
	now := tx.Now()                       // one timestamp per transaction
	problems := slices.Clip(sub.Problems) // appended to below; the decision stays as decided
	if inResponseTo != 0 {
		ok, err := tx.StatementExists(inResponseTo)
		if err != nil {
			return err
		}
		if !ok {
			problems = append(problems, parse.Problem{Field: "In-Response-To", Message: fmt.Sprintf("LS-%d does not exist", inResponseTo),
				Fix: "give the reference of the statement this one answers, as in the subject of our mails, e.g. \"In-Response-To: LS-17\""})
		}
	}

	if len(problems) > 0 {
		if automatic != "" {
			// Automatic mail never gets an answer (DESIGN 5.2): kept as
			// rejected, with the reasons, for the operator.
			sender = ""
		}
		return p.reject(tx, msg, parsed, sender, d.Target, problems, res)
	}

	stv := sub.Statement // fn may run twice (group commit): the decision stays as decided
	st := &stv
	st.MessageID, st.ReceivedAt = msg.ID, now
	warnings, unknownTo, noIETFBody, deadlinePast := sub.Warnings, sub.UnknownTo, sub.NoIETFBody, sub.DeadlinePast
	held, tellSecretariat, err := p.overRate(tx, st.Direction, sender)
	if err != nil {
		return err
	}
	if held {
		st.State = store.StateHeld
	}
	if st.ThreadID == "" {
		st.ThreadID = fmt.Sprintf("ls-%d-%d@%s", now.Unix(), msg.ID, p.Config.Domain)
	}
	pre := use.pre
	if pre != nil {
		// The id reserved for this statement, unless another process
		// (a pipe delivery, a command line) took it meanwhile.
		taken, err := tx.StatementExists(pre.id)
		if err != nil {
			return err
		}
		if !taken {
			st.ID = pre.id
		}
		use.taken = taken
	}
	if err := tx.InsertStatement(st); err != nil {
		return err
	}
	res.Statement = st.ID

	reused, err := tx.StatementsFromMessageID(msg.MessageID, msg.ID)
	if err != nil {
		return err
	}
	sd := store.SubmittedData{Warnings: warnings, UnknownTo: unknownTo, NoIETFBody: noIETFBody,
		OmittedAttachments: parsed.OmittedAttachments, SameMessageID: reused}
	if automatic != "" {
		sd.Automatic, sd.AutomaticSender = automatic, sender
	}
	ev := &store.Event{StatementID: st.ID, MessageID: msg.ID, At: now, Type: store.EventSubmitted, By: sender,
		Text: fmt.Sprintf("%s statement from %s: %s", st.Direction, st.From.Name, st.Title)}
	if err := ev.SetData(sd); err != nil {
		return err
	}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	use.eventID = 0
	if pre != nil && st.ID == pre.id && !held && slices.Equal(reused, pre.data.SameMessageID) {
		use.eventID = ev.ID // its mails are the prepared ones
	}
	if err := p.realMailEvents(tx, st, msg, sd); err != nil {
		return err
	}
	if deadlinePast {
		if err := tx.InsertEvent(&store.Event{StatementID: st.ID, At: now, Type: store.EventDeadlinePast, By: "liaisond",
			Text: "the deadline " + st.Deadline + " was already past on arrival"}); err != nil {
			return err
		}
	}
	if inResponseTo != 0 {
		if err := tx.AddRelation(st.ID, inResponseTo, store.RelRepliesTo); err != nil {
			return err
		}
		if err := tx.SetReplied(inResponseTo, now); err != nil {
			return err
		}
		if err := tx.InsertEvent(&store.Event{StatementID: inResponseTo, At: now, Type: store.EventReplied, By: sender,
			Text: fmt.Sprintf("answered by %s", st.Ref())}); err != nil {
			return err
		}
	}
	switch {
	case held:
		// Over the submission rate: kept, not notified; the secretariat is
		// told once per burst and releases it with "reopen" (DESIGN 7).
		hev := &store.Event{StatementID: st.ID, MessageID: msg.ID, At: now, Type: store.EventHeld, By: "liaisond",
			Text: "held: more new statements than the configured rate allows"}
		if err := hev.SetData(store.HeldData{Tell: tellSecretariat}); err != nil {
			return err
		}
		if err := tx.InsertEvent(hev); err != nil {
			return err
		}
	case st.Direction == store.Outgoing:
		if ok, why := parse.TrustedAuth(parsed.Header, p.Config.AuthservID, sender); ok {
			if err := tx.InsertEvent(&store.Event{StatementID: st.ID, MessageID: msg.ID, At: now, Type: store.EventConfirmed, By: sender,
				Text: "confirmed by the sender's authenticated domain (" + why + ")"}); err != nil {
				return err
			}
			if _, err := p.afterConfirm(ctx, tx, st, msg.ID, sender); err != nil {
				return err
			}
		} else {
			cev := &store.Event{StatementID: st.ID, MessageID: msg.ID, At: now, Type: store.EventConfirmationRequested, By: "liaisond",
				Text: "waiting for the submitter to reply \"confirm\""}
			if err := tx.InsertEvent(cev); err != nil {
				return err
			}
		}
	}
	res.State = store.MessageProcessed
	return tx.SetMessageState(msg.ID, ClassSubmission, store.MessageProcessed, "")
}

// outgoingProblems checks an outgoing statement (DESIGN 4): only a person
// with a role in the From body may send one, and it must go to SDOs we
// have contacts for.
func outgoingProblems(dir *directory.Directory, from *directory.Body, sender string, to []store.BodyRef) []parse.Problem {
	var problems []parse.Problem
	allowed := false
	if _, secretariat := dir.RolesOf(sender); secretariat {
		allowed = true
	}
	for _, p := range append(from.Leaders(), dir.Approvers(from)...) {
		if strings.EqualFold(p.Addr, sender) {
			allowed = true
		}
	}
	if !allowed {
		problems = append(problems, parse.Problem{Field: "From", Message: fmt.Sprintf("%s holds no role in %s, so cannot send statements on its behalf", sender, from.Name),
			Fix: "ask a chair or AD of " + from.ID + ", or the secretariat, to send it"})
	}
	for _, ref := range to {
		b := dir.Body(ref.ID)
		switch {
		case b == nil:
			problems = append(problems, parse.Problem{Field: "To", Message: fmt.Sprintf("%q is not an organization in our directory, so we have no address to send it to", ref.Name),
				Fix: "write the SDO's name as the directory has it, or ask the secretariat to add it"})
		case b.IsIETF():
			problems = append(problems, parse.Problem{Field: "To", Message: fmt.Sprintf("%s is an IETF body; liaison statements go between the IETF and other organizations", b.Name),
				Fix: "address the statement to an SDO"})
		case len(b.Contacts) == 0:
			problems = append(problems, parse.Problem{Field: "To", Message: fmt.Sprintf("the directory has no contact address for %s", b.Name),
				Fix: "ask the secretariat to add the SDO's contacts to the directory"})
		}
	}
	return problems
}

// overRate applies the per-sender and global rates of new statements
// (DESIGN 7). tell is set for the first statement held in an hour.
func (p *Processor) overRate(tx *store.Tx, direction, sender string) (held, tell bool, err error) {
	if direction != store.Incoming {
		return false, false, nil
	}
	since := tx.Now().Add(-time.Hour)
	if lim := p.Config.SubmitPerSenderPerHour; lim > 0 && sender != "" {
		n, err := tx.StatementsSince(sender, since)
		if err != nil {
			return false, false, err
		}
		held = n >= lim
	}
	if lim := p.Config.SubmitPerHour; lim > 0 && !held {
		n, err := tx.StatementsSince("", since)
		if err != nil {
			return false, false, err
		}
		held = n >= lim
	}
	if !held {
		return false, false, nil
	}
	before, err := tx.HeldSince(since)
	return true, !before, err
}

func (p *Processor) reject(tx *store.Tx, msg *store.Message, parsed *parse.Message, sender string, t target, problems []parse.Problem, res *Result) error {
	var lines []string
	for _, pr := range problems {
		lines = append(lines, pr.String())
	}
	res.Problems = lines
	res.State = store.MessageRejected
	ev := &store.Event{MessageID: msg.ID, At: tx.Now(), Type: store.EventRejected, By: sender,
		Text: strings.Join(lines, "\n")}
	if err := ev.SetData(store.AnswerData{To: sender, Subject: parsed.Subject, MessageID: parsed.MessageID, Rcpt: t.addr, Problems: lines}); err != nil {
		return err
	}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	return tx.SetMessageState(msg.ID, ClassSubmission, store.MessageRejected, strings.Join(lines, "; "))
}

func contacts(as []parse.Address, fallback string) []store.Contact {
	var out []store.Contact
	for _, a := range as {
		out = append(out, store.Contact{Name: a.Name, Addr: a.Addr})
	}
	if len(out) == 0 && fallback != "" {
		out = append(out, store.Contact{Addr: fallback})
	}
	return out
}

// readabilityWarning: RFC 4053 2.2.1.2 asks for formats everyone can read;
// a word-processor file alone is accepted with a warning.
func readabilityWarning(atts []parse.Attachment) string {
	var closed []string
	open := false
	for _, a := range atts {
		switch strings.ToLower(path.Ext(a.Name)) {
		case ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".rtf", ".odt", ".ods", ".odp", ".vsd", ".vsdx":
			closed = append(closed, a.Name)
		case ".pdf", ".html", ".htm", ".txt", ".md":
			open = true
		}
	}
	if len(closed) == 0 || open {
		return ""
	}
	return fmt.Sprintf("%s is not in a universally readable format; please also send a PDF, HTML or text version (RFC 4053 2.2.1.2)", strings.Join(closed, ", "))
}
