package notify

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"liaisond/store"
)

// queueNotification stores a statement and the notification it causes.
func queueNotification(t *testing.T, s *store.Store, c *Composer) int64 {
	t.Helper()
	return queueNotificationBy(t, s.Update, c)
}

// queueNotificationBy is queueNotification in a transaction of update
// (Store.Update, or UpdateNoSync).
func queueNotificationBy(t *testing.T, update func(context.Context, func(*store.Tx) error) error, c *Composer) int64 {
	t.Helper()
	ctx := context.Background()
	st := &store.Statement{Direction: store.Incoming, State: store.StateOpen, From: store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To: []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}}, Title: "OTN", Purpose: "action",
		Submitter: "rapp@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0}
	err := update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		ev := &store.Event{StatementID: st.ID, At: t0, Type: store.EventSubmitted}
		if err := tx.InsertEvent(ev); err != nil {
			return err
		}
		mails, _, err := c.notification(st, store.SubmittedData{})
		if err != nil {
			return err
		}
		return c.QueuePrepared(tx, ev, mails)
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// rcptTransport fails some recipients, always the same way.
type rcptTransport struct {
	fail map[string]error
	sent []string
}

func (f *rcptTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	if err := f.fail[m.Rcpt]; err != nil {
		return err
	}
	f.sent = append(f.sent, m.Kind+" "+m.Rcpt)
	return nil
}
func (f *rcptTransport) Idle() {}

// Mail failing for good: each failure on the history, one mail to the
// secretariat per cause, none about a failing alert, and a temporary
// failure given up after GiveUpAfter.
func TestSenderGiveUpTellsSecretariatOnce(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	id := queueNotification(t, s, c)
	now := t0
	ft := &rcptTransport{fail: map[string]error{
		"carol@ietf.example":      &DeliveryError{Code: 550, Err: errors.New("550 5.1.1 no such user")},
		"dan@lm.example":          &DeliveryError{Code: 550, Err: errors.New("550 5.1.1 no such user")},
		"rick@ietf.example":       &DeliveryError{Temporary: true, Code: 451, Err: errors.New("451 4.3.0 try later")},
		"statements@ietf.example": &DeliveryError{Temporary: true, Code: 452, Err: errors.New("452 mailbox full")},
	}}
	snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		RetryMin: time.Minute, RetryMax: time.Hour, GiveUpAfter: 24 * time.Hour, Alerts: c}
	c.Now = snd.Now
	for i := 0; i < 40; i++ { // passes over two days, past any backoff
		if _, err := snd.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		now = now.Add(90 * time.Minute)
	}
	var rows []*store.OutboxMail
	var evs []store.Event
	s.View(ctx, func(tx *store.Tx) error {
		rows, _ = tx.Outbox(store.OutboxFilter{})
		evs, _ = tx.Events(id)
		return nil
	})
	state := map[string]string{}
	alerts := 0
	for _, r := range rows {
		if r.Kind == KindUndeliverable {
			alerts++
			continue
		}
		state[r.Rcpt] = r.State
	}
	for rcpt, want := range map[string]string{"alice@ccamp.example": store.OutboxSent, "carol@ietf.example": store.OutboxFailed,
		"dan@lm.example": store.OutboxFailed, "rick@ietf.example": store.OutboxFailed, "bob@ccamp.example": store.OutboxSent} {
		if state[rcpt] != want {
			t.Errorf("%s: %s, want %s", rcpt, state[rcpt], want)
		}
	}
	// The secretariat's own copy fails (452), so does the alert to it: one
	// alert queued, and no alert about the alert.
	if alerts != 1 {
		t.Errorf("%d alerts to the secretariat, want 1", alerts)
	}
	failedEvents := 0
	for _, ev := range evs {
		if ev.Type == store.EventDeliveryFailed {
			failedEvents++
			if strings.Contains(ev.Text, "rick@ietf.example") && !strings.Contains(ev.Text, "gave up after") {
				t.Errorf("give-up event does not say so: %s", ev.Text)
			}
		}
	}
	// carol, dan, rick, the secretariat's notification, and the alert itself.
	if failedEvents != 5 {
		t.Errorf("%d delivery-failed events, want 5: %v", failedEvents, evs)
	}
}

// One alert names every recipient that failed in the same batch.
func TestSenderAlertNamesAllFailures(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	queueNotification(t, s, c)
	ft := &rcptTransport{fail: map[string]error{
		"carol@ietf.example": &DeliveryError{Code: 550, Err: errors.New("550 no such user carol")},
		"dan@lm.example":     &DeliveryError{Code: 554, Err: errors.New("554 rejected dan")},
	}}
	snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }, Alerts: c}
	if _, err := snd.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	alerts := outboxOfKind(t, s, KindUndeliverable)
	if len(alerts) != 1 || alerts[0].Rcpt != "statements@ietf.example" || alerts[0].State != store.OutboxSent {
		t.Fatalf("alerts: %+v", alerts)
	}
	text := decodeQP(string(alerts[0].Raw))
	for _, want := range []string{"notification to carol@ietf.example: permanent failure: 550 no such user carol", "dan@lm.example", "[LS-1] Mail could not be delivered"} {
		if !strings.Contains(text, want) {
			t.Errorf("alert lacks %q:\n%s", want, text)
		}
	}
}

