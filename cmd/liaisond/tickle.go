package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"liaisond/notify"
)

// ReminderConfig is the [reminders] section: the tickler schedule of
// DESIGN 5 and the daily digest of overdue statements.
type ReminderConfig struct {
	Enabled            bool     `toml:"enabled"`
	BeforeDeadlineDays []int    `toml:"before_deadline_days"`
	OverdueEveryDays   int      `toml:"overdue_every_days"`
	NoDeadlineEvery    int      `toml:"no_deadline_every_days"`
	Hour               int      `toml:"hour"`
	ScanInterval       Duration `toml:"scan_interval"`
	Digest             bool     `toml:"digest"`
	DigestHour         int      `toml:"digest_hour"`
}

func defaultReminders() ReminderConfig {
	s := notify.DefaultSchedule()
	return ReminderConfig{
		Enabled: true, BeforeDeadlineDays: s.BeforeDays, OverdueEveryDays: s.OverdueDays, NoDeadlineEvery: s.NoDeadlineDays,
		Hour: s.Hour, ScanInterval: Duration{time.Minute}, DigestHour: 7,
	}
}

func (r *ReminderConfig) check(bad func(key, format string, args ...any)) {
	for _, d := range r.BeforeDeadlineDays {
		if d < 0 || d > 366 {
			bad("reminders.before_deadline_days", "%d is not a number of days from 0 (the deadline day) to 366; the default is [14, 7, 3, 1, 0]", d)
		}
	}
	if r.OverdueEveryDays < 0 {
		bad("reminders.overdue_every_days", "must be 0 (no reminders once overdue) or more; the default is 7")
	}
	if r.NoDeadlineEvery < 0 {
		bad("reminders.no_deadline_every_days", "must be 0 (no reminders without a deadline) or more; the default is 30")
	}
	if r.Hour < 0 || r.Hour > 23 {
		bad("reminders.hour", "%d is not an hour of the day (0 to 23, UTC)", r.Hour)
	}
	if r.DigestHour < 0 || r.DigestHour > 23 {
		bad("reminders.digest_hour", "%d is not an hour of the day (0 to 23, UTC)", r.DigestHour)
	}
	if r.ScanInterval.Duration < time.Second || r.ScanInterval.Duration > 24*time.Hour {
		bad("reminders.scan_interval", "%s is out of range; write e.g. \"1m\" (from 1s to 24h)", r.ScanInterval.Duration)
	}
}

func (a *app) newTickler() *notify.Tickler {
	r := a.cfg.Reminders
	return &notify.Tickler{
		Store: a.store, Composer: a.composer, Log: a.log.With("component", "tickler"), Now: a.clock,
		Schedule: notify.Schedule{BeforeDays: r.BeforeDeadlineDays, OverdueDays: r.OverdueEveryDays, NoDeadlineDays: r.NoDeadlineEvery, Hour: r.Hour},
		Interval: r.ScanInterval.Duration, Digest: r.Digest, DigestHour: r.DigestHour, Queued: a.wakeSender,
	}
}

// runTickler is the scheduler of `liaisond serve`.
func (a *app) runTickler(ctx context.Context) error {
	if !a.cfg.Reminders.Enabled {
		a.log.Info("reminders are disabled (reminders.enabled = false)")
		return nil
	}
	return a.newTickler().Run(ctx)
}

// clockKey carries a test clock into run() through the context.
type clockKey struct{}

// withClock makes the daemon started with ctx read the time from now
// (tests drive the reminder schedule without sleeping).
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

func clockFrom(ctx context.Context) func() time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now
	}
	return time.Now
}

// cmdTickle runs one reminder pass: at -now (default: the current time),
// printing each reminder it queues; -dry-run changes nothing.
func cmdTickle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var nowFlag string
	var dry, noSend bool
	cfg, _, err := parseFlags("tickle", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&nowFlag, "now", "", "the time of the pass, RFC 3339 (e.g. 2027-01-24T09:00:00Z); default: now")
		fs.BoolVar(&dry, "dry-run", false, "print what would be sent; change nothing")
		fs.BoolVar(&noSend, "no-send", false, "only queue the reminders; liaisond serve sends them later")
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	now := a.now()
	if nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
			return exitf(exitUsage, "tickle: -now %q is not an RFC 3339 time; write e.g. 2027-01-24T09:00:00Z", nowFlag)
		}
	}
	if !cfg.Reminders.Enabled {
		fmt.Fprintln(stdout, "reminders are disabled (reminders.enabled = false); nothing to do")
		return nil
	}
	res, err := a.newTickler().Pass(ctx, now, dry)
	if err != nil {
		return exitf(exitTempFail, "tickle: %v", err)
	}
	verb := "queued"
	if dry {
		verb = "would send"
	}
	for _, r := range res.Reminders {
		skipped := ""
		if r.Skipped > 0 {
			skipped = fmt.Sprintf(" (%d earlier due point(s) skipped)", r.Skipped)
		}
		fmt.Fprintf(stdout, "%s %s: reminder %s, %s%s\n  to: %s\n  cc: %s\n", verb, r.Ref, r.Point.Key, r.Point.Describe(), skipped,
			strings.Join(r.To, ", "), strings.Join(r.Cc, ", "))
	}
	for _, d := range res.Digests {
		fmt.Fprintf(stdout, "%s digest of overdue statements to %s\n", verb, d)
	}
	next := "none"
	if !res.Next.IsZero() {
		next = res.Next.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "pass at %s: %d open statement(s), %d reminder(s), %d digest(s) %s; next due point %s\n",
		now.UTC().Format(time.RFC3339), res.Scanned, len(res.Reminders), len(res.Digests), verb, next)
	if dry || noSend {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	n, err := a.sender.Flush(sctx)
	cancel()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("some mail stays queued for `liaisond serve`", "err", err)
	}
	fmt.Fprintf(stdout, "%d mail(s) sent\n", n)
	return nil
}
