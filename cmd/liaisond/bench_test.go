package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"liaisond/internal/benchmail"

	"github.com/emersion/go-smtp"
)

// discardSink is a minimal SMTP server that accepts and drops mail: the
// smarthost for benchmarks, so that only liaisond's own work is measured.
func discardSink(b testing.TB) string {
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return discardSession{}, nil }))
	s.Domain = "sink.example"
	s.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln)
	b.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

type discardSession struct{}

func (discardSession) Reset()                               {}
func (discardSession) Logout() error                        { return nil }
func (discardSession) Mail(string, *smtp.MailOptions) error { return nil }
func (discardSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (discardSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

// benchSubmission is a ~50 KB statement with a PDF attachment; the PDF is
// different in every message so that deduplication flatters nothing.
func benchSubmission(i int) string {
	pdf := make([]byte, 36*1024)
	copy(pdf, "%PDF-1.4\n")
	rand.Read(pdf[16:])
	return string(benchmail.Submission(i, fmt.Sprintf("bench-%d-%d@itu.example", i, time.Now().UnixNano()), pdf))
}

// BenchmarkSMTPIngest submits 1,000 statements over SMTP from 4 clients to a
// running `liaisond serve` and reports statements per second (each one
// committed with its notification and receipt in the outbox before the 250),
// the latency from the end of DATA to the 250 reply, and peak RSS.
func BenchmarkSMTPIngest(b *testing.B) {
	const total, clients = 1000, 4
	msgs := make([]string, total)
	size := 0
	for i := range msgs {
		msgs[i] = benchSubmission(i)
		size += len(msgs[i])
	}
	for n := 0; n < b.N; n++ {
		d := startDaemon(b, discardSink(b), noRateLimits)
		lat, elapsed, err := submitAll(d.smtpAddr, msgs, clients)
		if err != nil {
			b.Fatal(err)
		}
		out, err := d.cli(b, "list", "-json")
		if err != nil || strings.Count(out, `"ref": "LS-`) != total {
			b.Fatalf("want %d statements stored: %v", total, err)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50, p99 := lat[total/2], lat[total*99/100]
		rate := float64(total) / elapsed.Seconds()
		rss := peakRSSMB()
		d.stop(b)
		all, received := daemonCommits(b, d)
		fsyncs := daemonFsyncs(d)
		b.ReportMetric(rate, "stmts/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(rss, "peak-RSS-MB")
		b.ReportMetric(100*float64(fsyncs)/total, "fsyncs/100msg")
		fmt.Printf("smtp ingest: %d statements of %.0f KB avg (PDF attached) from %d clients in %.2fs: %.0f statements/s; DATA-end to 250 (committed and on disk, mails queued): p50 %.1f ms, p99 %.1f ms; peak RSS %.0f MB; per 100 received messages %.1f group commits and %.1f fsyncs of the WAL, the outbox sender's run included (%d database commits in all)\n",
			total, float64(size)/total/1024, clients, elapsed.Seconds(), rate, float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, rss,
			100*float64(received)/total, 100*float64(fsyncs)/total, all)
	}
}

// submitAll sends msgs over SMTP to addr from the given number of clients
// at once, each taking the next message when its last one got its reply. It
// returns the latency from the end of DATA to the reply of each message and
// the time until the last reply.
//
// The clients speak SMTP over plain connections and send each message as
// bytes made ready before the clock starts (dataWire). The client runs in
// the same process and on the same two cores as the server it measures
// (liaisond in process, Mailpit as a child), so a client that dot-stuffs a
// byte at a time (net/textproto's DotWriter, which go-smtp's client uses:
// about 0.5 ms of CPU per 54 KB message here) takes that CPU from the server
// under test; a sending MTA on another machine would not.
func submitAll(addr string, msgs []string, clients int) ([]time.Duration, time.Duration, error) {
	wires := make([][]byte, len(msgs))
	for i, m := range msgs {
		wires[i] = dataWire(m)
	}
	lat := make([]time.Duration, len(msgs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	next := make(chan int, len(msgs))
	for i := range msgs {
		next <- i
	}
	close(next)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialSubmitter(addr)
			if err != nil {
				fail(err)
				return
			}
			defer c.close()
			for i := range next {
				d, err := c.send("rapp@itu.example", "statements@liaison.example", wires[i])
				lat[i] = d
				if err != nil {
					fail(fmt.Errorf("message %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start), firstErr
}

// dataWire is a message as the DATA command sends it (RFC 5321 4.5.2):
// lines ended by CRLF, a line that starts with "." given a second one, and
// no final "." line (submitter.send adds it).
func dataWire(msg string) []byte {
	out := make([]byte, 0, len(msg)+len(msg)/32)
	for len(msg) > 0 {
		line, rest, found := strings.Cut(msg, "\n")
		line = strings.TrimSuffix(line, "\r")
		if !found && line == "" {
			break
		}
		if strings.HasPrefix(line, ".") {
			out = append(out, '.')
		}
		out = append(out, line...)
		out = append(out, '\r', '\n')
		msg = rest
	}
	return out
}

// submitter is one SMTP client connection of submitAll.
type submitter struct {
	conn net.Conn
	text *textproto.Conn
}

func dialSubmitter(addr string) (*submitter, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &submitter{conn: conn, text: textproto.NewConn(conn)}
	if _, _, err := c.text.ReadResponse(220); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if err := c.cmd(250, "EHLO bench.example"); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *submitter) cmd(want int, line string) error {
	if err := c.text.PrintfLine("%s", line); err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	if _, _, err := c.text.ReadResponse(want); err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	return nil
}

// send sends one message, wire being its DATA (dataWire), and returns the
// time from the final "." to the reply.
func (c *submitter) send(from, rcpt string, wire []byte) (time.Duration, error) {
	if err := c.cmd(250, "MAIL FROM:<"+from+">"); err != nil {
		return 0, err
	}
	if err := c.cmd(250, "RCPT TO:<"+rcpt+">"); err != nil {
		return 0, err
	}
	if err := c.cmd(354, "DATA"); err != nil {
		return 0, err
	}
	if _, err := c.text.W.Write(wire); err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	if err := c.text.W.Flush(); err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	t0 := time.Now()
	if err := c.cmd(250, "."); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func (c *submitter) close() {
	c.cmd(221, "QUIT")
	c.conn.Close()
}

// daemonCommits reads the database commits a stopped daemon logged: all of
// them, and those of received mail (the fsyncs are counted apart: daemonFsyncs).
func daemonCommits(b testing.TB, d *daemon) (all, received int64) {
	log := d.stderr.String()
	i := strings.LastIndex(log, "database_commits=")
	if i < 0 {
		return -1, -1 // a liaisond that does not count them
	}
	fmt.Sscanf(log[i:], "database_commits=%d received_mail_commits=%d", &all, &received)
	return all, received
}

// daemonLockMS reads how long a stopped daemon's received mail held the
// write lock (-1 for a liaisond that does not count it).
func daemonLockMS(d *daemon) int64 { return daemonLogCount(d, "received_mail_lock_ms") }

// daemonFsyncs reads the fsyncs of the WAL a stopped daemon logged (-1 for a
// liaisond that does not count them).
func daemonFsyncs(d *daemon) int64 { return daemonLogCount(d, "wal_fsyncs") }

// daemonLogCount reads the last value of key=N in a stopped daemon's log,
// or -1.
func daemonLogCount(d *daemon, key string) int64 {
	log := d.stderr.String()
	i := strings.LastIndex(log, key+"=")
	if i < 0 {
		return -1
	}
	var n int64
	fmt.Sscanf(log[i+len(key)+1:], "%d", &n)
	return n
}

// benchDocSubmission is benchSubmission with a word-processor document
// where the other has its PDF: the other half of the Mailpit comparison.
func benchDocSubmission(i int) string {
	return strings.NewReplacer("application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"ls.pdf", "ls.docx", "<bench-", "<bench-doc-").Replace(benchSubmission(i))
}

// BenchmarkVersusMailpit sends the same 400 messages (~54 KB, half with a
// PDF, half with a Word document) from 4 SMTP clients to Mailpit v1.33.1 and to liaisond, one after the
// other, and compares the time until all are committed and visible: for
// Mailpit until its API counts them all, for liaisond until the last 250
// (each one is given only after the message, its statement and its mails
// in the outbox are committed and the WAL fsynced, as synchronous=FULL
// would, so the statements are in the database every reader sees); the
// statement count is checked after. It runs versusRounds such pairs and
// reports the medians.
func BenchmarkVersusMailpit(b *testing.B) {
	const total, clients = 400, 4
	msgs := make([]string, total)
	for i := range msgs {
		if i%2 == 0 {
			msgs[i] = benchSubmission(i)
		} else {
			msgs[i] = benchDocSubmission(i)
		}
	}
	for n := 0; n < b.N; n++ {
		// Rounds alternate Mailpit and liaisond: on a shared machine one
		// pair can differ by a third from the next, so the figures are
		// the medians of the rounds (each round is printed too).
		var rounds []versusRound
		for round := range versusRounds {
			mp := startMailpit(b)
			mpCPU0, clientCPU0 := processCPU(b, mp.pid), selfCPU()
			start := time.Now()
			if _, _, err := submitAll(mp.SMTPAddr, msgs, clients); err != nil {
				b.Fatal(err)
			}
			for {
				var res struct {
					Total int `json:"messages_count"`
				}
				mp.get(b, "/api/v1/messages?limit=1", &res)
				if res.Total >= total {
					break
				}
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("mailpit holds %d messages after 5 minutes, want %d", res.Total, total)
				}
				time.Sleep(5 * time.Millisecond)
			}
			mailpitTime := time.Since(start)
			// CPU per message, the clients' included: Mailpit's process and
			// this one (the clients alone) until Mailpit's API counts them all;
			// this one (the daemon and the clients) until liaisond's last 250.
			mpCPU := processCPU(b, mp.pid) - mpCPU0 + selfCPU() - clientCPU0

			d := startDaemon(b, discardSink(b), noRateLimits)
			lCPU0 := selfCPU()
			lStart := time.Now()
			_, liaisondTime, err := submitAll(d.smtpAddr, msgs, clients)
			if err != nil {
				b.Fatal(err)
			}
			lCPU := selfCPU() - lCPU0
			mails, delivered := waitOutboxDrained(b, d, lStart)
			out, err := d.cli(b, "list", "-json")
			if err != nil || strings.Count(out, `"ref": "LS-`) != total {
				b.Fatalf("want %d statements stored: %v", total, err)
			}
			d.stop(b)
			_, received := daemonCommits(b, d)
			fsyncs, lockMS := daemonFsyncs(d), daemonLockMS(d)
			mpRate, lRate := total/mailpitTime.Seconds(), total/liaisondTime.Seconds()
			rounds = append(rounds, versusRound{mpRate, lRate, msPerMessage(mpCPU, total), msPerMessage(lCPU, total)})
			fmt.Printf("versus mailpit (round %d of %d): %d messages (~54 KB, half with a PDF, half with a .docx) from %d clients: Mailpit v1.33.1 %.2fs (%.0f msg/s) until its API counts them all; liaisond %.2fs (%.0f msg/s) until the last 250, each on disk (fsynced WAL) with its statement and mails in the outbox (%d group commits, %d fsyncs in the daemon's life, the write lock held %.2f ms per message); liaisond/Mailpit %.2fx; CPU per message with the clients': Mailpit %.2f ms, liaisond %.2f ms; liaisond's %d mails (notifications, receipts) all delivered to the smarthost %.2fs after the first message\n",
				round+1, versusRounds, total, clients, mailpitTime.Seconds(), mpRate, liaisondTime.Seconds(), lRate, received, fsyncs, float64(lockMS)/total, lRate/mpRate, msPerMessage(mpCPU, total), msPerMessage(lCPU, total), mails, delivered.Seconds())
		}
		med := func(f func(versusRound) float64) float64 {
			vs := make([]float64, len(rounds))
			for i, r := range rounds {
				vs[i] = f(r)
			}
			slices.Sort(vs)
			return vs[len(vs)/2]
		}
		ratio := med(func(r versusRound) float64 { return r.liaisond / r.mailpit })
		b.ReportMetric(med(func(r versusRound) float64 { return r.mailpit }), "mailpit-msg/s")
		b.ReportMetric(med(func(r versusRound) float64 { return r.liaisond }), "liaisond-msg/s")
		b.ReportMetric(ratio, "x-mailpit")
		b.ReportMetric(med(func(r versusRound) float64 { return r.mailpitCPU }), "mailpit-cpu-ms/msg")
		b.ReportMetric(med(func(r versusRound) float64 { return r.liaisondCPU }), "liaisond-cpu-ms/msg")
		fmt.Printf("versus mailpit, median of %d rounds: Mailpit %.0f msg/s, liaisond %.0f msg/s, liaisond/Mailpit %.2fx (rounds: %s); CPU per message Mailpit %.2f ms, liaisond %.2f ms\n",
			len(rounds), med(func(r versusRound) float64 { return r.mailpit }), med(func(r versusRound) float64 { return r.liaisond }), ratio,
			roundRatios(rounds), med(func(r versusRound) float64 { return r.mailpitCPU }), med(func(r versusRound) float64 { return r.liaisondCPU }))
	}
}

// versusRounds is how many Mailpit/liaisond pairs BenchmarkVersusMailpit runs.
const versusRounds = 3

// versusRound is one pair of BenchmarkVersusMailpit: messages/s and CPU
// ms per message of each.
type versusRound struct{ mailpit, liaisond, mailpitCPU, liaisondCPU float64 }

func roundRatios(rounds []versusRound) string {
	var parts []string
	for _, r := range rounds {
		parts = append(parts, fmt.Sprintf("%.2fx", r.liaisond/r.mailpit))
	}
	return strings.Join(parts, ", ")
}

// selfCPU is the CPU time this process has used (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the CPU time (user and system) process pid has used, from
// /proc/pid/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func processCPU(b testing.TB, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("reading the CPU time of process %d: %v", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("reading the CPU time of process %d: %q", pid, data)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func msPerMessage(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(n)
}

// noRateLimits lets a benchmark submit faster than DESIGN 7's defaults allow.
const noRateLimits = "[limits]\nstatements_per_hour = 0\nstatements_per_sender_per_hour = 0\n"

// peakRSSMB reads the process's peak resident set size (VmHWM) from /proc.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// waitOutboxDrained waits until the daemon's outbox holds no mail queued or
// being sent, and returns how many mails it holds and the time since start.
func waitOutboxDrained(b testing.TB, d *daemon, start time.Time) (int, time.Duration) {
	b.Helper()
	for {
		out, err := d.cli(b, "status", "-json")
		if err != nil {
			b.Fatalf("status: %v: %s", err, out)
		}
		var st statusJSON
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			b.Fatal(err)
		}
		if st.Outbox["queued"]+st.Outbox["sending"] == 0 {
			n := 0
			for _, c := range st.Outbox {
				n += c
			}
			return n, time.Since(start)
		}
		if time.Since(start) > 10*time.Minute {
			b.Fatalf("outbox not drained after 10 minutes: %v", st.Outbox)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDataWire(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\n.b\r\n..\r\n.\r\n", "a\r\n..b\r\n...\r\n..\r\n"},
		{".first\nlast", "..first\r\nlast\r\n"},
		{"a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
	} {
		if got := string(dataWire(tc.in)); got != tc.want {
			t.Errorf("dataWire(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
