package receive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"liaisond/store"
)

// IMAPConfig says which mailbox to take mail from and what to do with it
// (the [imap] section of the configuration).
type IMAPConfig struct {
	Addr      string      // host:port
	TLS       string      // none (loopback only) | starttls | tls
	TLSConfig *tls.Config // nil: system roots, server name from Addr
	Username  string
	Password  string
	Mailbox   string // the mailbox polled, e.g. INBOX
	// ProcessedFolder receives each message once it is committed; "" leaves
	// it in Mailbox, marked \Seen and $LiaisondStored.
	ProcessedFolder string
	// FailedFolder receives messages that failed processing permanently and
	// messages over MaxMessageBytes.
	FailedFolder string
	PollInterval time.Duration // between polls without IDLE; the longest IDLE wait
	Idle         string        // auto (use IDLE when offered) | on | off
	BackoffMin   time.Duration // first reconnect delay; doubles up to BackoffMax
	BackoffMax   time.Duration
	// MaxMessageBytes: larger messages are not fetched whole (0: no limit).
	MaxMessageBytes int64
	BatchSize       int           // messages fetched per FETCH (default 50)
	Workers         int           // messages processed at once (default 4)
	Timeout         time.Duration // longest wait for one server response (default 2m)
}

// IMAPReceiver is what the poller hands messages to; *ingest.Processor is
// the real one. A message over the size limit is recorded from its header
// alone.
type IMAPReceiver interface {
	Receiver
	RecordOversize(ctx context.Context, env Envelope, header []byte, size, limit int64, where string) (Result, error)
}

// Poller takes every message from an IMAP mailbox into the store, exactly
// once in effect: a message is moved out of the mailbox (or flagged) only
// after it is committed, the UIDVALIDITY and last UID are kept in the
// store, and a message fetched twice is recognized by its identity.
type Poller struct {
	Config   IMAPConfig
	Receiver IMAPReceiver
	Store    *store.Store
	Log      *slog.Logger
	Now      func() time.Time
	// Dial opens the TCP connection; nil uses a net.Dialer (tests wrap it to
	// count traffic).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	status IMAPStatus
}

// IMAPStatus is a snapshot of the poller, for `liaisond status` and /healthz.
type IMAPStatus struct {
	Mailbox     string     `json:"mailbox"` // user@host:port/mailbox
	Connected   bool       `json:"connected"`
	Idle        bool       `json:"idle"` // waiting with IDLE rather than polling
	UIDValidity uint32     `json:"uidvalidity"`
	LastUID     uint32     `json:"last_uid"`
	Backlog     int        `json:"backlog"` // messages above last_uid at the last look
	Stored      int64      `json:"stored"`  // messages handed over since start
	LastError   string     `json:"last_error,omitempty"`
	LastPoll    *time.Time `json:"last_poll,omitempty"`
}

// Keywords set on messages left in the mailbox (ProcessedFolder "", or a
// server without MOVE and UIDPLUS).
const (
	KeywordStored = "$LiaisondStored"
	KeywordFailed = "$LiaisondFailed"
)

// Key names the mailbox in the store and in logs.
func (c *IMAPConfig) Key() string {
	return fmt.Sprintf("%s@%s/%s", c.Username, c.Addr, c.Mailbox)
}

func (p *Poller) defaults() {
	c := &p.Config
	if c.Mailbox == "" {
		c.Mailbox = "INBOX"
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Minute
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = time.Second
	}
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = max(5*time.Minute, c.BackoffMin)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 50
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Idle == "" {
		c.Idle = "auto"
	}
	if p.Now == nil {
		p.Now = time.Now
	}
}

// Status returns a snapshot of the poller's state.
func (p *Poller) Status() IMAPStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	if s.Mailbox == "" {
		s.Mailbox = p.Config.Key()
	}
	return s
}

func (p *Poller) setStatus(fn func(s *IMAPStatus)) {
	p.mu.Lock()
	fn(&p.status)
	p.mu.Unlock()
}

