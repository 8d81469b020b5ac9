package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"liaisond/internal/dovecottest"
	"liaisond/store"
)

// BenchmarkIMAPDrain: a Dovecot mailbox holds 2,000 statements (~50 KB each,
// a PDF attached); `liaisond serve` starts and takes them all (each committed
// with its notifications queued, then moved to processed). Reports messages
// per second from the daemon's start to the last move.
func BenchmarkIMAPDrain(b *testing.B) {
	const total = 2000
	for n := 0; n < b.N; n++ {
		dc := dovecottest.Start(b)
		size := 0
		dc.WriteMaildir(b, "INBOX", total, func(i int) []byte {
			m := []byte(benchSubmission(i))
			size += len(m)
			return m
		})
		c := dc.Client(b)
		if got := dovecottest.Count(b, c, "INBOX"); got != total {
			b.Fatalf("INBOX holds %d, want %d", got, total)
		}
		start := time.Now()
		d := startDaemon(b, discardSink(b), imapConfig(b, dc, "poll_interval = \"1h\""))
		for dovecottest.Count(b, c, "processed") < total {
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		if got := statementCount(b, d.config); got != total {
			b.Fatalf("%d statements, want %d", got, total)
		}
		rate := float64(total) / elapsed.Seconds()
		b.ReportMetric(rate, "msgs/s")
		fmt.Printf("imap drain: %d statements of %.0f KB avg from a Dovecot mailbox in %.2fs: %.0f messages/s (each committed with its mails queued, then UID MOVEd to processed); peak RSS %.0f MB\n",
			total, float64(size)/total/1024, elapsed.Seconds(), rate, peakRSSMB())
		d.stop(b)
	}
}

// BenchmarkIMAPPoll: the cost of one poll that finds 10 new messages in a
// mailbox that also holds N old ones already taken (left in place:
// processed_folder = ""), for N = 1,000 and 100,000: IMAP command lines
// sent, bytes read, wall time. The cost must not grow with N.
func BenchmarkIMAPPoll(b *testing.B) {
	for n := 0; n < b.N; n++ {
		for _, old := range []int{1000, 100_000} {
			r := imapPollCost(b, old, 10)
			b.ReportMetric(float64(r.lines), fmt.Sprintf("cmds-%dold", old))
			b.ReportMetric(float64(r.read), fmt.Sprintf("bytes-%dold", old))
			fmt.Printf("imap poll: mailbox of %d old + 10 new messages: %d IMAP command lines, %d bytes read, %.1f ms wall (10 stored and flagged); "+
				"next poll, nothing new: %d command lines, %d bytes read, %.1f ms wall\n",
				old, r.lines, r.read, ms(r.wall), r.emptyLines, r.emptyRead, ms(r.emptyWall))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type pollCost struct {
	lines, read, emptyLines, emptyRead int64
	wall, emptyWall                    time.Duration
}

func imapPollCost(b *testing.B, old, fresh int) (r pollCost) {
	dc := dovecottest.Start(b)
	dc.WriteMaildir(b, "INBOX", old, func(i int) []byte {
		return []byte(fmt.Sprintf("From: old%d@itu.example\r\nTo: statements@liaison.example\r\nSubject: old %d\r\nMessage-ID: <old-%d@itu.example>\r\n\r\nAn old message.\r\n", i, i, i))
	})
	c := dc.Client(b)
	sel, err := c.Select("INBOX", nil).Wait() // Dovecot indexes the Maildir here (not measured)
	if err != nil {
		b.Fatal(err)
	}
	if sel.NumMessages != uint32(old) {
		b.Fatalf("INBOX holds %d, want %d", sel.NumMessages, old)
	}
	c.Unselect().Wait()

	cfgPath := writeBenchConfig(b, imapConfig(b, dc, "processed_folder = \"\"\npoll_interval = \"1h\""))
	cfg := mustConfig(b, cfgPath)
	a, err := openApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.close()
	p, err := a.imapPoller()
	if err != nil {
		b.Fatal(err)
	}
	// The old messages were taken before: the store says so.
	err = a.store.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutIMAPState(&store.IMAPState{Mailbox: p.Config.Key(), UIDValidity: sel.UIDValidity, LastUID: uint32(sel.UIDNext) - 1, UpdatedAt: time.Now()})
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < fresh; i++ {
		dovecottest.Append(b, c, "INBOX", []byte(benchSubmission(100_000_000+i)))
	}
	var nRead, nLines atomic.Int64
	p.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return dovecottest.CountingConn{Conn: conn, BytesRead: &nRead, Lines: &nLines}, nil
	}
	s, err := p.Open(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	nRead.Store(0)
	nLines.Store(0)
	t0 := time.Now()
	st, err := s.Drain(context.Background())
	r.wall = time.Since(t0)
	if err != nil || st.Stored != fresh || st.Seen != fresh {
		b.Fatalf("poll: %+v %v", st, err)
	}
	r.lines, r.read = nLines.Swap(0), nRead.Swap(0)
	t0 = time.Now()
	st, err = s.Drain(context.Background())
	r.emptyWall = time.Since(t0)
	if err != nil || st.Seen != 0 {
		b.Fatalf("empty poll: %+v %v", st, err)
	}
	r.emptyLines, r.emptyRead = nLines.Load(), nRead.Load()
	if got := statementCount(b, cfgPath); got != fresh {
		b.Fatalf("%d statements, want %d", got, fresh)
	}
	return r
}

func writeBenchConfig(b *testing.B, extra string) string {
	dir := b.TempDir()
	path := dir + "/liaisond.toml"
	cfg := "domain = \"liaison.example\"\ndata_dir = \"data\"\npublic_url = \"http://liaison.example\"\n[smtp]\nlisten = \"\"\n[http]\nlisten = \"\"\n" + extra
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
