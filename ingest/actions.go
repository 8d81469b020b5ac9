package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/store"
	"liaisond/token"
)

// commandMail handles mail to a personal token address or to commands@
// (DESIGN 6 and 7). Nothing is changed unless every command in the mail is
// allowed; every command, done or refused, is an event.
func (p *Processor) commandMail(ctx context.Context, tx *store.Tx, msg *store.Message, parsed *parse.Message, t target, res *Result) error {
	res.Class = ClassCommand
	sender := parsed.From.Addr
	done := func(state, why string) error {
		res.State = state
		return tx.SetMessageState(msg.ID, ClassCommand, state, why)
	}
	if sender == "" {
		return done(store.MessageIgnored, "command mail without a readable From address")
	}
	text := parse.ReplyText(parsed) // quotes removed, as HTML when the text came from HTML (DESIGN 7)
	cmds := parse.ParseCommands(text, t.kind == "commands")

	// Who is this? A token proves the From address received our mail about
	// that statement; at commands@ only a trusted DKIM/DMARC pass does.
	authed, authWhy := false, ""
	switch t.kind {
	case "token":
		if p.Keys != nil && p.Keys.Verify(t.id, sender, t.token) {
			authed = true
		} else {
			// Name the statement, never the address: it carries another
			// recipient's token (DESIGN 7).
			authWhy = fmt.Sprintf("the address you wrote to is personal to another recipient of our mail about LS-%d, and %s is not that person (forwarded mails give no rights)", t.id, sender)
		}
	case "commands":
		authed, authWhy = parse.TrustedAuth(parsed.Header, p.Config.AuthservID, sender)
		if !authed {
			authWhy = "we could not verify that this mail comes from " + sender + ": " + authWhy +
				"; reply to your personal copy of our notification instead (its Reply-To address carries your token)"
		}
	}

	// A trusted DMARC failure outweighs a valid token: the token says who
	// was mailed, DMARC says who is writing (DESIGN 7).
	if failed, why := parse.TrustedDMARCFail(parsed.Header, p.Config.AuthservID, sender); failed && authed {
		authed, authWhy = false, why
	}

	reply := store.AnswerData{To: sender, Subject: parsed.Subject, MessageID: parsed.MessageID, Rcpt: token.Scrub(t.addr)}

	// A reply without commands is a comment, answered with nothing.
	if len(cmds.List) == 0 {
		stID := t.id
		if t.kind == "commands" {
			stID = parse.SubjectRef(parsed.Subject)
		}
		if !authed || stID == 0 {
			return done(store.MessageIgnored, "a reply without commands that we cannot attribute: "+firstNonEmpty(authWhy, "no statement reference"))
		}
		if ok, err := tx.StatementExists(stID); err != nil || !ok {
			if err != nil {
				return err
			}
			return done(store.MessageIgnored, fmt.Sprintf("comment on LS-%d, which does not exist", stID))
		}
		if err := tx.InsertEvent(&store.Event{StatementID: stID, MessageID: msg.ID, At: tx.Now(), Type: store.EventComment, By: sender,
			Text: token.Scrub(parse.Clip(firstNonEmpty(cmds.Rest, text), 4000))}); err != nil {
			return err
		}
		return done(store.MessageProcessed, "")
	}

	// help needs no authentication (DESIGN 6: anyone, rate-limited).
	onlyHelp := true
	for _, c := range cmds.List {
		if !c.Known || c.Name != parse.CmdHelp {
			onlyHelp = false
		}
	}
	if onlyHelp {
		ev := &store.Event{StatementID: t.id, MessageID: msg.ID, At: tx.Now(), Type: store.EventHelp, By: sender, Text: "help", Private: !authed}
		if t.kind != "token" {
			ev.StatementID = 0
		} else if ok, err := tx.StatementExists(t.id); err != nil {
			return fmt.Errorf("looking up LS-%d for help: %w", t.id, err)
		} else if !ok {
			ev.StatementID = 0
		}
		return p.answer(tx, msg, ev, reply, res)
	}

	// Plan every command; refuse the whole mail if any is refused.
	plan := &planner{p: p, tx: tx, dir: p.Directory(), msgID: msg.ID, raw: msg.Raw, sender: sender, authed: authed, authWhy: authWhy, t: t, parsed: parsed, cmds: cmds}
	steps, problems, err := plan.plan()
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for i, pr := range problems {
			// Mail that did not authenticate writes nothing public: its
			// text is anybody's (DESIGN 6); the operator still sees it.
			ev := &store.Event{StatementID: pr.statement, MessageID: msg.ID, At: tx.Now(), Type: store.EventCommandRefused, By: sender,
				Text: token.Scrub(fmt.Sprintf("%q refused: %s", pr.line, pr.why)), Private: !authed}
			if i < len(problems)-1 {
				if err := tx.InsertEvent(ev); err != nil {
					return err
				}
				continue
			}
			for _, q := range problems {
				reply.Problems = append(reply.Problems, fmt.Sprintf("%q: %s", q.line, q.why))
			}
			for _, s := range steps {
				reply.Done = append(reply.Done, fmt.Sprintf("%q was not done either, as the mail is taken whole or not at all", s.cmd.Line))
			}
			res.Problems = reply.Problems
			if err := p.answer(tx, msg, ev, reply, res); err != nil {
				return err
			}
		}
		res.State = store.MessageRejected
		return tx.SetMessageState(msg.ID, ClassCommand, store.MessageRejected, strings.Join(res.Problems, "; "))
	}
	var outcomes []string
	var touched []int64
	for _, s := range steps {
		what, err := s.run(ctx)
		if err != nil {
			return err
		}
		outcomes = append(outcomes, what)
		if s.statement != 0 {
			res.Statement = s.statement
			if !slices.Contains(touched, s.statement) {
				touched = append(touched, s.statement)
			}
		}
	}
	if err := p.confirmDone(tx, msg, reply, outcomes, touched); err != nil {
		return err
	}
	return done(store.MessageProcessed, "")
}

