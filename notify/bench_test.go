package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"liaisond/store"
)

// countingSink accepts and drops mail, counting connections and messages.
type countingSink struct{ conns, mails atomic.Int64 }

func (c *countingSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	c.conns.Add(1)
	return &countingSession{c: c}, nil
}

type countingSession struct{ c *countingSink }

func (s *countingSession) Reset()                               {}
func (s *countingSession) Logout() error                        { return nil }
func (s *countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *countingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *countingSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.c.mails.Add(1)
	return err
}

// BenchmarkOutboxSMTP delivers 5,000 queued mails of 4 KB to a local SMTP
// server over kept connections, with each acceptance committed before the
// next mail (the crash-safety rule), and reports mails per second.
func BenchmarkOutboxSMTP(b *testing.B) {
	const total = 5000
	body := strings.Repeat("This line stands for the text of a liaison statement notification.\r\n", 60)
	for n := 0; n < b.N; n++ {
		s := newTestStore(b)
		ctx := context.Background()
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := range total {
				raw := fmt.Sprintf("From: s@liaison.example\r\nTo: r%d@x.example\r\nSubject: [LS-%d] bench\r\nMessage-ID: <b%d@liaison.example>\r\n\r\n%s", i, i, i, body)
				if err := tx.InsertOutbox(&store.OutboxMail{Kind: "notification", EnvelopeFrom: "s@liaison.example", Rcpt: fmt.Sprintf("r%d@x.example", i),
					From: "s@liaison.example", Subject: "bench", MessageID: fmt.Sprintf("b%d@liaison.example", i), Raw: []byte(raw), CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		sink := &countingSink{}
		srv := smtp.NewServer(sink)
		srv.Domain = "sink.example"
		srv.AllowInsecureAuth = true
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go srv.Serve(ln)
		snd := &Sender{Store: s, Transport: &SMTPTransport{Addr: ln.Addr().String(), TLS: "none"}, Log: slog.New(slog.DiscardHandler),
			Now: func() time.Time { return t0 }}
		start := time.Now()
		sent, err := snd.Flush(ctx)
		elapsed := time.Since(start)
		srv.Close()
		if err != nil || sent != total || sink.mails.Load() != total {
			b.Fatalf("sent %d, server got %d, want %d: %v", sent, sink.mails.Load(), total, err)
		}
		rate := float64(total) / elapsed.Seconds()
		b.ReportMetric(rate, "mails/s")
		fmt.Printf("outbox to a local SMTP server: %d mails of %.1f KB in %.2fs: %.0f mails/s over %d connection(s) (reused for each batch of %d), each 250 committed before the next mail\n",
			total, float64(len(body))/1024, elapsed.Seconds(), rate, sink.conns.Load(), snd.Batch)
	}
}

// BenchmarkTicklerPass100k runs reminder passes over 100,000 open
// statements: the first pass (every statement planned, each with a due
// point caught up gets its reminder, as after an upgrade), a quiet pass a
// minute later (the scheduler's usual case) and the pass a day later.
func BenchmarkTicklerPass100k(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_STATEMENTS")); err == nil && v > 0 {
		total = v // a smaller run for profiling
	}
	now := time.Date(2027, 6, 1, 9, 30, 0, 0, time.UTC)
	for n := 0; n < b.N; n++ {
		s := newTestStore(b)
		ctx := context.Background()
		c := newComposer(b)
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := range total {
				st := &store.Statement{Direction: store.Incoming, State: store.StateOpen,
					From: store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"}, To: []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}},
					Title: "Benchmark statement " + strconv.Itoa(i), Purpose: "action", Submitter: "rapp@itu.example", Assignee: "alice@ccamp.example",
					ReceivedAt: now.Add(-time.Duration(i%365) * day), TechnicalContacts: []store.Contact{{Addr: "expert@vendor.example"}}}
				if i%4 != 0 {
					st.Deadline = now.Add(time.Duration(i%120-20) * day).Format("2006-01-02")
				}
				if err := tx.InsertStatement(st); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		tk := &Tickler{Store: s, Composer: c, Log: slog.New(slog.DiscardHandler), Schedule: DefaultSchedule()}
		for _, p := range []struct {
			name string
			at   time.Time
		}{{"first pass (catch-up)", now}, {"quiet pass a minute later", now.Add(time.Minute)}, {"daily pass a day later", now.Add(day)}} {
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			res, err := tk.Pass(ctx, p.at, false)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&m1)
			if err != nil {
				b.Fatal(err)
			}
			if res.Scanned != total {
				b.Fatalf("scanned %d, want %d", res.Scanned, total)
			}
			mails := 0
			for _, r := range res.Reminders {
				mails += 1 + len(r.Cc)
			}
			perK := elapsed.Seconds() * 1000 / float64(total) * 1000
			b.ReportMetric(perK, "ms/1000stmts")
			fmt.Printf("tickler %s over %d open statements: %.2fs (%.1f ms per 1,000 statements), %d reminders (%d mails) queued, %d plans new or changed; allocated %.0f MB, heap after %.0f MB, memory from the OS %.0f MB\n",
				p.name, total, elapsed.Seconds(), perK, len(res.Reminders), mails, res.Replanned,
				float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), float64(m1.HeapAlloc)/(1<<20), float64(m1.Sys)/(1<<20))
		}
	}
}
