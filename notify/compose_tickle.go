package notify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"liaisond/store"
)

// Kinds of the mails this file composes (outbox rows, DESIGN 9).
const (
	KindTickler       = "tickler"
	KindDigest        = "digest"        // the daily list of overdue statements for a liaison manager
	KindUndeliverable = "undeliverable" // tells the secretariat a mail could not be delivered
)

// reminderInfo is what tickler.txt knows beyond the statement.
type reminderInfo struct {
	When       string // "in 7 days", "tomorrow", "today", "yesterday", "12 days ago"
	Overdue    bool
	NoDeadline bool
	OpenDays   int
	Asked      string
}

var askedText = map[string]string{
	"action":      "the sender asks the IETF to act on it and to reply",
	"comment":     "the sender asks for the IETF's comments",
	"response":    "it answers an earlier statement of the IETF; close it once it needs nothing more",
	"information": "it is for information; close it once it has been considered",
}

// Tickler queues the reminder for st at due point p (DESIGN 5): a personal
// copy to the assignee and to everyone the notification copied, less the
// alias. It returns the To and Cc addresses.
func (c *Composer) Tickler(ctx context.Context, tx *store.Tx, st *store.Statement, ev *store.Event, p DuePoint, now time.Time) (to, cc []string, err error) {
	if strings.TrimSpace(st.Assignee) == "" {
		return nil, nil, nil // nobody to remind (the pipeline always assigns someone)
	}
	rto, rcc := NotificationRecipients(c.Directory(), st, false)
	info := reminderInfo{NoDeadline: p.NoDeadline, Asked: askedText[st.Purpose]}
	if p.NoDeadline {
		info.OpenDays = int(now.Sub(st.ReceivedAt) / day)
	} else if dl, perr := time.Parse("2006-01-02", st.Deadline); perr == nil {
		days := int(dl.Sub(now.UTC().Truncate(day)) / day)
		info.Overdue = days < 0
		info.When = relativeDays(days)
	}
	err = c.personalCopiesWith(tx, KindTickler, "tickler.txt", st, ev, rto, rcc, false, func(d *mailData) {
		d.Reminder = info
	})
	return bareAddrs(rto), bareAddrs(rcc), err
}

func relativeDays(days int) string {
	switch {
	case days > 1:
		return fmt.Sprintf("in %d days", days)
	case days == 1:
		return "tomorrow"
	case days == 0:
		return "today"
	case days == -1:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", -days)
}

// digestLine is one overdue statement in digest.txt.
type digestLine struct {
	Ref, Title, Deadline, Overdue, Assignee, FromName, URL string
	Answered                                               string // "2026-12-01": answered by a reply, not closed yet
}

// Digests queues, once per liaison manager and day, the list of overdue
// statements from the SDOs each manages. It returns the recipients.
func (c *Composer) Digests(tx *store.Tx, today string, now time.Time) ([]string, error) {
	overdue, err := tx.OverdueStatements(today)
	if err != nil || len(overdue) == 0 {
		return nil, err
	}
	dir := c.Directory()
	byManager := map[string][]*store.Statement{}
	names := map[string]string{}
	for _, st := range overdue {
		b := dir.Body(st.From.ID)
		if b == nil {
			continue
		}
		for _, lm := range b.LiaisonManagers {
			addr := strings.ToLower(lm.Addr)
			byManager[addr] = append(byManager[addr], st)
			names[addr] = lm.Name
		}
	}
	managers := make([]string, 0, len(byManager))
	for addr := range byManager {
		managers = append(managers, addr)
	}
	sort.Strings(managers)
	todayT, _ := time.Parse("2006-01-02", today)
	var sent []string
	for _, addr := range managers {
		// Statements answered by a reply are the action taken: they are
		// listed as answered, and alone they make no digest.
		if !slices.ContainsFunc(byManager[addr], func(st *store.Statement) bool { return st.RepliedAt == nil }) {
			continue
		}
		fresh, err := tx.ClaimDigest(addr, today, now)
		if err != nil {
			return sent, err
		}
		if !fresh {
			continue
		}
		d := mailData{Sender: c.sender(), Recipient: addr, Title: today}
		for _, st := range byManager[addr] {
			dl, _ := time.Parse("2006-01-02", st.Deadline)
			line := digestLine{Ref: st.Ref(), Title: st.Title, Deadline: st.Deadline, FromName: st.From.Name,
				Overdue: fmt.Sprintf("%d days", int(todayT.Sub(dl)/day)), Assignee: st.Assignee, URL: c.statementURL(st.ID)}
			if st.RepliedAt != nil {
				line.Answered = st.RepliedAt.UTC().Format("2006-01-02")
			}
			d.Digest = append(d.Digest, line)
		}
		subject, body, err := c.Templates.Mail("digest.txt", d)
		if err != nil {
			return sent, err
		}
		r := recipient{name: names[addr], addr: addr}
		if err := c.queue(tx, 0, 0, outgoing{kind: KindDigest, rcpt: addr, to: []recipient{r}, subject: subject, body: body}); err != nil {
			return sent, err
		}
		sent = append(sent, addr)
	}
	return sent, nil
}

// Failure is one mail that could not be delivered, for Undeliverable.
type Failure struct {
	Kind, Rcpt, Reason string
}

// Undeliverable tells the secretariat, in one mail, that mails of st could
// not be delivered. ev is the delivery-failed event it answers.
func (c *Composer) Undeliverable(tx *store.Tx, st *store.Statement, ev *store.Event, failures []Failure) error {
	dir := c.Directory()
	sec := recipient{name: dir.Secretariat.Name, addr: strings.ToLower(dir.Secretariat.Addr)}
	if sec.addr == "" {
		return nil
	}
	var lines []string
	for _, f := range failures {
		lines = append(lines, fmt.Sprintf("%s to %s: %s", f.Kind, f.Rcpt, f.Reason))
	}
	return c.personalCopiesWith(tx, KindUndeliverable, "undeliverable.txt", st, ev, []recipient{sec}, nil, false, func(d *mailData) {
		d.Failures = lines
	})
}

func (c *Composer) sender() string {
	if c.Config.From.Name == "" {
		return "Liaison Statement Manager"
	}
	return c.Config.From.Name
}