// confirmDone tells the sender of a command mail what was done, unless the
// address had its share of answers this hour: done mails share the
// per-address limit of error and help replies (DESIGN 7).
func (p *Processor) confirmDone(tx *store.Tx, msg *store.Message, reply store.AnswerData, outcomes []string, touched []int64) error {
	reply.Done = outcomes
	ev := &store.Event{MessageID: msg.ID, At: tx.Now(), Type: store.EventDone, By: reply.To, Text: strings.Join(outcomes, "; ")}
	n, err := tx.RepliesSince(strings.ToLower(reply.To), store.AnswerKinds, tx.Now().Add(-time.Hour))
	if err != nil {
		return err
	}
	if limit := p.replyLimit(); limit > 0 && n >= limit {
		ev.Text += fmt.Sprintf(" (no confirmation sent: %s had %d answers in the last hour)", reply.To, n)
		reply.To = ""
	}
	if err := ev.SetData(store.DoneData{AnswerData: reply, Statements: touched}); err != nil {
		return err
	}
	return tx.InsertEvent(ev)
}

func (p *Processor) replyLimit() int {
	if p.Config.ReplyRatePerHour == 0 {
		return 5
	}
	return p.Config.ReplyRatePerHour
}

// answer records ev, which is answered (composeWritten) unless the address
// had its share of answers this hour (DESIGN 7).
func (p *Processor) answer(tx *store.Tx, msg *store.Message, ev *store.Event, reply store.AnswerData, res *Result) error {
	limit := p.Config.ReplyRatePerHour
	if limit == 0 {
		limit = 5
	}
	n, err := tx.RepliesSince(strings.ToLower(reply.To), store.AnswerKinds, tx.Now().Add(-time.Hour))
	if err != nil {
		return err
	}
	suppressed := limit > 0 && n >= limit
	if suppressed {
		ev.Text += fmt.Sprintf(" (no answer sent: %s had %d answers in the last hour)", reply.To, n)
		reply.To = ""
	}
	if err := ev.SetData(reply); err != nil {
		return err
	}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	res.State = store.MessageProcessed
	why := ""
	if suppressed {
		why = "answer suppressed by the per-address rate"
	}
	return tx.SetMessageState(msg.ID, ClassCommand, store.MessageProcessed, why)
}