// Run polls until ctx is cancelled, reconnecting after any network or server
// error with capped exponential backoff and jitter. Each failure is logged
// once, with its cause.
func (p *Poller) Run(ctx context.Context) error {
	p.defaults()
	log := p.Log.With("mailbox", p.Config.Key())
	failures := 0
	for ctx.Err() == nil {
		sess, err := p.Open(ctx)
		if err == nil {
			log.Info("IMAP connected", "uidvalidity", sess.uidValidity, "last_uid", sess.lastUID, "idle", sess.useIdle,
				"move", sess.canMove, "processed_folder", p.Config.ProcessedFolder, "failed_folder", p.Config.FailedFolder)
			err = sess.loop(ctx)
			sess.Close()
			if sess.drained {
				// The backoff starts again only after a session that worked:
				// one that fails at once (a store that keeps failing) backs off.
				failures = 0
			}
		}
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			err = errors.New("session ended")
		}
		failures++
		delay := Backoff(p.Config.BackoffMin, p.Config.BackoffMax, failures, rand.Float64())
		log.Warn("IMAP connection failed; will reconnect", "err", err, "failures", failures, "retry_in", delay.Round(time.Millisecond))
		p.setStatus(func(s *IMAPStatus) { s.Connected, s.Idle, s.LastError = false, false, err.Error() })
		p.saveState(context.Background(), nil)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	p.setStatus(func(s *IMAPStatus) { s.Connected, s.Idle = false, false })
	p.saveState(context.Background(), nil)
	return nil
}

// Backoff is the delay before reconnect attempt n (1-based): min doubled
// n-1 times, capped at max, then jittered into [d/2, d) with r in [0,1).
func Backoff(min, max time.Duration, n int, r float64) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// saveState writes the poller's status to the store, with lastUID when
// given (nil keeps the stored one).
func (p *Poller) saveState(ctx context.Context, update func(st *store.IMAPState)) error {
	if p.Store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := p.Status()
	err := p.Store.Update(ctx, func(tx *store.Tx) error {
		st, err := tx.IMAPState(s.Mailbox)
		if err != nil {
			return err
		}
		st.Connected, st.Backlog, st.LastError, st.UpdatedAt = s.Connected, s.Backlog, s.LastError, p.Now()
		if update != nil {
			update(st)
		}
		return tx.PutIMAPState(st)
	})
	if err != nil && update == nil {
		// Only the display state was lost; the next save repairs it.
		p.Log.Warn("IMAP status not saved", "err", err)
		return nil
	}
	return err
}

// IMAPSession is one connection to the mailbox, selected and ready.
type IMAPSession struct {
	p           *Poller
	c           *imapclient.Client
	log         *slog.Logger
	wake        chan struct{}
	stopWatch   chan struct{}
	uidValidity uint32
	lastUID     uint32
	canMove     bool
	canUIDPlus  bool
	keywords    bool // the server keeps keywords (PERMANENTFLAGS \*)
	useIdle     bool
	drained     bool // a Drain completed without error
}

// Open connects, logs in, makes the folders, selects the mailbox and checks
// its UIDVALIDITY against the store.
func (p *Poller) Open(ctx context.Context) (*IMAPSession, error) {
	p.defaults()
	cfg := &p.Config
	s := &IMAPSession{p: p, log: p.Log.With("mailbox", cfg.Key()), wake: make(chan struct{}, 1), stopWatch: make(chan struct{})}
	dial := p.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Addr, err)
	}
	tlsCfg := cfg.TLSConfig.Clone()
	if tlsCfg == nil {
		tlsCfg = &tls.Config{}
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName, _, _ = net.SplitHostPort(cfg.Addr)
	}
	opts := &imapclient.Options{
		TLSConfig: tlsCfg,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Runs on the reader goroutine: only signal, never issue commands.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					s.signal()
				}
			},
		},
	}
	switch cfg.TLS {
	case "tls":
		tc := tls.Client(conn, tlsCfg)
		hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with %s: %w", cfg.Addr, err)
		}
		s.c = imapclient.New(tc, opts)
	case "starttls":
		// NewStartTLS waits for the greeting and the STARTTLS reply: guard it.
		t := time.AfterFunc(cfg.Timeout, func() { conn.Close() })
		s.c, err = imapclient.NewStartTLS(conn, opts)
		t.Stop()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", cfg.Addr, err)
		}
	default:
		s.c = imapclient.New(conn, opts)
	}
	// imapclient has no context: close the connection when ctx ends.
	go func() {
		select {
		case <-ctx.Done():
			s.c.Close()
		case <-s.stopWatch:
		}
	}()
	if err := s.open(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *IMAPSession) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// guard closes the connection if fn takes longer than the timeout, so that
