package notify

import (
	"fmt"
	"strings"
	"time"

	"liaisond/store"
)

// isAnswerKind reports whether kind is one of store.AnswerKinds.
func isAnswerKind(kind string) bool {
	for _, k := range store.AnswerKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// answerLimit is the per-address hourly limit of answers (0: 5; negative:
// none).
func (c *Composer) answerLimit() int {
	if c.Config.AnswerRatePerHour == 0 {
		return 5
	}
	return c.Config.AnswerRatePerHour
}

// overAnswerRate reports whether addr had its share of answers this hour.
func (c *Composer) overAnswerRate(tx *store.Tx, addr string) (bool, error) {
	limit := c.answerLimit()
	if limit < 0 {
		return false, nil
	}
	n, err := tx.RepliesSince(strings.ToLower(addr), store.AnswerKinds, c.Now().Add(-time.Hour))
	return n >= limit, err
}

// isOwn reports whether addr is one of liaisond's own addresses: mail to
// it would come straight back (DESIGN 5: no mail goes to them).
func (c *Composer) isOwn(addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if !ok || !strings.EqualFold(domain, c.Config.Domain) {
		return false
	}
	if strings.EqualFold(addr, c.Config.From.Address) {
		return true
	}
	for _, own := range []string{c.Config.StatementsLocal, c.Config.CommandsLocal} {
		if own != "" && local == strings.ToLower(own) {
			return true
		}
	}
	return c.Config.TokenPrefix != "" && strings.HasPrefix(local, strings.ToLower(c.Config.TokenPrefix)+"+")
}

// withoutOwn drops liaisond's own addresses from a recipient list.
func (c *Composer) withoutOwn(rs []recipient) []recipient {
	out := rs[:0:0]
	for _, r := range rs {
		if !c.isOwn(r.addr) {
			out = append(out, r)
		}
	}
	return out
}

// maxRecipients is the most copies one mail about a statement may have
// (0: 50).
func (c *Composer) maxRecipients() int {
	if c.Config.MaxRecipients <= 0 {
		return 50
	}
	return c.Config.MaxRecipients
}

// capRecipients keeps a mail within [limits] max_recipients copies
// (DESIGN 5). The people the directory names (assignee, chairs, ADs,
// liaison managers, the alias, the secretariat) always come first; the
// contacts taken from the mail fill what is left, in order, and those
// beyond are returned as dropped: kept on the statement, not mailed.
func capRecipients(to, cc []recipient, max int) (keptTo, keptCc []recipient, dropped []string) {
	roles := 0
	for _, r := range append(append([]recipient{}, to...), cc...) {
		if !r.contact {
			roles++
		}
	}
	room := max - roles
	keep := func(rs []recipient) []recipient {
		out := rs[:0:0]
		for _, r := range rs {
			if r.contact {
				if room <= 0 {
					dropped = append(dropped, r.addr)
					continue
				}
				room--
			}
			out = append(out, r)
		}
		return out
	}
	keptTo, keptCc = keep(to), keep(cc)
	// The directory alone is over the limit: a misconfiguration, but the
	// limit holds all the same.
	if n := len(keptTo) + len(keptCc); n > max {
		if len(keptTo) >= max {
			for _, r := range append(keptTo[max:], keptCc...) {
				dropped = append(dropped, r.addr)
			}
			keptTo, keptCc = keptTo[:max], nil
		} else {
			for _, r := range keptCc[max-len(keptTo):] {
				dropped = append(dropped, r.addr)
			}
			keptCc = keptCc[:max-len(keptTo)]
		}
	}
	return keptTo, keptCc, dropped
}

// droppedWarning is the receipt's line about contacts not mailed.
func droppedWarning(n, max int) string {
	return fmt.Sprintf("%d of the contacts named in the statement were not sent a copy: one statement causes at most %d copies of a mail; they are kept on the statement and shown on its page", n, max)
}

// contactList is the addresses of contacts for a mail's text, at most
// max_recipients of them: a thousand contacts make no thousand-line mail.
func (c *Composer) contactList(cs []store.Contact) []string {
	var out []string
	for i, ct := range cs {
		if i == c.maxRecipients() {
			out = append(out, fmt.Sprintf("and %d more (on the statement's page)", len(cs)-i))
			break
		}
		out = append(out, ct.Addr)
	}
	return out
}