// refusal is one command that may not run.
type refusal struct {
	statement int64
	line, why string
}

// step is one planned command.
type step struct {
	cmd       parse.Command
	statement int64
	run       func(ctx context.Context) (string, error) // says what it did
}

type planner struct {
	p       *Processor
	tx      *store.Tx
	dir     *directory.Directory
	sender  string
	authed  bool
	authWhy string
	t       target
	parsed  *parse.Message
	cmds    parse.Commands
	msgID   int64
	raw     []byte // the message as stored: attachments may be kept as ranges of it
	cache   map[int64]*store.Statement
}

func (pl *planner) statement(id int64) (*store.Statement, error) {
	if st, ok := pl.cache[id]; ok {
		return st, nil
	}
	st, err := pl.tx.Statement(id)
	if errors.Is(err, store.ErrNotFound) {
		st = nil
	} else if err != nil {
		return nil, err
	}
	if pl.cache == nil {
		pl.cache = map[int64]*store.Statement{}
	}
	pl.cache[id] = st
	return st, nil
}

func (pl *planner) plan() ([]step, []refusal, error) {
	var steps []step
	var refused []refusal
	for _, c := range pl.cmds.List {
		id := c.Ref
		if pl.t.kind == "token" {
			if c.Ref != 0 && c.Ref != pl.t.id {
				refused = append(refused, refusal{pl.t.id, c.Line, fmt.Sprintf("this address acts on LS-%d only; send commands for LS-%d from your own copy of its mails", pl.t.id, c.Ref)})
				continue
			}
			id = pl.t.id
		}
		st, err := pl.statement(id)
		if err != nil {
			return nil, nil, fmt.Errorf("reading LS-%d: %w", id, err)
		}
		if !c.Known {
			refused = append(refused, refusal{id, c.Line, fmt.Sprintf("%q is not a command (the list is below)", c.Name)})
			continue
		}
		if st == nil {
			refused = append(refused, refusal{0, c.Line, fmt.Sprintf("LS-%d does not exist", id)})
			continue
		}
		if c.Name == parse.CmdHelp {
			continue // answered only when alone; harmless among others
		}
		if !pl.authed {
			refused = append(refused, refusal{id, c.Line, pl.authWhy})
			continue
		}
		s, why, err := pl.step(c, st)
		if err != nil {
			return nil, nil, err
		}
		if why != "" {
			refused = append(refused, refusal{id, c.Line, why})
			continue
		}
		steps = append(steps, s)
	}
	return steps, refused, nil
}

// roles is what the sender may do on one statement (DESIGN 6's table).
type roles struct {
	act, redirect, note, approve, submitter bool
}

func (pl *planner) rolesOn(st *store.Statement) (roles, error) {
	var r roles
	s := pl.sender
	dir := pl.dir
	is := func(ps []directory.Person) bool {
		for _, p := range ps {
			if strings.EqualFold(p.Addr, s) {
				return true
			}
		}
		return false
	}
	ietf, sdo := st.Sides()
	pw := dir.PowersOf(s, st.Assignee, ietf, sdo)
	r.act, r.redirect = pw.Act, pw.Redirect
	r.submitter = strings.EqualFold(st.Submitter, s)
	r.approve = is(dir.Approvers(dir.Body(st.From.ID)))
	r.note = r.act || r.submitter
	if !r.note {
		if pl.t.kind == "token" {
			r.note = true // the token proves our mail about it went to this address
		} else {
			was, err := pl.tx.WasRecipient(st.ID, s)
			if err != nil {
				return r, err
			}
			r.note = was
		}
	}
	return r, nil
}

// step plans one command: a refusal (why) is the sender's to read; a store
// error (err) aborts the whole transaction and is never told as a refusal.
func (pl *planner) step(c parse.Command, st *store.Statement) (s step, why string, err error) {
	r, err := pl.rolesOn(st)
	if err != nil {
		return step{}, "", fmt.Errorf("reading the roles of %s on %s: %w", pl.sender, st.Ref(), err)
	}
	return pl.stepFor(c, st, r)
}

