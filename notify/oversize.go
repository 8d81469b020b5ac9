package notify

import (
	"fmt"
	"strings"

	"liaisond/store"
)

// oversizeMail is what templates/mail/oversize.txt sees.
type oversizeMail struct {
	Subject, From, MessageID, Size, Limit, Where, MessageRef, Sender string
}

// oversize tells the secretariat once about a mail that was too large to
// take in (the event is written once per message).
func (c *Composer) oversize(tx *store.Tx, ev *store.Event) error {
	data, err := store.DecodeData[store.OversizeData](ev)
	if err != nil {
		return err
	}
	sec := c.Directory().Secretariat
	if sec.Addr == "" {
		return nil
	}
	d := oversizeMail{Subject: data.Subject, From: data.From, MessageID: data.MessageID, Size: humanSize(data.Size),
		Limit: humanSize(data.Limit), Where: data.Where, MessageRef: fmt.Sprintf("message %d", ev.MessageID), Sender: c.Config.From.Name}
	if d.Subject == "" {
		d.Subject = "(no subject)"
	}
	if d.Sender == "" {
		d.Sender = "Liaison Statement Manager"
	}
	subject, body, err := c.Templates.Mail("oversize.txt", d)
	if err != nil {
		return err
	}
	r := recipient{name: sec.Name, addr: strings.ToLower(sec.Addr)}
	return c.queue(tx, 0, ev.ID, outgoing{kind: "error", rcpt: r.addr, to: []recipient{r}, subject: subject, body: body})
}
