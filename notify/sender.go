package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"liaisond/store"
)

// Transport delivers one outbox mail to its one envelope recipient.
// It returns nil on acceptance, a *DeliveryError otherwise.
type Transport interface {
	Send(ctx context.Context, m *store.OutboxMail) error
	// Idle is called when a burst is over: a transport may close connections it kept.
	Idle()
}

// DeliveryError is a failed delivery; Temporary ones are retried
// (SMTP 4xx, network trouble), permanent ones recorded (SMTP 5xx).
type DeliveryError struct {
	Temporary bool
	Code      int // SMTP reply code, 0 when none
	Err       error
}

func (e *DeliveryError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("%s failure: %v", kind, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Sender delivers the outbox: due mails in order, retrying temporary
// failures with capped exponential backoff and jitter, recording permanent
// failures on the statement's history.
type Sender struct {
	Store     *store.Store
	Transport Transport
	Log       *slog.Logger
	Now       func() time.Time
	// Wake, when signalled, starts a pass at once (new mail was queued).
	Wake chan struct{}
	// RetryMin and RetryMax bound the backoff between attempts.
	RetryMin, RetryMax time.Duration
	// GiveUpAfter is the age after which a mail still failing temporarily is
	// failed permanently.
	GiveUpAfter time.Duration
	// Batch is how many due mails one pass takes at most (and records in
	// one transaction).
	Batch int
}

func (s *Sender) defaults() {
	if s.RetryMin == 0 {
		s.RetryMin = time.Minute
	}
	if s.RetryMax == 0 {
		s.RetryMax = 2 * time.Hour
	}
	if s.GiveUpAfter == 0 {
		s.GiveUpAfter = 5 * 24 * time.Hour
	}
	if s.Batch == 0 {
		s.Batch = 50
	}
}

// Run delivers until ctx is cancelled. Mails left "sending" by a crash are
// queued again first.
func (s *Sender) Run(ctx context.Context) error {
	s.defaults()
	if err := s.Store.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.RequeueSending(s.Now())
		if n > 0 {
			s.Log.Warn("outbox: mails interrupted by the last stop are queued again; their recipients may get them twice", "count", n)
		}
		return err
	}); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for {
		if _, err := s.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Log.Error("outbox pass failed; retrying", "err", err)
		}
		wait := time.Minute
		var next time.Time
		var queued bool
		s.Store.View(ctx, func(tx *store.Tx) error {
			var err error
			next, queued, err = tx.NextOutboxAttempt()
			return err
		})
		if queued {
			wait = min(wait, max(next.Sub(s.Now()), 10*time.Millisecond))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.Transport.Idle()
			return nil
		case <-s.Wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Flush makes passes until no queued mail is due, and returns how many mails
// were delivered.
func (s *Sender) Flush(ctx context.Context) (int, error) {
	s.defaults()
	defer s.Transport.Idle()
	sent := 0
	for {
		var due []*store.OutboxMail
		err := s.Store.View(ctx, func(tx *store.Tx) error {
			var err error
			due, err = tx.DueOutbox(s.Now(), s.Batch)
			return err
		})
		if err != nil || len(due) == 0 {
			return sent, err
		}
		n, err := s.deliverBatch(ctx, due)
		sent += n
		if err != nil {
			return sent, err
		}
	}
}

// deliverBatch makes one attempt for each mail. The attempts are recorded
// before the mails go out, so that a crash in between is visible (and the
// mails queued again) on restart; the outcomes are recorded together after,
// one transaction for the batch rather than two per mail.
func (s *Sender) deliverBatch(ctx context.Context, batch []*store.OutboxMail) (int, error) {
	now := s.Now()
	if err := s.Store.Update(ctx, func(tx *store.Tx) error {
		for _, m := range batch {
			if err := tx.MarkSending(m.ID, now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	outcomes := make([]error, len(batch))
	tried := 0
	for i, m := range batch {
		if ctx.Err() != nil {
			break
		}
		outcomes[i] = s.Transport.Send(ctx, m)
		tried++
	}
	// Record the outcomes even when ctx is being cancelled: the mails went
	// out or not, and a shutdown must not forget which.
	sent := 0
	err := s.Store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		sent = 0
		for i, m := range batch {
			if i >= tried {
				if err := tx.MarkRetry(m.ID, now, "not attempted: the daemon was stopping"); err != nil {
					return err
				}
				continue
			}
			ok, err := s.record(tx, m, outcomes[i])
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		return nil
	})
	return sent, err
}

// record writes the outcome of one attempt.
func (s *Sender) record(tx *store.Tx, m *store.OutboxMail, sendErr error) (bool, error) {
	log := s.Log.With("outbox", m.ID, "kind", m.Kind, "rcpt", m.Rcpt, "statement", m.StatementID, "attempt", m.Attempts+1)
	if sendErr == nil {
		log.Info("mail delivered")
		return true, tx.MarkSent(m.ID, s.Now())
	}
	var de *DeliveryError
	if !errors.As(sendErr, &de) {
		de = &DeliveryError{Temporary: true, Err: sendErr}
	}
	age := s.Now().Sub(m.CreatedAt)
	if de.Temporary && age < s.GiveUpAfter {
		next := s.Now().Add(s.backoff(m.Attempts + 1))
		log.Warn("delivery failed; will retry", "retry_at", next.Format(time.RFC3339), "err", sendErr)
		return false, tx.MarkRetry(m.ID, next, sendErr.Error())
	}
	reason := sendErr.Error()
	if de.Temporary {
		reason = fmt.Sprintf("gave up after %s: %s", age.Round(time.Minute), reason)
	}
	log.Error("delivery failed permanently", "err", reason)
	if err := tx.MarkFailed(m.ID, reason); err != nil {
		return false, err
	}
	if m.StatementID == 0 {
		return false, nil
	}
	data, _ := json.Marshal(map[string]any{"outbox": m.ID, "rcpt": m.Rcpt, "kind": m.Kind})
	return false, tx.InsertEvent(&store.Event{StatementID: m.StatementID, At: s.Now(), Type: store.EventDeliveryFailed,
		By: "liaisond", Text: fmt.Sprintf("%s to %s could not be delivered: %s", m.Kind, m.Rcpt, reason), Data: data})
}

// backoff is RetryMin doubled per attempt, capped at RetryMax, with ±20%
// jitter so that a backlog does not retry in lockstep.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.RetryMin
	for i := 1; i < attempt && d < s.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.RetryMax)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) * 2
	return d - d/5 + jitter
}
