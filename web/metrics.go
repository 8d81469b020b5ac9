package web

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"liaisond/store"
)

// storeCollector reads the figures from the database at scrape time, so the
// numbers are those of the store (they survive restarts and count the work
// of `liaisond ingest` too).
type storeCollector struct{ h *Handler }

var (
	descMessages  = prometheus.NewDesc("liaisond_messages", "Stored received messages by outcome (processed, rejected, ignored, held, failed, received).", []string{"outcome"}, nil)
	descStmts     = prometheus.NewDesc("liaisond_statements", "Statements by state.", []string{"state"}, nil)
	descOutbox    = prometheus.NewDesc("liaisond_outbox_mails", "Outgoing mails (one per recipient) by state: queued and sending are the outbox depth, failed were given up.", []string{"state"}, nil)
	descDepth     = prometheus.NewDesc("liaisond_outbox_depth", "Outgoing mails not yet delivered (queued or sending).", nil, nil)
	descFailed    = prometheus.NewDesc("liaisond_outbox_failed", "Outgoing mails given up as undeliverable.", nil, nil)
	descReminders = prometheus.NewDesc("liaisond_reminders_sent_total", "Reminder (tickler) mails delivered.", nil, nil)
	descIMAP      = prometheus.NewDesc("liaisond_imap_connected", "1 while the IMAP poller is connected, 0 when not.", nil, nil)
	descUp        = prometheus.NewDesc("liaisond_store_up", "1 if the database could be read for this scrape.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descStmts, descOutbox, descDepth, descFailed, descReminders, descIMAP, descUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.h.opt.IMAP != nil {
		if configured, connected := c.h.opt.IMAP(); configured {
			v := 0.0
			if connected {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descIMAP, prometheus.GaugeValue, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msgs, stmts, outbox map[string]int
	var reminders int
	err := c.h.opt.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		if msgs, err = tx.MessageCounts(); err != nil {
			return err
		}
		if stmts, err = tx.StatementCounts(); err != nil {
			return err
		}
		if outbox, err = tx.OutboxCounts(); err != nil {
			return err
		}
		reminders, err = tx.RemindersSent()
		return err
	})
	if err != nil {
		c.h.opt.Log.Error("metrics: read the store", "err", err)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	for _, o := range []string{"received", "processed", "rejected", "ignored", "held", "failed"} {
		msgs[o] += 0
	}
	for k, n := range msgs {
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(n), k)
	}
	for _, s := range []string{store.StateOpen, store.StateClosed, store.StatePending, store.StateHeld} {
		stmts[s] += 0
	}
	for k, n := range stmts {
		ch <- prometheus.MustNewConstMetric(descStmts, prometheus.GaugeValue, float64(n), k)
	}
	for _, s := range []string{"queued", "sending", "sent", "failed"} {
		outbox[s] += 0
	}
	for k, n := range outbox {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), k)
	}
	ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(outbox["queued"]+outbox["sending"]))
	ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, float64(outbox["failed"]))
	ch <- prometheus.MustNewConstMetric(descReminders, prometheus.CounterValue, float64(reminders))
}
