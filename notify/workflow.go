package notify

import (
	"fmt"
	"slices"
	"strings"

	"liaisond/directory"
	"liaisond/store"
)

// Kinds of the workflow mails of this file (outbox rows, DESIGN 9).
const (
	KindDone       = "done"       // a command's confirmation to whoever gave it (an answer: limited per address)
	KindReassigned = "reassigned" // a reassign told to the new and old assignee and the liaison manager
)

// responsibleBodies are the IETF bodies whose chairs, ADs and supervisors
// follow a statement: the addressed ones, unless the statement was
// reassigned to someone who leads none of them but leads another body;
// then that body's (DESIGN 5: recipients follow the current assignee).
func responsibleBodies(dir *directory.Directory, st *store.Statement) []*directory.Body {
	var addressed []*directory.Body
	for _, ref := range st.To {
		if b := dir.Body(ref.ID); b != nil && b.IsIETF() {
			addressed = append(addressed, b)
		}
	}
	led := dir.LeadsBodies(st.Assignee)
	if len(led) == 0 {
		return addressed
	}
	for _, b := range addressed {
		if slices.Contains(led, b) {
			return addressed
		}
	}
	return led
}

// setRole says in d what its reader may do on st (DESIGN 5: every copy is
// personal): the assignee is told it is theirs to act on, a chair, AD,
// liaison manager or the secretariat what they may do, and anyone else
// (an SDO's technical contact) is offered no command.
func (c *Composer) setRole(d *mailData, st *store.Statement, r recipient) {
	if r.list {
		d.Role = "list"
		return
	}
	dir := c.Directory()
	ietf, sdo := st.Sides()
	pw := dir.PowersOf(r.addr, st.Assignee, ietf, sdo)
	d.MayRedirect = pw.Redirect
	switch {
	case pw.Assignee:
		d.Role = "assignee"
	case pw.Act:
		d.Role = "actor"
		d.RoleText = roleText(dir, st, r.addr, pw)
	default:
		d.Role = "none"
	}
}

// roleText names why someone may act: "a chair of IETF CCAMP Working Group".
func roleText(dir *directory.Directory, st *store.Statement, addr string, pw directory.Powers) string {
	is := func(ps []directory.Person) bool {
		return slices.ContainsFunc(ps, func(p directory.Person) bool { return strings.EqualFold(p.Addr, addr) })
	}
	if pw.Manager {
		_, sdo := st.Sides()
		for _, id := range sdo {
			if b := dir.Body(id); b != nil && is(b.LiaisonManagers) {
				return "the IETF's liaison manager for " + b.Name
			}
		}
	}
	if pw.Secretariat {
		return "the secretariat"
	}
	for _, b := range responsibleBodies(dir, st) {
		switch {
		case is(b.Chairs):
			return "a chair of " + b.Name
		case is(b.ADs):
			return "an AD of " + b.Name
		case is(dir.Supervisors(b)):
			return "a supervisor of " + b.Name
		}
	}
	return "one of the people responsible for it"
}

// withoutActor drops the actor from a recipient list (they get their own
// confirmation) and keeps at least one address in To.
func withoutActor(to, cc []recipient, actor string) ([]recipient, []recipient) {
	to, cc = without(to, actor), without(cc, actor)
	if len(to) == 0 && len(cc) > 0 {
		to, cc = cc[:1], cc[1:]
	}
	return to, cc
}

// managers adds the liaison managers of a statement's SDO side.
func managers(dir *directory.Directory, st *store.Statement, rs *recipients) {
	_, sdo := st.Sides()
	for _, id := range sdo {
		if b := dir.Body(id); b != nil {
			rs.people(b.LiaisonManagers)
		}
	}
}