// a server that stops answering cannot hang the poller.
func (s *IMAPSession) guard(fn func() error) error {
	t := time.AfterFunc(s.p.Config.Timeout, func() { s.c.Close() })
	defer t.Stop()
	return fn()
}

func (s *IMAPSession) open() error {
	cfg := &s.p.Config
	if err := s.guard(s.c.WaitGreeting); err != nil {
		return fmt.Errorf("greeting from %s: %w", cfg.Addr, err)
	}
	if err := s.guard(s.c.Login(cfg.Username, cfg.Password).Wait); err != nil {
		return fmt.Errorf("login as %s: %w (check imap.username and imap.password_file)", cfg.Username, err)
	}
	caps := s.c.Caps()
	s.canMove = caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2)
	s.canUIDPlus = caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2)
	switch cfg.Idle {
	case "on":
		s.useIdle = true
		if !caps.Has(imap.CapIdle) && !caps.Has(imap.CapIMAP4rev2) {
			s.log.Warn("imap.idle is on but the server does not offer IDLE; polling every poll_interval instead", "poll_interval", cfg.PollInterval)
			s.useIdle = false
		}
	case "auto":
		s.useIdle = caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
	}
	for _, f := range []string{cfg.ProcessedFolder, cfg.FailedFolder} {
		if f == "" {
			continue
		}
		err := s.guard(s.c.Create(f, nil).Wait)
		var ie *imap.Error
		if err != nil && !(errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAlreadyExists || strings.Contains(strings.ToLower(ie.Text), "exists"))) {
			return fmt.Errorf("create folder %q: %w", f, err)
		}
	}
	var sel *imap.SelectData
	err := s.guard(func() (err error) { sel, err = s.c.Select(cfg.Mailbox, nil).Wait(); return err })
	if err != nil {
		return fmt.Errorf("select %q: %w (check imap.mailbox)", cfg.Mailbox, err)
	}
	s.keywords = slices.Contains(sel.PermanentFlags, imap.FlagWildcard)
	var st *store.IMAPState
	err = s.p.Store.View(context.Background(), func(tx *store.Tx) (err error) { st, err = tx.IMAPState(cfg.Key()); return err })
	if err != nil {
		return fmt.Errorf("read imap state: %w", err)
	}
	s.uidValidity, s.lastUID = sel.UIDValidity, st.LastUID
	if st.UIDValidity != 0 && st.UIDValidity != sel.UIDValidity {
		// RFC 3501 2.3.1.1: the UIDs we know mean nothing now. Look at every
		// message again; those already stored are recognized by identity.
		s.log.Warn("UIDVALIDITY changed: rescanning the whole mailbox (messages already stored are recognized, not stored twice)",
			"old_uidvalidity", st.UIDValidity, "uidvalidity", sel.UIDValidity, "old_last_uid", st.LastUID)
		s.lastUID = 0
	}
	s.p.setStatus(func(ps *IMAPStatus) {
		ps.Connected, ps.Idle, ps.UIDValidity, ps.LastUID, ps.LastError = true, s.useIdle, s.uidValidity, s.lastUID, ""
	})
	return s.p.saveState(context.Background(), func(st *store.IMAPState) {
		st.UIDValidity, st.LastUID = s.uidValidity, s.lastUID
	})
}

// Close logs out (briefly) and closes the connection.
func (s *IMAPSession) Close() error {
	select {
	case <-s.stopWatch:
		return nil
	default:
		close(s.stopWatch)
	}
	t := time.AfterFunc(5*time.Second, func() { s.c.Close() })
	defer t.Stop()
	s.c.Logout().Wait()
	return s.c.Close()
}

