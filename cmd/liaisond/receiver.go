package main

import (
	"context"
	"sync/atomic"

	"liaisond/ingest"
	"liaisond/receive"
)

// wakingReceiver is the processor as the SMTP and LMTP listeners and the
// IMAP poller see it: the processor says in Result.Queued that a commit
// queued mail, and this caller wakes the outbox sender (DESIGN 10: ingest
// never touches the sending side).
type wakingReceiver struct {
	*ingest.Processor
	wake func()
	// busy counts the messages being processed: the outbox sender waits
	// for it to drop to zero (notify.Sender.Busy).
	busy *atomic.Int64
}

var _ receive.IMAPReceiver = wakingReceiver{}

func (r wakingReceiver) Receive(ctx context.Context, env receive.Envelope, raw []byte) (receive.Result, error) {
	if r.busy != nil {
		r.busy.Add(1)
		defer r.busy.Add(-1)
	}
	res, err := r.Processor.Receive(ctx, env, raw)
	if err == nil && res.Queued {
		r.wake()
	}
	return res, err
}

func (r wakingReceiver) RecordOversize(ctx context.Context, env receive.Envelope, header []byte, size, limit int64, where string) (receive.Result, error) {
	res, err := r.Processor.RecordOversize(ctx, env, header, size, limit, where)
	if err == nil && res.Queued {
		r.wake()
	}
	return res, err
}