// composeWorkflow queues the mails of a done command (DESIGN 6): the
// confirmation to whoever gave it, and for close, reassign and redirect
// the word to the assignee and the liaison manager; a redirect notifies
// the new body as a new statement would.
func (c *Composer) composeWorkflow(tx *store.Tx, ev *store.Event) error {
	if ev.Type == store.EventDone {
		a, err := store.DecodeData[store.DoneData](ev)
		if err != nil {
			return err
		}
		if a.To == "" {
			return nil
		}
		return c.done(tx, ev, a)
	}
	st, err := tx.Statement(ev.StatementID)
	if err != nil {
		return err
	}
	dir := c.Directory()
	ch, err := store.DecodeData[store.ChangeData](ev)
	if err != nil {
		return err
	}
	switch ev.Type {
	case store.EventClosed:
		var rs recipients
		rs.add(nameOf(dir, st.Assignee), st.Assignee, false)
		managers(dir, st, &rs)
		to, cc := withoutActor(rs.list[:1], rs.list[1:], ev.By)
		if len(to) == 0 {
			return nil
		}
		// A notice to the people responsible, not an answer: never rate-limited.
		why, err := store.DecodeData[store.ReasonData](ev)
		if err != nil {
			return err
		}
		return c.personalCopiesWith(tx, "notification", "closed.txt", st, ev, to, cc, false, func(m *mailData) {
			m.Actor, m.Reason = ev.By, why.Reason
		})
	case store.EventReassigned:
		var rs recipients
		rs.add(nameOf(dir, ch.New), ch.New, false)
		rs.add(nameOf(dir, ch.Old), ch.Old, false)
		managers(dir, st, &rs)
		to, cc := withoutActor(rs.list[:1], rs.list[1:], ev.By)
		if len(to) == 0 {
			return nil
		}
		return c.personalCopiesWith(tx, KindReassigned, "reassigned.txt", st, ev, to, cc, false, func(m *mailData) {
			m.Actor, m.Old, m.New = ch.By, ch.Old, ch.New
		})
	case store.EventRedirected:
		// The new body hears of it as of a new statement; the old
		// assignee learns where it went.
		to, cc := NotificationRecipients(dir, st, true)
		var rs recipients
		rs.list, rs.seen = slices.Clone(cc), map[string]bool{}
		for _, r := range append(to, cc...) {
			rs.seen[r.addr] = true
		}
		rs.add(nameOf(dir, ch.Old), ch.Old, false)
		to, cc = withoutActor(to, rs.list, ev.By)
		var old []string
		for _, b := range ch.OldTo {
			old = append(old, b.Name)
		}
		return c.personalCopiesWith(tx, "notification", "redirected.txt", st, ev, to, cc, false, func(m *mailData) {
			m.Actor, m.Old, m.New = ch.By, strings.Join(old, ", "), ch.New
		})
	}
	return nil
}

// done confirms a command mail to its sender: what changed, and the page.
func (c *Composer) done(tx *store.Tx, ev *store.Event, a store.DoneData) error {
	title := a.Subject
	if title == "" {
		title = "(no subject)"
	}
	d := mailData{Title: title, Done: a.Done, To: a.Rcpt, Sender: c.sender(), Recipient: strings.ToLower(a.To)}
	var stID int64
	replyTo := c.Config.CommandsLocal + "@" + c.Config.Domain
	for _, id := range a.Statements {
		d.URLs = append(d.URLs, c.statementURL(id))
	}
	if len(a.Statements) == 1 {
		stID = a.Statements[0]
		d.Ref = fmt.Sprintf("LS-%d", stID)
		replyTo = c.Keys.Address(c.Config.TokenPrefix, c.Config.Domain, stID, d.Recipient)
	}
	subject, body, err := c.Templates.Mail("done.txt", d)
	if err != nil {
		return err
	}
	r := recipient{addr: d.Recipient}
	if over, err := c.overAnswerRate(tx, r.addr); err != nil || over {
		return err // its share of answers this hour is used up (DESIGN 7)
	}
	var refs []string
	if a.MessageID != "" {
		refs = []string{a.MessageID}
	}
	return c.queue(tx, stID, ev.ID, outgoing{kind: KindDone, rcpt: r.addr, to: []recipient{r}, replyTo: replyTo, subject: subject, body: body,
		inReplyTo: a.MessageID, references: refs, answer: true})
}

// original returns, for a response, what its approvers must see of the
// statement it answers (RFC 4053 3.2.2.4); nil for other statements.
func (c *Composer) original(tx *store.Tx, st *store.Statement) (*mailData, error) {
	for _, r := range st.Related {
		if r.Relation != store.RelRepliesTo {
			continue
		}
		o, err := tx.Statement(r.Ref)
		if err != nil {
			return nil, err
		}
		d := c.statementData(o)
		return &d, nil
	}
	return nil, nil
}
