package notify

import (
	"fmt"
	"strings"

	"liaisond/directory"
	"liaisond/store"
)

// HelpText is the command list sent in help and error answers; the ingest
// package parses these same commands.
const HelpText = `  reply              the rest of your mail becomes the IETF's response
  close [reason]     the statement needs nothing more; it moves to the archive
  reopen [reason]    back to open
  reassign ADDR|BODY hand it to someone else (a body id means its first chair or AD)
  redirect BODY      a misdirected statement goes to another IETF body
  deadline DATE      change the deadline, e.g. "deadline 2027-03-01"
  status TEXT        record what is being done (shown on the page)
  note TEXT          add a comment to the history
  approve            approve a pending outgoing statement
  reject REASON      turn down a pending outgoing statement
  confirm            confirm an outgoing statement you submitted
  link LS-17         this statement answers LS-17, which its In Response named
                     in words (liaison manager and secretariat)
  help               this list`

// composeCommand queues the mails of command and workflow events (DESIGN 4, 6).
func (c *Composer) composeCommand(tx *store.Tx, ev *store.Event) error {
	switch ev.Type {
	case store.EventDone, store.EventClosed, store.EventReassigned, store.EventRedirected:
		return c.composeWorkflow(tx, ev)
	case store.EventCommandRefused, store.EventHelp:
		a, err := store.DecodeData[store.AnswerData](ev)
		if err != nil {
			return err
		}
		if a.To == "" {
			return nil
		}
		return c.answer(tx, ev, a)
	case store.EventHeld:
		d, err := store.DecodeData[store.HeldData](ev)
		if err != nil {
			return err
		}
		if !d.Tell {
			return nil
		}
	case store.EventTransmitted, store.EventConfirmationRequested,
		store.EventApprovalRequested, store.EventApprovalRejected:
	default:
		return nil
	}
	st, err := tx.Statement(ev.StatementID)
	if err != nil {
		return err
	}
	dir := c.Directory()
	switch ev.Type {
	case store.EventHeld:
		sec := recipient{name: dir.Secretariat.Name, addr: dir.Secretariat.Addr}
		return c.personalCopiesWith(tx, "held", "held.txt", st, ev, []recipient{sec}, nil, false, nil)
	case store.EventTransmitted:
		return c.transmission(tx, dir, st, ev)
	case store.EventConfirmationRequested:
		r := recipient{addr: st.Submitter}
		return c.personalCopiesWith(tx, "confirm", "confirm.txt", st, ev, []recipient{r}, nil, true, nil)
	case store.EventApprovalRequested:
		var rs recipients
		for _, p := range dir.Approvers(dir.Body(st.From.ID)) {
			rs.add(p.Name, p.Addr, false)
		}
		if len(rs.list) == 0 {
			return nil
		}
		n := len(rs.list)
		rs.add("", st.Submitter, false)
		var names []string
		for _, r := range rs.list[:n] {
			names = append(names, r.addr)
		}
		orig, err := c.original(tx, st)
		if err != nil {
			return err
		}
		return c.personalCopiesWith(tx, "approval", "approval.txt", st, ev, rs.list[:n], rs.list[n:], false, func(m *mailData) {
			m.Approvers = names
			m.Original = orig
		})
	case store.EventApprovalRejected:
		d, err := store.DecodeData[store.ReasonData](ev)
		if err != nil {
			return err
		}
		r := recipient{addr: st.Submitter}
		return c.personalCopiesWith(tx, "approval", "approval-rejected.txt", st, ev, []recipient{r}, nil, false, func(m *mailData) {
			m.Actor, m.Reason = ev.By, d.Reason
		})
	}
	return nil
}

// transmission sends an outgoing statement to the SDO: a response to the
// original's response contacts, any other to the SDO's contacts; copied
// are the SDO's liaison managers, the submitter, the sending body's
// leaders and list, and the secretariat (RFC 4053 3.2).
func (c *Composer) transmission(tx *store.Tx, dir *directory.Directory, st *store.Statement, ev *store.Event) error {
	var to, cc recipients
	kind := "outgoing"
	var orig *store.Statement
	for _, r := range st.Related {
		if r.Relation == store.RelRepliesTo {
			o, err := tx.Statement(r.Ref)
			if err != nil {
				return err
			}
			orig = o
		}
	}
	if orig != nil {
		kind = "response"
		to.contacts(orig.ResponseContacts)
		if len(to.list) > 0 {
			to.list[0].contact = false // the one it answers is always sent it
		}
	}
	for _, ref := range st.To {
		if b := dir.Body(ref.ID); b != nil {
			if orig == nil {
				to.people(b.Contacts)
			}
		}
	}
	if len(to.list) == 0 {
		return fmt.Errorf("%s: nobody to send it to (no response contact, no SDO contact)", st.Ref())
	}
	cc.seen = map[string]bool{}
	for a := range to.seen {
		cc.seen[a] = true
	}
	for _, ref := range st.To {
		if b := dir.Body(ref.ID); b != nil {
			cc.people(b.LiaisonManagers)
		}
	}
	cc.add("", st.Submitter, false)
	if orig != nil {
		cc.contacts(orig.TechnicalContacts)
	}
	if from := dir.Body(st.From.ID); from != nil {
		cc.people(from.Leaders())
		if from.List != "" {
			cc.add(from.Name+" list", from.List, true)
		}
	}
	cc.add(dir.Secretariat.Name, dir.Secretariat.Addr, false)
	return c.personalCopiesWith(tx, kind, "outgoing.txt", st, ev, to.list, cc.list, false, func(m *mailData) {
		if orig != nil {
			m.InResponseTo = orig.Ref()
			m.Title = st.Title
		}
	})
}

// answer sends an error or help reply to the sender of a command mail.
func (c *Composer) answer(tx *store.Tx, ev *store.Event, a store.AnswerData) error {
	kind, tmpl := "error", "command-error.txt"
	if ev.Type == store.EventHelp {
		kind, tmpl = "help", "help.txt"
	}
	title := a.Subject
	if title == "" {
		title = "(no subject)"
	}
	d := mailData{Title: title, Problems: a.Problems, Done: a.Done, To: a.Rcpt, Sender: c.Config.From.Name, Help: HelpText,
		ReplyAddress: c.Config.CommandsLocal + "@" + c.Config.Domain}
	if d.Sender == "" {
		d.Sender = "Liaison Statement Manager"
	}
	subject, body, err := c.Templates.Mail(tmpl, d)
	if err != nil {
		return err
	}
	r := recipient{addr: strings.ToLower(a.To)}
	if over, err := c.overAnswerRate(tx, r.addr); err != nil || over {
		return err // its share of answers this hour is used up (DESIGN 7)
	}
	var refs []string
	if a.MessageID != "" {
		refs = []string{a.MessageID}
	}
	return c.queue(tx, ev.StatementID, ev.ID, outgoing{kind: kind, rcpt: r.addr, to: []recipient{r}, subject: subject, body: body,
		inReplyTo: a.MessageID, references: refs, answer: true})
}
