package main

import (
	"context"
	"sync/atomic"
	"time"

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
	// activity is what the outbox sender looks at to let receiving go
	// first (notify.Sender.Busy).
	activity *receiving
}

// receiving tells whether mail is being received: a message is being
// processed, or the last one was done a moment ago (quietAfter), as
// between the messages of a client that sends one after the other.
type receiving struct {
	inFlight atomic.Int64
	lastDone atomic.Int64 // unix nanoseconds
}

// quietAfter is how long after the last message receiving counts as busy.
const quietAfter = 20 * time.Millisecond

func (r *receiving) busy() bool {
	return r.inFlight.Load() > 0 || time.Since(time.Unix(0, r.lastDone.Load())) < quietAfter
}

func (r *receiving) begin() { r.inFlight.Add(1) }

func (r *receiving) end() {
	r.lastDone.Store(time.Now().UnixNano())
	r.inFlight.Add(-1)
}

var _ receive.IMAPReceiver = wakingReceiver{}

func (r wakingReceiver) Receive(ctx context.Context, env receive.Envelope, raw []byte) (receive.Result, error) {
	if r.activity != nil {
		r.activity.begin()
		defer r.activity.end()
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
