package main

import (
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"liaisond/store"
)

// delivered is one mail the file transport wrote (one file per envelope
// recipient, DESIGN 9): what its reader sees.
type delivered struct {
	File, Kind, Rcpt string
	Subject, ReplyTo string
	To, Cc           []string
	Body             string
}

// fileMail reads the mails written into data/sent since the last call,
// after the outbox has sent everything queued.
type fileMail struct {
	d    *daemon
	seen map[string]bool
}

func newFileMail(d *daemon) *fileMail { return &fileMail{d: d, seen: map[string]bool{}} }

// fresh waits until nothing is left to send and returns the new mails,
// in the order they were queued.
func (f *fileMail) fresh(t testing.TB) []delivered {
	t.Helper()
	waitOutbox(t, f.d.config, "settled", func(ob []store.OutboxJSON) bool {
		for _, m := range ob {
			if m.State == store.OutboxQueued || m.State == store.OutboxSending {
				return false
			}
		}
		return true
	}, f.d.stderr.String)
	files, _ := filepath.Glob(filepath.Join(f.d.dir, "data", "sent", "*.eml"))
	sort.Strings(files)
	var out []delivered
	for _, name := range files {
		if f.seen[name] {
			continue
		}
		f.seen[name] = true
		out = append(out, readDelivered(t, name))
	}
	return out
}

func readDelivered(t testing.TB, name string) delivered {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var r io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(m.Body)
	}
	body, _ := io.ReadAll(r)
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	list := func(h string) []string {
		as, _ := m.Header.AddressList(h)
		var out []string
		for _, a := range as {
			out = append(out, strings.ToLower(a.Address))
		}
		return out
	}
	kind := ""
	if parts := strings.SplitN(filepath.Base(name), "-", 3); len(parts) == 3 {
		kind = parts[1]
	}
	rt := ""
	if rts := list("Reply-To"); len(rts) > 0 {
		rt = rts[0]
	}
	return delivered{File: name, Kind: kind, Rcpt: strings.ToLower(m.Header.Get("Delivered-To")), Subject: subj, ReplyTo: rt,
		To: list("To"), Cc: list("Cc"), Body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

// about keeps the mails whose subject carries one of the references.
func about(ms []delivered, refs ...string) []delivered {
	var out []delivered
	for _, m := range ms {
		for _, r := range refs {
			if strings.Contains(m.Subject, "["+r+"]") {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// to returns the mails delivered to rcpt.
func to(ms []delivered, rcpt string) []delivered {
	var out []delivered
	for _, m := range ms {
		if m.Rcpt == rcpt {
			out = append(out, m)
		}
	}
	return out
}

// sendCommand sends a plain-text command mail over SMTP, as a user's client would.
func sendCommand(t testing.TB, d *daemon, from, rcpt, subject, text string) {
	t.Helper()
	raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <%d.%s>\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from, rcpt, subject, time.Now().UnixNano(), strings.ReplaceAll(from, "@", ".cmd@"), time.Now().UTC().Format(time.RFC1123Z),
		strings.ReplaceAll(text, "\n", "\r\n"))
	if err := sendSMTP(d.smtpAddr, from, []string{rcpt}, raw); err != nil {
		t.Fatalf("command mail from %s: %v", from, err)
	}
}

// lifeStep is one step of a statement's life and the mails it caused.
type lifeStep struct {
	Name  string
	Mails []delivered
}

// mailTable renders, per person, how many mails each step sent them.
func mailTable(steps []lifeStep) string {
	count := map[string][]int{}
	for i, s := range steps {
		for _, m := range s.Mails {
			if count[m.Rcpt] == nil {
				count[m.Rcpt] = make([]int, len(steps))
			}
			count[m.Rcpt][i]++
		}
	}
	people := make([]string, 0, len(count))
	for p := range count {
		people = append(people, p)
	}
	sort.Strings(people)
	var b strings.Builder
	b.WriteString("| person |")
	for _, s := range steps {
		b.WriteString(" " + s.Name + " |")
	}
	b.WriteString(" total |\n|---|")
	for range steps {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	totals := make([]int, len(steps)+1)
	for _, p := range people {
		fmt.Fprintf(&b, "| %s |", p)
		sum := 0
		for i, n := range count[p] {
			fmt.Fprintf(&b, " %d |", n)
			sum += n
			totals[i] += n
		}
		totals[len(steps)] += sum
		fmt.Fprintf(&b, " %d |\n", sum)
	}
	b.WriteString("| all |")
	for _, n := range totals {
		fmt.Fprintf(&b, " %d |", n)
	}
	b.WriteString("\n")
	return b.String()
}

// TestLifeMailFigure counts the mails per person over one statement's
// life (arrival, reminder, reply, approval, a reminder due after the
// reply, close), through run() over
// SMTP with the file transport. It runs unchanged on older trees (where a
// reply goes out without approval) so the figure can be compared; with
// LIAISOND_FIGURE=path it writes the table there.
func TestLifeMailFigure(t *testing.T) {
	clock := &testClock{now: time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)}
	d := startDaemon(t, "", "[reminders]\nscan_interval = \"1s\"\n", clock.hook)
	fm := newFileMail(d)
	var steps []lifeStep
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	arrival := fm.fresh(t)
	steps = append(steps, lifeStep{"arrival", arrival})
	aliceAddr := ""
	for _, m := range to(arrival, "alice@ccamp.example") {
		aliceAddr = m.ReplyTo
	}
	clock.Set(time.Date(2027, 1, 24, 9, 0, 0, 0, time.UTC))
	var reminder []delivered
	for i := 0; i < 300 && len(reminder) == 0; i++ {
		time.Sleep(100 * time.Millisecond)
		reminder = append(reminder, fm.fresh(t)...)
	}
	steps = append(steps, lifeStep{"reminder", reminder})
	sendCommand(t, d, "alice@ccamp.example", aliceAddr, "[LS-1] New liaison statement", "reply\n\nCCAMP thanks SG15 and will take the work on.")
	replied := fm.fresh(t)
	steps = append(steps, lifeStep{"reply", replied})
	var approval []delivered
	for _, m := range to(replied, "carol@ietf.example") {
		if strings.Contains(m.Subject, "Approval needed") {
			sendCommand(t, d, "carol@ietf.example", m.ReplyTo, m.Subject, "approve")
			approval = fm.fresh(t)
		}
	}
	steps = append(steps, lifeStep{"approval", approval})
	// A week later, the day before the deadline: a reminder is due unless
	// the reply settled the action. Three scans (scan_interval 1s) pass.
	clock.Set(time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC))
	time.Sleep(3500 * time.Millisecond)
	steps = append(steps, lifeStep{"reminder after reply", fm.fresh(t)})
	sendCommand(t, d, "alice@ccamp.example", aliceAddr, "[LS-1] New liaison statement", "close answered")
	steps = append(steps, lifeStep{"close", fm.fresh(t)})
	if st := d.show(t, 1); st.State != "closed" || st.RepliedAt == nil {
		t.Fatalf("LS-1 is %s, replied_at %v: the life did not run through", st.State, st.RepliedAt)
	}
	table := mailTable(steps)
	t.Logf("mails per person over LS-1's life:\n%s", table)
	if path := os.Getenv("LIAISOND_FIGURE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