// loop drains the mailbox, then waits (IDLE or poll interval), until an
// error or ctx ends.
func (s *IMAPSession) loop(ctx context.Context) error {
	for {
		if _, err := s.Drain(ctx); err != nil {
			return err
		}
		s.drained = true
		// A heartbeat for `liaisond status` (at most once per poll interval).
		s.p.saveState(ctx, nil)
		if err := s.wait(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func (s *IMAPSession) wait(ctx context.Context) error {
	interval := s.p.Config.PollInterval
	if !s.useIdle {
		select {
		case <-ctx.Done():
		case <-s.c.Closed():
			return errors.New("connection closed by the server")
		case <-time.After(interval):
		}
		return nil
	}
	var idle *imapclient.IdleCommand
	if err := s.guard(func() (err error) { idle, err = s.c.Idle(); return err }); err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	s.log.Debug("waiting for new mail with IDLE", "last_uid", s.lastUID)
	// IDLE ends on new mail, after interval (a cheap safety poll that also
	// keeps NAT state alive), or when the server goes away.
	select {
	case <-ctx.Done():
	case <-s.wake:
		s.signal() // keep the wake for Drain's logic; harmless
	case <-s.c.Closed():
	case <-time.After(interval):
	}
	if ctx.Err() != nil {
		return nil
	}
	err := s.guard(func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	return nil
}

// DrainStats says what one Drain did.
type DrainStats struct {
	Seen      int // messages above last_uid
	Stored    int // handed over and committed (new or recognized)
	Failed    int // moved to the failed folder
	Oversize  int
	Remaining int // left for a retry
}

// imapItem is a message above last_uid and its size.
type imapItem struct {
	uid  imap.UID
	size int64
}

// outcome of one message within a batch.
type outcome struct {
	uid      imap.UID
	msgID    int64
	failed   bool   // goes to the failed folder
	oversize bool   // recorded by its header only
	why      string // for the failed folder
}

// Drain takes every message above last_uid: fetch (BODY.PEEK), commit,
// then move or flag, then advance last_uid. A message that could not be
// stored stays in the mailbox and Drain returns an error (the caller
// retries after a backoff). The cost does not depend on how many old
// messages the mailbox holds: one UID FETCH last+1:* lists the new ones.
func (s *IMAPSession) Drain(ctx context.Context) (DrainStats, error) {
	var stats DrainStats
	select {
	case <-s.wake:
	default:
	}
	var items []imapItem
	err := s.guard(func() error {
		// "n:*" always matches the highest UID, even below n: filter below.
		cmd := s.c.Fetch(imap.UIDSet{{Start: imap.UID(s.lastUID + 1), Stop: 0}}, &imap.FetchOptions{UID: true, RFC822Size: true})
		bufs, err := cmd.Collect()
		if err != nil {
			return err
		}
		for _, b := range bufs {
			if b.UID > imap.UID(s.lastUID) {
				items = append(items, imapItem{b.UID, b.RFC822Size})
			}
		}
		return nil
	})
	if err != nil {
		return stats, fmt.Errorf("list new messages: %w", err)
	}
	slices.SortFunc(items, func(a, b imapItem) int { return int(a.uid) - int(b.uid) })
	stats.Seen = len(items)
	now := s.p.Now()
	s.p.setStatus(func(ps *IMAPStatus) { ps.Backlog, ps.LastPoll = len(items), &now })
	if len(items) == 0 {
		return stats, nil
	}
	limit := s.p.Config.MaxMessageBytes
	for len(items) > 0 && ctx.Err() == nil {
		n := min(len(items), s.p.Config.BatchSize)
		batch := items[:n]
		var normal, big []imap.UID
		for _, it := range batch {
			if limit > 0 && it.size > limit {
				big = append(big, it.uid)
			} else {
				normal = append(normal, it.uid)
			}
		}
		results := map[imap.UID]outcome{}
		var tempErr error
		if len(normal) > 0 {
			tempErr = s.fetchBodies(ctx, normal, results)
		}
		if tempErr == nil && len(big) > 0 {
			tempErr = s.fetchOversize(ctx, big, results, limit, batch)
		}
		// Acknowledge what was committed: the longest prefix of the batch
		// that has an outcome (a message that could not be stored stops it).
		var done []outcome
		for _, it := range batch {
			o, ok := results[it.uid]
			if !ok {
				break
			}
			done = append(done, o)
		}
		if err := s.acknowledge(ctx, done); err != nil {
			return stats, err
		}
		for _, o := range done {
			stats.Stored++
			if o.failed {
				stats.Failed++
			}
			if o.oversize {
				stats.Oversize++
			}
		}
		items = items[len(done):]
		s.p.setStatus(func(ps *IMAPStatus) {
			ps.Backlog, ps.LastUID, ps.Stored = len(items), s.lastUID, ps.Stored+int64(len(done))
		})
		if tempErr != nil || len(done) < n {
			stats.Remaining = len(items)
			if tempErr == nil {
				tempErr = errors.New("a message was not returned by the server")
			}
			s.p.saveState(context.Background(), nil)
			return stats, fmt.Errorf("message not stored, left in the mailbox for a retry: %w", tempErr)
		}
	}
	stats.Remaining = len(items)
	return stats, ctx.Err()
}

// envelope: IMAP has no SMTP envelope. Routing then goes by the delivery
// headers the MTA wrote (Delivered-To, X-Original-To, Envelope-To), else
// by To/Cc, else the mailbox is taken as statements@ (ingest.route); the
// null Return-Path marks a bounce (AutoReason).
func imapEnvelope() Envelope { return Envelope{Source: "imap"} }

// fetchBodies fetches whole messages with BODY.PEEK[] (a failure leaves no
// \Seen), reading them one at a time off the stream and handing each to the
// receiver on up to Workers goroutines (parsing and composing run in
// parallel; the store serializes the commits). After a failure the rest of
// the batch is left for the retry; a message committed after the failing
// one is simply recognized then.
func (s *IMAPSession) fetchBodies(ctx context.Context, uids []imap.UID, results map[imap.UID]outcome) error {
	limit := s.p.Config.MaxMessageBytes
	section := &imap.FetchItemBodySection{Peek: true}
	var (
		mu         sync.Mutex
		receiveErr error
		wg         sync.WaitGroup
	)
	sem := make(chan struct{}, s.p.Config.Workers)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return receiveErr != nil }
	fail := func(err error) {
		mu.Lock()
		if receiveErr == nil {
			receiveErr = err
		}
		mu.Unlock()
	}
	timer := time.AfterFunc(s.p.Config.Timeout, func() { s.c.Close() })
	defer timer.Stop()
	cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		timer.Reset(s.p.Config.Timeout)
		var uid imap.UID
		var raw []byte
		var readErr error
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				raw, readErr = readLiteral(it.Literal, limit)
			}
		}
		if failed() || uid == 0 || raw == nil {
			continue // after a failure, the rest waits for the retry
		}
		if readErr != nil {
			fail(fmt.Errorf("read message uid %d: %w", uid, readErr))
			continue
		}
		sem <- struct{}{} // the reader waits while every worker is busy
		wg.Add(1)
		go func(uid imap.UID, raw []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			o, err := s.receive(ctx, uid, raw)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			results[uid] = o
			mu.Unlock()
		}(uid, raw)
	}
	timer.Stop()
	wg.Wait()
	if err := s.guard(cmd.Close); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return receiveErr
}

