package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"liaisond/token"
)

// BenchmarkCommandMail measures command mails end to end: 1,000 replies
// (status, note and deadline commands under a quoted notification) from
// 4 clients to the personal addresses of 100 statements, each taken over
// SMTP, authenticated, applied and committed with its events before the 250.
func BenchmarkCommandMail(b *testing.B) {
	const statements, total, clients = 100, 1000, 4
	for n := 0; n < b.N; n++ {
		d := startDaemon(b, discardSink(b), noRateLimits)
		d.stderr = &syncBuffer{}
		for i := 0; i < statements; i++ {
			if err := sendSMTP(d.smtpAddr, "rapp@itu.example", []string{"statements@liaison.example"}, benchSubmission(i)); err != nil {
				b.Fatal(err)
			}
		}
		keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
		if err != nil {
			b.Fatal(err)
		}
		cmds := []string{"status discussed at the interim", "note the editors have a draft", "deadline 2027-04-01"}
		msgs := make([]string, total)
		rcpts := make([]string, total)
		for i := range msgs {
			id := int64(i%statements + 1)
			rcpts[i] = keys.Address("ls", "liaison.example", id, "alice@ccamp.example")
			msgs[i] = fmt.Sprintf("From: Alice Chair <alice@ccamp.example>\r\nTo: %s\r\nSubject: Re: [LS-%d] New liaison statement\r\n"+
				"Message-ID: <cmd-%d@ccamp.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n\r\nAlice\r\n\r\n"+
				"On Thu, Nov 26, 2026 at 11:00 AM Liaison Statement Manager <statements@liaison.example> wrote:\r\n> A liaison statement has arrived.\r\n> close\r\n",
				rcpts[i], id, i, cmds[i%len(cmds)])
		}
		lat := make([]time.Duration, total)
		next := make(chan int, total)
		for i := range total {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := smtp.Dial(d.smtpAddr)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				defer c.Close()
				c.Hello("bench.example")
				for i := range next {
					err := func() error {
						if err := c.Mail("alice@ccamp.example", nil); err != nil {
							return err
						}
						if err := c.Rcpt(rcpts[i], nil); err != nil {
							return err
						}
						w, err := c.Data()
						if err != nil {
							return err
						}
						w.Write([]byte(msgs[i]))
						t0 := time.Now()
						err = w.Close()
						lat[i] = time.Since(t0)
						return err
					}()
					if err != nil {
						mu.Lock()
						firstErr = fmt.Errorf("command %d: %w", i, err)
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if firstErr != nil {
			b.Fatal(firstErr)
		}
		out, err := d.cli(b, "show", "-json", "1")
		if err != nil || strings.Count(out, `"type": "note"`) == 0 || !strings.Contains(out, `"deadline": "2027-04-01"`) {
			b.Fatalf("commands were not applied: %v\n%s", err, out)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50, p99 := lat[total/2], lat[total*99/100]
		rate := float64(total) / elapsed.Seconds()
		b.ReportMetric(rate, "cmds/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		fmt.Printf("command mail: %d replies (status/note/deadline under a quoted notification) to %d statements from %d clients in %.2fs: %.0f commands/s; DATA-end to 250 (authenticated, applied, committed): p50 %.1f ms, p99 %.1f ms\n",
			total, statements, clients, elapsed.Seconds(), rate, float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000)
		d.stop(b)
	}
}