func (pl *planner) stepFor(c parse.Command, st *store.Statement, r roles) (step, string, error) {
	s := step{cmd: c, statement: st.ID}
	p, tx, now, by := pl.p, pl.tx, pl.tx.Now(), pl.sender
	// record writes one event of the command on the statement; its mails
	// are composed when the whole mail is applied (composeWritten).
	record := func(ctx context.Context, typ, text string, data store.EventData) error {
		ev := &store.Event{StatementID: st.ID, MessageID: pl.msgIDOr(), At: now, Type: typ, By: by, Text: text}
		if data != nil {
			if err := ev.SetData(data); err != nil {
				return err
			}
		}
		return tx.InsertEvent(ev)
	}
	notAllowed := func(who string) string {
		return fmt.Sprintf("%s may not %s %s; that is for %s", by, c.Name, st.Ref(), who)
	}
	const actors = "its assignee, the chairs and supervisors of the addressed body, the liaison manager and the secretariat"

	switch c.Name {
	case parse.CmdClose, parse.CmdReopen:
		if !r.act {
			return s, notAllowed(actors), nil
		}
		want, from := store.StateClosed, []string{store.StateOpen, store.StatePending}
		typ := store.EventClosed
		if c.Name == parse.CmdReopen {
			want, from, typ = store.StateOpen, []string{store.StateClosed, store.StateHeld}, store.EventReopened
		}
		if !contains(from, st.State) {
			return s, fmt.Sprintf("%s is %s already", st.Ref(), st.State), nil
		}
		wasHeld := st.State == store.StateHeld
		s.run = func(ctx context.Context) (string, error) {
			what := fmt.Sprintf("%s is %s", st.Ref(), want)
			if err := tx.SetState(st.ID, want, now); err != nil {
				return "", err
			}
			if err := record(ctx, typ, strings.TrimSpace(c.Name+"d "+c.Arg), store.ReasonData{Reason: strings.TrimSpace(c.Arg)}); err != nil {
				return "", err
			}
			if wasHeld {
				// A held statement released: it is notified now (DESIGN 7).
				// What its arrival found (unknown addressees, warnings)
				// is told now, as it would have been then.
				arrival, err := arrivalData(st)
				if err != nil {
					return "", err
				}
				return what + " (released and notified)", record(ctx, store.EventSubmitted, "released by "+by, arrival)
			}
			return what, nil
		}
	case parse.CmdReassign, parse.CmdRedirect:
		if c.Name == parse.CmdRedirect && !r.redirect {
			return s, notAllowed("the liaison manager and the secretariat"), nil
		}
		if c.Name == parse.CmdReassign && !r.act {
			return s, notAllowed(actors), nil
		}
		if c.Arg == "" {
			return s, c.Name + " needs an address or a body id, e.g. \"" + c.Name + " ccamp\"", nil
		}
		var newTo []store.BodyRef
		assignee := ""
		if b := pl.dir.Body(c.Arg); b != nil {
			a, ok := pl.dir.Assignee(b)
			if !ok || !b.IsIETF() {
				return s, fmt.Sprintf("%s is not an IETF body with a chair or AD", b.ID), nil
			}
			assignee, newTo = a.Addr, []store.BodyRef{{ID: b.ID, Name: b.Name}}
		} else if c.Name == parse.CmdRedirect {
			return s, fmt.Sprintf("%q is not a body id in our directory", c.Arg), nil
		} else if a, err := mail.ParseAddress(c.Arg); err == nil {
			assignee = strings.ToLower(a.Address)
			if p.classifyAddress(assignee).kind != "other" {
				// Its mails would come back to liaisond (DESIGN 5).
				return s, fmt.Sprintf("%s is an address of this liaison system, not a person", token.Scrub(assignee)), nil
			}
		} else {
			return s, fmt.Sprintf("%q is neither an address nor a body id", c.Arg), nil
		}
		if strings.EqualFold(assignee, st.Assignee) && c.Name == parse.CmdReassign {
			return s, fmt.Sprintf("%s is assigned to %s already", st.Ref(), assignee), nil
		}
		typ := store.EventReassigned
		if c.Name == parse.CmdRedirect {
			typ = store.EventRedirected
		}
		s.run = func(ctx context.Context) (string, error) {
			if err := tx.SetAssignee(st.ID, assignee); err != nil {
				return "", err
			}
			data := store.ChangeData{Old: st.Assignee, New: assignee, By: by}
			text := fmt.Sprintf("%s to %s", typ, assignee)
			what := fmt.Sprintf("%s is assigned to %s", st.Ref(), assignee)
			if newTo != nil && c.Name == parse.CmdRedirect {
				if err := tx.ReplaceTo(st.ID, newTo); err != nil {
					return "", err
				}
				// The history keeps the body it was first addressed to (DESIGN 6).
				data.OldTo, data.NewTo = st.To, newTo
				text = fmt.Sprintf("redirected from %s to %s; assigned to %s", bodyNames(st.To), bodyNames(newTo), assignee)
				what = fmt.Sprintf("%s is redirected to %s and assigned to %s", st.Ref(), bodyNames(newTo), assignee)
			}
			return what, record(ctx, typ, text, data)
		}
	case parse.CmdDeadline:
		if !r.act {
			return s, notAllowed(actors), nil
		}
		d, why := parse.ParseDate(c.Arg)
		if why != "" {
			return s, why + "; write the date as 2027-01-31", nil
		}
		s.run = func(ctx context.Context) (string, error) {
			if err := tx.SetDeadline(st.ID, d); err != nil {
				return "", err
			}
			return fmt.Sprintf("the deadline of %s is %s (was %s); reminders follow it", st.Ref(), d, firstNonEmpty(st.Deadline, "none")),
				record(ctx, store.EventDeadlineChanged, fmt.Sprintf("deadline %s (was %s)", d, firstNonEmpty(st.Deadline, "none")), store.ChangeData{Old: st.Deadline, New: d, By: by})
		}
	case parse.CmdStatus, parse.CmdNote:
		if c.Name == parse.CmdStatus && !r.act {
			return s, notAllowed(actors), nil
		}
		if c.Name == parse.CmdNote && !r.note {
			return s, notAllowed("the people our mails about it went to"), nil
		}
		if c.Arg == "" {
			return s, c.Name + " needs a text on the same line", nil
		}
		s.run = func(ctx context.Context) (string, error) {
			if c.Name == parse.CmdStatus {
				line := token.Scrub(parse.Clip(c.Arg, 500))
				if err := tx.SetStatusLine(st.ID, line); err != nil {
					return "", err
				}
				return fmt.Sprintf("the status of %s reads %q", st.Ref(), line), record(ctx, store.EventStatus, line, nil)
			}
			return fmt.Sprintf("your note is on the history of %s", st.Ref()), record(ctx, store.EventNote, token.Scrub(parse.Clip(c.Arg, 2000)), nil)
		}
	case parse.CmdReply:
		if !r.act {
			return s, notAllowed(actors), nil
		}
		if st.Direction != store.Incoming {
			return s, st.Ref() + " is an outgoing statement; a reply is for statements we received", nil
		}
		if strings.TrimSpace(pl.cmds.ReplyText) == "" && len(pl.parsed.Attachments) == 0 {
			return s, "the reply has no text and no attachment: write the response below the \"reply\" line", nil
		}
		from := pl.dir.Body(firstBodyID(st.To))
		if from == nil || !from.IsIETF() {
			return s, st.Ref() + " was not addressed to an IETF body we know; redirect it first", nil
		}
		if len(st.ResponseContacts) == 0 {
			return s, st.Ref() + " names no response contact to send the reply to", nil
		}
		s.run = func(ctx context.Context) (string, error) { return pl.reply(ctx, st, from) }
	case parse.CmdApprove, parse.CmdReject:
		if st.State != store.StatePending || stage(st) != "approval" {
			return s, st.Ref() + " is not waiting for approval", nil
		}
		if !r.approve {
			return s, notAllowed("the approvers of statements from " + st.From.Name), nil
		}
		if c.Name == parse.CmdReject && c.Arg == "" {
			return s, "reject needs a reason on the same line", nil
		}
		s.run = func(ctx context.Context) (string, error) {
			if c.Name == parse.CmdApprove {
				if err := record(ctx, store.EventApproved, "approved", nil); err != nil {
					return "", err
				}
				return fmt.Sprintf("%s is approved and sent to %s", st.Ref(), bodyNames(st.To)), pl.p.transmit(ctx, tx, st, pl.msgIDOr(), by)
			}
			if err := tx.SetState(st.ID, store.StateRejected, now); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s is rejected; its submitter, %s, is told why", st.Ref(), st.Submitter),
				record(ctx, store.EventApprovalRejected, "rejected: "+c.Arg, store.ReasonData{Reason: c.Arg})
		}
	case parse.CmdConfirm:
		if st.State != store.StatePending || stage(st) != "confirmation" {
			return s, st.Ref() + " is not waiting for confirmation", nil
		}
		if !r.submitter {
			return s, notAllowed("its submitter, " + st.Submitter), nil
		}
		s.run = func(ctx context.Context) (string, error) {
			if err := record(ctx, store.EventConfirmed, "confirmed by the submitter", nil); err != nil {
				return "", err
			}
			what, err := pl.p.afterConfirm(ctx, tx, st, pl.msgIDOr(), by)
			return st.Ref() + " is confirmed: " + what, err
		}
	case parse.CmdLink:
		if !r.redirect {
			return s, notAllowed("the liaison manager and the secretariat"), nil
		}
		return pl.link(s, c, st)
	default:
		return s, fmt.Sprintf("%q is not a command", c.Name), nil
	}
	return s, "", nil
}