// A crash leaves rows "sending": with the file transport, those whose file
// exists are recorded as sent; the others are queued again, unchanged.
func TestSenderReconcile(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	queueNotification(t, s, c)
	dir := t.TempDir()
	ft := &FileTransport{Dir: dir}
	var claimed []*store.OutboxMail
	// The crash: claimed (sending), two delivered, not recorded.
	s.Update(ctx, func(tx *store.Tx) error {
		var err error
		claimed, err = tx.ClaimDueOutbox(t0, 100)
		return err
	})
	if len(claimed) < 3 {
		t.Fatalf("claimed %d", len(claimed))
	}
	for _, m := range claimed[:2] {
		if err := ft.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }}
	if err := snd.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	var rows []*store.OutboxMail
	s.View(ctx, func(tx *store.Tx) error {
		rows, _ = tx.Outbox(store.OutboxFilter{})
		return nil
	})
	for i, r := range rows {
		want := store.OutboxQueued
		if i < 2 {
			want = store.OutboxSent
		}
		if r.State != want || r.MessageID != claimed[i].MessageID {
			t.Errorf("row %d: %s %s, want %s with Message-ID %s", r.ID, r.State, r.MessageID, want, claimed[i].MessageID)
		}
	}
	if n, err := snd.Flush(ctx); err != nil || n != len(claimed)-2 {
		t.Fatalf("flush after reconcile: %d, %v", n, err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) != len(claimed) {
		t.Errorf("%d files, want %d (each mail once)", len(files), len(claimed))
	}
	for _, f := range files {
		if strings.HasPrefix(f.Name(), ".tmp") {
			t.Errorf("temp file left: %s", filepath.Join(dir, f.Name()))
		}
	}
}

// busyTransport fails the test's check if a mail goes out while messages
// are being received.
type busyTransport struct {
	rcptTransport
	busy      *atomic.Bool
	whileBusy int
}

func (b *busyTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	if b.busy.Load() {
		b.whileBusy++
	}
	return b.rcptTransport.Send(ctx, m)
}

// The sender waits while received messages are being processed (Busy),
// and a flood that never ends delays it by MaxYield, never stops it.
func TestSenderYieldsToReceiving(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	queueNotification(t, s, c)
	var busy atomic.Bool
	busy.Store(true)
	polls := 0
	ft := &busyTransport{busy: &busy}
	snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 },
		MaxYield: time.Hour, Busy: func() bool {
			polls++
			if polls == 3 {
				busy.Store(false) // the last message got its 250
			}
			return busy.Load()
		}}
	n, err := snd.Flush(ctx)
	if err != nil || n == 0 {
		t.Fatalf("Flush: %d sent, %v", n, err)
	}
	if ft.whileBusy > 0 || polls < 3 {
		t.Errorf("%d mails sent while receiving; Busy asked %d times", ft.whileBusy, polls)
	}

	queueNotification(t, s, c)
	busy.Store(true)
	flood := &busyTransport{busy: &busy}
	snd = &Sender{Store: s, Transport: flood, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 },
		MaxYield: 10 * time.Millisecond, Busy: busy.Load}
	if n, err := snd.Flush(ctx); err != nil || n == 0 || flood.whileBusy != n {
		t.Fatalf("under a flood: %d sent (%d while busy), %v; want them all sent after MaxYield", n, flood.whileBusy, err)
	}
}

// syncCheckTransport counts the mails sent before an fsync of the WAL
// made after syncsBefore.
type syncCheckTransport struct {
	store       *store.Store
	syncsBefore int64
	unsynced    int
	sent        int
}

func (f *syncCheckTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	if f.store.WALSyncs() <= f.syncsBefore {
		f.unsynced++
	}
	f.sent++
	return nil
}
func (f *syncCheckTransport) Idle() {}

// Commits are visible before their fsync (store/walsync.go): the sender
// sends nothing before the commit that queued it is on disk, so a power
// failure cannot take back a statement whose notification went out.
func TestSenderSendsOnlyWhatIsOnDisk(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	// Queued by a commit not yet on disk, as a group commit's is until its
	// fsync.
	syncsBefore := s.WALSyncs()
	queueNotificationBy(t, s.UpdateNoSync, c)
	if s.WALSyncs() != syncsBefore {
		t.Fatal("the queueing commit was fsynced: the test shows nothing")
	}
	ft := &syncCheckTransport{store: s, syncsBefore: syncsBefore}
	snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }}
	n, err := snd.Flush(ctx)
	if err != nil || n == 0 || ft.sent != n {
		t.Fatalf("Flush: %d sent, %v", n, err)
	}
	if ft.unsynced > 0 {
		t.Errorf("%d of %d mails sent before the commit that queued them was on disk", ft.unsynced, n)
	}
}
