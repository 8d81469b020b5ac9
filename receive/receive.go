// Package receive takes mail in: the SMTP and LMTP listeners and the IMAP
// poller. Each hands every message to a Receiver (ingest.Processor is the
// real one) and answers its sender only after the Receiver returns: 250, an
// LMTP reply per recipient, an IMAP move, once the message is committed
// (DESIGN 10). It knows nothing of what a message means.
package receive

import (
	"context"
	"errors"
	"net/netip"
)

// ErrPermanent marks a Receive error that a retry will not cure: nothing
// was stored and the sender should give up and bounce (SMTP 554). Any other
// error is taken as temporary (451): when in doubt, the sender keeps the
// message and retries, so nothing is lost.
var ErrPermanent = errors.New("permanent failure")

// Receiver takes a message into the store. A nil error means the message is
// durably stored, whatever became of it; with an error nothing was stored
// and the sender must retry (SMTP 451, the message stays in the mailbox).
type Receiver interface {
	Receive(ctx context.Context, env Envelope, raw []byte) (Result, error)
	// Accepts reports whether rcpt is one of our addresses that takes mail
	// (the RCPT check: others get 550).
	Accepts(rcpt string) bool
}

// Envelope is what the transport knew about a message besides its bytes.
type Envelope struct {
	Source   string   // smtp, lmtp, imap, pipe
	MailFrom string   // envelope sender ("" for the null sender <>)
	Rcpt     []string // envelope recipients
	// Known is false when the transport had no envelope (a pipe without
	// arguments): then an empty MailFrom means nothing.
	Known bool
	// Peer is the address of the SMTP client; none for pipe, LMTP and
	// IMAP, where the local MTA delivered (DESIGN 7).
	Peer netip.Addr
}

// Result says what became of a received message.
type Result struct {
	MessageID int64 // stored message id
	Duplicate bool  // an identical message was stored before; nothing changed
	Class     string
	State     string // the stored message's state
	Statement int64  // the statement it created, if any
	Problems  []string
	// Queued: its commit queued outgoing mail; the caller wakes the
	// outbox sender (the processor never does: DESIGN 10).
	Queued bool
}
