package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
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
	// Alerts, when set, tells the secretariat once about mail that failed
	// for good (DESIGN 5.4).
	Alerts *Composer
	// DKIM, when set and holding a signer, signs each mail as it goes out
	// (signForSending); the outbox holds mail unsigned.
	DKIM *DKIMKeyring
	// Busy, when set, reports whether mail is being received. The sender
	// then waits before each mail, at most MaxYield in all per batch:
	// whoever sends us mail waits for our 250, while a notification may
	// leave a moment later. Both share the CPU and the single writer
	// (DESIGN 10). nil: never waits.
	Busy func() bool
	// MaxYield bounds the waits for Busy in one batch (0: one second), so
	// that a flood of incoming mail delays notifications but never stops
	// them: at least a batch goes out per MaxYield.
	MaxYield time.Duration
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
	if s.MaxYield == 0 {
		s.MaxYield = time.Second
	}
}

// yield waits while mail is being received (Busy), for no more than what
// is left of budget, and takes the wait from it. It measures the wait on
// the real clock: s.Now may be a test's.
func (s *Sender) yield(ctx context.Context, budget *time.Duration) {
	if s.Busy == nil || *budget <= 0 || !s.Busy() {
		return
	}
	start := time.Now()
	deadline := start.Add(*budget)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.Busy() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	*budget -= time.Since(start)
}

// Run delivers until ctx is cancelled. Mails left "sending" by a crash are
// reconciled first (see Reconcile).
func (s *Sender) Run(ctx context.Context) error {
	s.defaults()
	if err := s.Reconcile(ctx); err != nil {
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

// Reconciler is a transport that can tell whether a mail interrupted by a
// crash was delivered after all (the file transport can; SMTP cannot).
type Reconciler interface {
	Delivered(m *store.OutboxMail) (bool, error)
}

// Reconcile settles the mails a crash left "sending". The sender records
// each mail's acceptance (SMTP 250) in its own committed transaction the
// moment it has it, so a row still "sending" was not accepted as far as the
// database knows: either the crash came before the server's 250, or in the
// instant between the 250 and that commit (or, the commit being
// UpdateNoSync's, a power failure came before it reached the disk). A transport that can look
// (Reconciler) decides; otherwise the mail is queued again, byte for byte
// (its DKIM signature made anew when it goes), with the same Message-ID,
// so that a receiver that saw it can recognise the copy.
func (s *Sender) Reconcile(ctx context.Context) error {
	var found, requeued int
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		found, requeued = 0, 0
		rows, err := tx.SendingOutbox()
		if err != nil {
			return err
		}
		rec, _ := s.Transport.(Reconciler)
		for _, m := range rows {
			if rec != nil {
				ok, err := rec.Delivered(m)
				if err != nil {
					s.Log.Warn("outbox: cannot tell whether an interrupted mail was delivered; sending it again", "outbox", m.ID, "err", err)
				}
				if ok {
					found++
					if err := tx.MarkSent(m.ID, s.Now()); err != nil {
						return err
					}
					continue
				}
			}
			requeued++
			if err := tx.MarkRetry(m.ID, s.Now(), "interrupted: the daemon stopped during delivery; sent again with the same Message-ID"); err != nil {
				return err
			}
		}
		return nil
	})
	if found > 0 {
		s.Log.Info("outbox: mails interrupted by the last stop were delivered; recorded as sent", "count", found)
	}
	if requeued > 0 {
		s.Log.Warn("outbox: mails interrupted by the last stop before their delivery was confirmed are queued again with their Message-ID", "count", requeued)
	}
	return err
}

// Flush makes passes until no queued mail is due, and returns how many mails
// were delivered.
func (s *Sender) Flush(ctx context.Context) (int, error) {
	s.defaults()
	defer s.Transport.Idle()
	sent := 0
	for {
		var due []*store.OutboxMail
		// Without waiting for its fsync (UpdateNoSync): a claim lost to a power failure
		// leaves the mails queued, to be sent then.
		err := s.Store.UpdateNoSync(ctx, func(tx *store.Tx) error {
			var err error
			due, err = tx.ClaimDueOutbox(s.Now(), s.Batch)
			return err
		})
		if err != nil || len(due) == 0 {
			return sent, err
		}
		// Commits are visible before they are on disk (store/walsync.go):
		// nothing goes out before the commits that queued it are, so a
		// power failure cannot take back a statement whose mails were sent.
		if err := s.Store.Sync(); err != nil {
			rerr := s.Store.UpdateNoSync(context.WithoutCancel(ctx), func(tx *store.Tx) error {
				for _, m := range due {
					if err := tx.MarkRetry(m.ID, s.Now(), "not attempted: the database could not be written to disk"); err != nil {
						return err
					}
				}
				return nil
			})
			return sent, errors.Join(fmt.Errorf("outbox: before sending: %w", err), rerr)
		}
		n, err := s.deliverBatch(ctx, due)
		sent += n
		if err != nil {
			return sent, err
		}
	}
}

