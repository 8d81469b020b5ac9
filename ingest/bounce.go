package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"liaisond/store"
)

// DSN is what a delivery status notification (RFC 3464) says about a mail
// we sent.
type DSN struct {
	MessageIDs []string // of our mails it returns (header Message-ID in the returned part)
	Recipient  string   // Final-Recipient (or Original-Recipient) address
	Action     string   // failed, delayed, delivered, relayed, expanded
	Status     string   // e.g. 5.1.1
	Diagnostic string
}

var messageIDLine = regexp.MustCompile(`(?im)^message-id:[ \t]*<([^<>\s]{1,250})>`)

// ParseDSN reads the per-recipient fields of a DSN and the Message-IDs of
// the returned message at our domain. It scans lines rather than MIME
// structure so that a broken report still yields what it can.
func ParseDSN(raw []byte, ownDomain, topMessageID string) DSN {
	var d DSN
	suffix := "@" + strings.ToLower(ownDomain)
	seen := map[string]bool{}
	for _, m := range messageIDLine.FindAllSubmatch(raw, 20) {
		id := string(m[1])
		if strings.HasSuffix(strings.ToLower(id), suffix) && id != topMessageID && !seen[id] {
			seen[id] = true
			d.MessageIDs = append(d.MessageIDs, id)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "final-recipient", "original-recipient":
			if _, addr, ok := strings.Cut(value, ";"); ok && (d.Recipient == "" || strings.EqualFold(name, "final-recipient")) {
				d.Recipient = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
			}
		case "action":
			if d.Action == "" {
				d.Action = strings.ToLower(value)
			}
		case "status":
			if d.Status == "" && len(value) <= 16 {
				d.Status = value
			}
		case "diagnostic-code":
			if d.Diagnostic == "" {
				d.Diagnostic = clip(value, 300)
			}
		}
	}
	return d
}

// bounce records a DSN on the history of the statement whose mail it
// returns (DESIGN 5.4). A bounce is never answered.
func (p *Processor) bounce(tx *store.Tx, msg *store.Message, parsed *Message, res *Result) error {
	res.Class = ClassBounce
	d := ParseDSN(msg.Raw, p.Config.Domain, parsed.MessageID)
	matched := 0
	for _, id := range d.MessageIDs {
		m, err := tx.OutboxByMessageID(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		matched++
		what := fmt.Sprintf("%s mail to %s", m.Kind, firstNonEmpty(d.Recipient, m.Rcpt))
		if d.Action == "delayed" || d.Action == "delivered" || d.Action == "relayed" || d.Action == "expanded" {
			what += " " + d.Action
		} else {
			what += " bounced"
			if err := tx.MarkBounced(m.ID, strings.TrimSpace(d.Status+" "+d.Diagnostic)); err != nil {
				return err
			}
		}
		if d.Status != "" {
			what += " (" + d.Status + ")"
		}
		if d.Diagnostic != "" {
			what += ": " + d.Diagnostic
		}
		if err := tx.InsertEvent(&store.Event{StatementID: m.StatementID, MessageID: msg.ID, At: p.Now(), Type: store.EventBounced,
			By: firstNonEmpty(d.Recipient, m.Rcpt), Text: what}); err != nil {
			return err
		}
	}
	res.State = store.MessageIgnored
	why := "delivery status notification; not about a mail of ours"
	if matched > 0 {
		res.State = store.MessageProcessed
		why = ""
	}
	return tx.SetMessageState(msg.ID, ClassBounce, res.State, why)
}