func (s *IMAPSession) receive(ctx context.Context, uid imap.UID, raw []byte) (outcome, error) {
	res, err := s.p.Receiver.Receive(ctx, imapEnvelope(), raw)
	if err != nil {
		s.log.Warn("message not stored; it stays in the mailbox and is retried", "uid", uid, "err", err)
		return outcome{}, err
	}
	o := outcome{uid: uid, msgID: res.MessageID}
	state := res.State
	errText := ""
	if res.Duplicate || state == store.MessageFailed {
		// A message seen before (a crash before the move, a UIDVALIDITY
		// rescan): it goes where its first copy went.
		if err := s.p.Store.View(ctx, func(tx *store.Tx) (err error) {
			state, errText, _, err = tx.MessageStatus(res.MessageID)
			return err
		}); err != nil {
			return outcome{}, err
		}
	}
	if state == store.MessageFailed {
		o.failed, o.why = true, errText
	}
	return o, nil
}

// fetchOversize fetches only the header of messages over the limit and
// records them (failed, the secretariat told once).
func (s *IMAPSession) fetchOversize(ctx context.Context, uids []imap.UID, results map[imap.UID]outcome, limit int64, batch []imapItem) error {
	sizes := map[imap.UID]int64{}
	for _, it := range batch {
		sizes[it.uid] = it.size
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	var bufs []*imapclient.FetchMessageBuffer
	err := s.guard(func() (err error) {
		bufs, err = s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch header: %w", err)
	}
	for _, b := range bufs {
		header := b.FindBodySection(section)
		where := fmt.Sprintf("IMAP %s, UIDVALIDITY %d, UID %d", s.p.Config.Key(), s.uidValidity, b.UID)
		res, err := s.p.Receiver.RecordOversize(ctx, imapEnvelope(), header, sizes[b.UID], limit, where)
		if err != nil {
			s.log.Warn("oversize message not recorded; it stays in the mailbox and is retried", "uid", b.UID, "err", err)
			return err
		}
		s.log.Warn("message over the size limit: recorded without its body and moved to the failed folder",
			"uid", b.UID, "size", sizes[b.UID], "limit", limit, "id", res.MessageID, "already_recorded", res.Duplicate)
		results[b.UID] = outcome{uid: b.UID, msgID: res.MessageID, failed: true, oversize: true,
			why: fmt.Sprintf("message of %d bytes is over the limit of %d bytes", sizes[b.UID], limit)}
	}
	return nil
}

// acknowledge moves (or flags) committed messages, then advances last_uid
// and records each message's disposition in one transaction.
func (s *IMAPSession) acknowledge(ctx context.Context, done []outcome) error {
	if len(done) == 0 {
		return nil
	}
	cfg := &s.p.Config
	var ok, bad []imap.UID
	for _, o := range done {
		if o.failed {
			bad = append(bad, o.uid)
			s.log.Warn("message failed processing; moving it to the failed folder", "uid", o.uid, "id", o.msgID, "reason", o.why)
		} else {
			ok = append(ok, o.uid)
		}
	}
	disp := map[imap.UID]string{}
	for _, g := range []struct {
		uids    []imap.UID
		folder  string
		keyword imap.Flag
	}{{ok, cfg.ProcessedFolder, KeywordStored}, {bad, cfg.FailedFolder, KeywordFailed}} {
		if len(g.uids) == 0 {
			continue
		}
		d, err := s.ack(g.uids, g.folder, g.keyword)
		if err != nil {
			return err
		}
		for _, u := range g.uids {
			disp[u] = fmt.Sprintf("imap %s uidvalidity %d uid %d: %s", cfg.Mailbox, s.uidValidity, u, d)
		}
	}
	last := done[len(done)-1].uid
	err := s.p.Store.Update(context.Background(), func(tx *store.Tx) error {
		for _, o := range done {
			if err := tx.SetMessageDisposition(o.msgID, disp[o.uid]); err != nil {
				return err
			}
		}
		st, err := tx.IMAPState(cfg.Key())
		if err != nil {
			return err
		}
		st.UIDValidity, st.LastUID, st.Connected, st.LastError, st.UpdatedAt = s.uidValidity, uint32(last), true, "", s.p.Now()
		st.Backlog = s.p.Status().Backlog - len(done)
		if st.Backlog < 0 {
			st.Backlog = 0
		}
		return tx.PutIMAPState(st)
	})
	if err != nil {
		// The messages are stored and moved; a lost last_uid only means
		// they are looked at again (and recognized).
		return fmt.Errorf("save last uid: %w", err)
	}
	s.lastUID = uint32(last)
	return nil
}

// ack moves uids to folder, or flags them where they are when folder is ""
// or the server can neither MOVE nor expunge by UID (RFC 4315): a plain
// EXPUNGE would also remove other clients' \Deleted messages.
func (s *IMAPSession) ack(uids []imap.UID, folder string, keyword imap.Flag) (string, error) {
	set := imap.UIDSetNum(uids...)
	if folder != "" && (s.canMove || s.canUIDPlus) {
		err := s.guard(func() error { _, err := s.c.Move(set, folder).Wait(); return err })
		if err != nil {
			return "", fmt.Errorf("move to %q: %w", folder, err)
		}
		return "moved to " + folder, nil
	}
	flags := []imap.Flag{imap.FlagSeen}
	if s.keywords {
		flags = append(flags, keyword)
	}
	err := s.guard(func() error {
		return s.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	})
	if err != nil {
		return "", fmt.Errorf("flag: %w", err)
	}
	if folder != "" {
		s.log.Warn("the server offers neither MOVE nor UIDPLUS: messages are flagged in place, not moved", "folder", folder)
	}
	return "flagged " + string(keyword) + " in place", nil
}

// readLiteral reads a fetched message into one buffer of the size the
// server announced (io.ReadAll would leave growing copies of a large
// message behind), at most limit+1 bytes when limit > 0.
func readLiteral(lit imap.LiteralReader, limit int64) ([]byte, error) {
	size := lit.Size()
	if limit > 0 && size > limit+1 {
		size = limit + 1
	}
	raw := make([]byte, size)
	n, err := io.ReadFull(lit, raw)
	if err != nil {
		return raw[:n], err
	}
	return raw, nil
}