func (pl *planner) msgIDOr() int64 { return pl.msgID }

// stage says what a pending outgoing statement waits for.
func stage(st *store.Statement) string {
	stage := "confirmation"
	for _, ev := range st.Events {
		switch ev.Type {
		case store.EventConfirmed, store.EventApprovalRequested:
			stage = "approval"
		case store.EventApproved, store.EventTransmitted:
			stage = "done"
		}
	}
	return stage
}

// reply turns the reply text into the IETF's response (DESIGN 6): From and
// To reversed, In Response, related both ways. Like any outgoing statement
// it needs the approval of RFC 4052 (RFC 4053 3.2.2.4): a WG chair's reply
// waits for an AD of the area; an approver's own goes to the SDO at once.
// The original counts as answered when the response is sent (transmit).
func (pl *planner) reply(ctx context.Context, orig *store.Statement, from *directory.Body) (string, error) {
	p, tx, now := pl.p, pl.tx, pl.tx.Now()
	title := orig.Title
	if !strings.HasPrefix(strings.ToLower(title), "response") {
		title = "Response to " + title
	}
	st := &store.Statement{
		MessageID: pl.msgIDOr(), Direction: store.Outgoing, State: store.StatePending,
		From: store.BodyRef{ID: from.ID, Name: from.Name}, To: []store.BodyRef{orig.From},
		Title: title, Purpose: parse.PurposeResponse, Submitter: pl.sender, Assignee: pl.sender, ReceivedAt: now,
		// The response goes to the SDO and the public page: no token in it,
		// whatever the quote stripper left (DESIGN 7).
		Body:             token.Scrub(pl.cmds.ReplyText),
		ResponseContacts: []store.Contact{{Name: pl.parsed.From.Name, Addr: pl.sender}},
		ThreadID:         orig.ThreadID,
	}
	// Kept as references into the stored message where they can be
	// (attachments.go): base64 ones were decoded by the store's decoder.
	st.Attachments = storedAttachments(pl.raw, pl.parsed.Attachments)
	if err := tx.InsertStatement(st); err != nil {
		return "", err
	}
	if err := tx.AddRelation(st.ID, orig.ID, store.RelRepliesTo); err != nil {
		return "", err
	}
	st.Related = []store.Relation{{Ref: orig.ID, Relation: store.RelRepliesTo}}
	if err := tx.InsertEvent(&store.Event{StatementID: st.ID, MessageID: pl.msgIDOr(), At: now, Type: store.EventSubmitted, By: pl.sender,
		Text: fmt.Sprintf("response to %s by %s", orig.Ref(), pl.sender)}); err != nil {
		return "", err
	}
	what, err := p.afterConfirm(ctx, tx, st, pl.msgIDOr(), pl.sender)
	if err != nil {
		return "", err
	}
	if st.State == store.StatePending {
		// The original's history says a reply is on its way; the reply
		// itself stays private until approved (DESIGN 8).
		if err := tx.InsertEvent(&store.Event{StatementID: orig.ID, MessageID: pl.msgIDOr(), At: now, Type: store.EventReplyDrafted, By: pl.sender,
			Text: "a reply was written and waits for approval (RFC 4052)"}); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("your reply to %s is %s: %s", orig.Ref(), st.Ref(), what), nil
}

// transmit sends an outgoing statement to the SDO (DESIGN 4): the event
// causes the mails; the statement becomes open (current) from pending. A
// response marks its original answered: the action is taken (RFC 4053
// Appendix B), so the original's reminders stop.
func (p *Processor) transmit(ctx context.Context, tx *store.Tx, st *store.Statement, msgID int64, by string) error {
	if st.State != store.StateOpen {
		if err := tx.SetState(st.ID, store.StateOpen, tx.Now()); err != nil {
			return err
		}
		st.State = store.StateOpen
	}
	var names []string
	for _, b := range st.To {
		names = append(names, b.Name)
	}
	ev := &store.Event{StatementID: st.ID, MessageID: msgID, At: tx.Now(), Type: store.EventTransmitted, By: by,
		Text: "sent to " + strings.Join(names, ", ")}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	for _, r := range st.Related {
		if r.Relation != store.RelRepliesTo {
			continue
		}
		if err := tx.SetReplied(r.Ref, tx.Now()); err != nil {
			return err
		}
		if err := tx.InsertEvent(&store.Event{StatementID: r.Ref, MessageID: msgID, At: tx.Now(), Type: store.EventReplied, By: st.Submitter,
			Text: fmt.Sprintf("answered by %s", st.Ref())}); err != nil {
			return err
		}
	}
	return nil
}

// afterConfirm moves a confirmed outgoing statement on: to its approvers,
// or straight to the SDO when its submitter needs nobody's approval. It
// says which, for the submitter's confirmation.
func (p *Processor) afterConfirm(ctx context.Context, tx *store.Tx, st *store.Statement, msgID int64, by string) (string, error) {
	dir := p.Directory()
	appr := dir.Approvers(dir.Body(st.From.ID))
	needs := len(appr) > 0
	for _, a := range appr {
		if strings.EqualFold(a.Addr, st.Submitter) {
			needs = false
		}
	}
	if !needs {
		return fmt.Sprintf("sent to %s", bodyNames(st.To)), p.transmit(ctx, tx, st, msgID, by)
	}
	var addrs []string
	for _, a := range appr {
		addrs = append(addrs, a.Addr)
	}
	ev := &store.Event{StatementID: st.ID, MessageID: msgID, At: tx.Now(), Type: store.EventApprovalRequested, By: "liaisond",
		Text: "waiting for approval by " + strings.Join(addrs, " or ")}
	if err := tx.InsertEvent(ev); err != nil {
		return "", err
	}
	return "it waits for the approval of " + strings.Join(addrs, " or ") + " (RFC 4052), who were asked by mail", nil
}

func bodyNames(refs []store.BodyRef) string {
	var names []string
	for _, r := range refs {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

func firstBodyID(refs []store.BodyRef) string {
	for _, r := range refs {
		if r.ID != "" {
			return r.ID
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// clip shortens s to at most n bytes on a rune boundary.
