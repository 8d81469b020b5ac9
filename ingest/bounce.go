package ingest

import (
	"errors"
	"fmt"
	"strings"

	"liaisond/ingest/parse"
	"liaisond/store"
)

// bounce records a DSN on the history of the statement whose mail it
// returns (DESIGN 5.4). A bounce is never answered.
func (p *Processor) bounce(tx *store.Tx, msg *store.Message, parsed *parse.Message, res *Result) error {
	res.Class = ClassBounce
	d := parse.ParseDSN(msg.Raw, p.Config.Domain, parsed.MessageID)
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
		if err := tx.InsertEvent(&store.Event{StatementID: m.StatementID, MessageID: msg.ID, At: tx.Now(), Type: store.EventBounced,
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
