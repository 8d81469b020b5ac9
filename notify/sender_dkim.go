package notify

import (
	"context"
	"fmt"

	"liaisond/store"
)

// attempt makes one attempt at m: signed (signForSending), then handed to
// the transport.
func (s *Sender) attempt(ctx context.Context, m *store.OutboxMail) error {
	out, err := s.signForSending(m)
	if err != nil {
		return err
	}
	return s.Transport.Send(ctx, out)
}

// signForSending returns m as it is handed to the transport: DKIM-signed
// (RFC 6376) with the signer the keyring holds at this moment, so that a
// key reloaded on SIGHUP also signs the mails still queued. Every attempt
// signs anew, in this one place that every transport's mail goes through;
// the outbox keeps the unsigned bytes (stored once for the copies of one
// mail), and m itself is left as it was read.
//
// A mail that cannot be signed is not sent unsigned: the failure is
// temporary, like the installation's other trouble (a key being replaced,
// a signer that failed), so the mail is retried with backoff, its key
// fixable by SIGHUP, and given up after GiveUpAfter with the secretariat
// told, as any mail that keeps failing.
func (s *Sender) signForSending(m *store.OutboxMail) (*store.OutboxMail, error) {
	if s.DKIM == nil {
		return m, nil
	}
	signer := s.DKIM.Current()
	if signer == nil {
		return m, nil
	}
	raw, err := signer.Sign(m.Raw)
	if err != nil {
		s.Log.Error("outbox: a mail could not be DKIM-signed; it is not sent unsigned",
			"outbox", m.ID, "kind", m.Kind, "rcpt", m.Rcpt, "statement", m.StatementID,
			"domain", signer.Domain, "selector", signer.Selector, "err", err)
		return nil, &DeliveryError{Temporary: true, Err: fmt.Errorf("selector %s: %w", signer.Selector, err)}
	}
	signed := *m
	signed.Raw = raw
	return &signed, nil
}