// deliverBatch makes one attempt for each claimed mail (ClaimDueOutbox
// marked them "sending" before anything went out). Each acceptance is
// committed at once, before the next mail: a crash after it sends that
// mail never again. Failures are recorded together after the batch, in one
// transaction: repeating a failed attempt after a crash delivers nothing
// twice.
func (s *Sender) deliverBatch(ctx context.Context, batch []*store.OutboxMail) (int, error) {
	outcomes := make([]error, len(batch))
	recorded := make([]bool, len(batch))
	tried, sent := 0, 0
	budget := s.MaxYield
	for i, m := range batch {
		s.yield(ctx, &budget)
		if ctx.Err() != nil {
			break
		}
		outcomes[i] = s.attempt(ctx, m)
		tried++
		if outcomes[i] != nil {
			continue
		}
		sent++
		// Record the 250 even when ctx is being cancelled: the mail went out.
		// Committed at once, without waiting for its fsync (UpdateNoSync): it survives a
		// crash of the daemon; only a power failure in the next moments can
		// lose it, and the mail then goes again with its Message-ID.
		err := s.Store.UpdateNoSync(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.MarkSent(m.ID, s.Now()) })
		if err != nil {
			s.Log.Error("outbox: a delivered mail could not be recorded yet; recording it with the batch", "outbox", m.ID, "err", err)
		} else {
			recorded[i] = true
			s.Log.Info("mail delivered", "outbox", m.ID, "kind", m.Kind, "rcpt", m.Rcpt, "statement", m.StatementID, "attempt", m.Attempts+1, "message_id", m.MessageID)
		}
	}
	if tried == len(batch) && !slices.Contains(recorded, false) {
		return sent, nil
	}
	err := s.Store.UpdateNoSync(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		alerts := map[string]*alert{}
		var causes []string
		for i, m := range batch {
			if recorded[i] {
				continue
			}
			if i >= tried {
				if err := tx.MarkRetry(m.ID, s.Now(), "not attempted: the daemon was stopping"); err != nil {
					return err
				}
				continue
			}
			f, err := s.record(tx, m, outcomes[i])
			if err != nil {
				return err
			}
			if f == nil || m.StatementID == 0 || m.Kind == KindUndeliverable {
				continue // no statement to tell about, or the alert itself: never alert about an alert
			}
			cause := fmt.Sprintf("event:%d", m.EventID)
			if m.EventID == 0 {
				cause = fmt.Sprintf("outbox:%d", m.ID)
			}
			a := alerts[cause]
			if a == nil {
				a = &alert{statementID: m.StatementID, event: f.event}
				alerts[cause] = a
				causes = append(causes, cause)
			}
			a.failures = append(a.failures, f.Failure)
		}
		return s.alert(tx, causes, alerts)
	})
	return sent, err
}

// alert is the one mail to the secretariat about the failures of one cause.
type alert struct {
	statementID int64
	event       *store.Event
	failures    []Failure
}

// alert tells the secretariat once per cause (the event whose mails
// failed), however many of its recipients fail and however often.
func (s *Sender) alert(tx *store.Tx, causes []string, alerts map[string]*alert) error {
	if s.Alerts == nil {
		return nil
	}
	for _, cause := range causes {
		a := alerts[cause]
		fresh, err := tx.ClaimDeliveryAlert(cause, s.Now())
		if err != nil {
			return err
		}
		if !fresh {
			continue
		}
		st, err := tx.Statement(a.statementID)
		if err != nil {
			return err
		}
		if err := s.Alerts.Undeliverable(tx, st, a.event, a.failures); err != nil {
			return err
		}
		s.Log.Warn("the secretariat is told of undeliverable mail", "statement", st.Ref(), "failures", len(a.failures))
	}
	return nil
}

// failed is a mail failed for good, with the event recorded for it.
type failed struct {
	Failure
	event *store.Event
}

// record writes the outcome of one attempt; it returns the failure when
// the mail failed for good.
func (s *Sender) record(tx *store.Tx, m *store.OutboxMail, sendErr error) (*failed, error) {
	log := s.Log.With("outbox", m.ID, "kind", m.Kind, "rcpt", m.Rcpt, "statement", m.StatementID, "attempt", m.Attempts+1)
	if sendErr == nil {
		log.Info("mail delivered")
		return nil, tx.MarkSent(m.ID, s.Now())
	}
	var de *DeliveryError
	if !errors.As(sendErr, &de) {
		de = &DeliveryError{Temporary: true, Err: sendErr}
	}
	age := s.Now().Sub(m.CreatedAt)
	if de.Temporary && age < s.GiveUpAfter {
		next := s.Now().Add(s.backoff(m.Attempts + 1))
		log.Warn("delivery failed; will retry", "retry_at", next.Format(time.RFC3339), "err", sendErr)
		return nil, tx.MarkRetry(m.ID, next, sendErr.Error())
	}
	reason := sendErr.Error()
	if de.Temporary {
		reason = fmt.Sprintf("gave up after %s: %s", age.Round(time.Minute), reason)
	}
	log.Error("delivery failed permanently", "err", reason)
	if err := tx.MarkFailed(m.ID, reason); err != nil {
		return nil, err
	}
	f := &failed{Failure: Failure{Kind: m.Kind, Rcpt: m.Rcpt, Reason: reason}}
	if m.StatementID == 0 {
		return f, nil
	}
	f.event = &store.Event{StatementID: m.StatementID, At: s.Now(), Type: store.EventDeliveryFailed,
		By: "liaisond", Text: fmt.Sprintf("%s to %s could not be delivered: %s", m.Kind, m.Rcpt, reason)}
	if err := f.event.SetData(store.DeliveryFailedData{Outbox: m.ID, Rcpt: m.Rcpt, Kind: m.Kind}); err != nil {
		return nil, err
	}
	return f, tx.InsertEvent(f.event)
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
