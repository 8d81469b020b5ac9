package main

import (
	"context"
	"encoding/json"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"liaisond/store"
	"liaisond/token"
)

// testClock is a settable clock for a daemon started through run().
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *testClock) hook(ctx context.Context) context.Context { return withClock(ctx, c.Now) }

// The tickler recipients for the e2e submission: the notification's, less the alias.
var ticklerRcpts = []string{"alice@ccamp.example", "expert1@vendor.example", "expert2@op.example", "carol@ietf.example", "rick@ietf.example",
	"dan@lm.example", "statements@ietf.example", "bob@ccamp.example", "ccamp-interest@ietf.example"}

// TestTicklerServe: `liaisond serve` with an injected clock sends the
// reminders of DESIGN 5 through a real SMTP server (Mailpit), each due
// point once, to the notification's recipients less the alias.
func TestTicklerServe(t *testing.T) {
	mp := startMailpit(t)
	clock := &testClock{now: time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)}
	d := startDaemon(t, mp.SMTPAddr, "[reminders]\nscan_interval = \"1s\"\ndigest = true\n", clock.hook)
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatalf("submission refused: %v", err)
	}
	mp.waitMessages(t, 12) // the notification and the receipt
	keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	// Waits until Mailpit holds want reminders with subject prefix, and checks them.
	waitTicklers := func(prefix string, want int) {
		t.Helper()
		var got []mpMessage
		for i := 0; i < 600; i++ {
			got = got[:0]
			for _, m := range mp.messages(t) {
				if strings.HasPrefix(m.Subject, prefix) {
					got = append(got, m)
				}
			}
			if len(got) >= want {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(got) != want {
			t.Fatalf("%d mails %q, want %d\n%s", len(got), prefix, want, d.stderr.String())
		}
		seen := map[string]bool{}
		for _, m := range got {
			if to := addrs(m.To); !equal(to, ticklerRcpts[:1]) {
				t.Errorf("tickler To = %v", to)
			}
			if cc := addrs(m.Cc); !equal(cc, ticklerRcpts[1:]) {
				t.Errorf("tickler Cc = %v, want %v (no alias)", cc, ticklerRcpts[1:])
			}
			h, err := mail.ReadMessage(strings.NewReader(mp.raw(t, m.ID)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.Header.Get("References"), "ls-otn-1@itu.example") || h.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("tickler headers: %v", h.Header)
			}
			recipientByToken(t, keys, h.Header.Get("Reply-To"), ticklerRcpts, seen)
		}
		if len(seen) != len(ticklerRcpts) {
			t.Errorf("ticklers went to %v", keysOf(seen))
		}
	}

	clock.Set(time.Date(2027, 1, 24, 9, 0, 0, 0, time.UTC)) // 7 days before the deadline
	waitTicklers("[LS-1] Reminder: deadline in 7 days: Response to LS on OTN control", len(ticklerRcpts))
	body := mp.text(t, mp.messages(t)[0].ID)
	for _, want := range []string{"is 2027-01-31, in 7 days", "What is asked: For Action", "http://liaison.example/ls/1"} {
		if !strings.Contains(body, want) {
			t.Errorf("tickler lacks %q:\n%s", want, body)
		}
	}
	// Down over -3 and -1 (nothing passes in between): one reminder, the latest.
	clock.Set(time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC))
	waitTicklers("[LS-1] Reminder: deadline tomorrow:", len(ticklerRcpts))
	clock.Set(time.Date(2027, 2, 8, 9, 0, 0, 0, time.UTC))
	waitTicklers("[LS-1] Reminder: deadline passed 8 days ago:", len(ticklerRcpts))
	// The daily digest (digest = true): the liaison manager of ITU-T SG15
	// gets the overdue statement, once; none came while nothing was overdue.
	var digests []mpMessage
	for i := 0; i < 600 && len(digests) == 0; i++ {
		for _, m := range mp.messages(t) {
			if strings.HasPrefix(m.Subject, "Overdue liaison statements") {
				digests = append(digests, m)
			}
		}
		if len(digests) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(digests) != 1 || digests[0].Subject != "Overdue liaison statements on 2027-02-08: 1" || !equal(addrs(digests[0].To), []string{"dan@lm.example"}) {
		t.Errorf("digests: %+v", digests)
	} else if body := mp.text(t, digests[0].ID); !strings.Contains(body, "LS-1  Response to LS on OTN control") || !strings.Contains(body, "(8 days overdue)") {
		t.Errorf("digest:\n%s", body)
	}

	// The history says so; -7, -1 and +7 each sent once, the rest skipped.
	out, err := d.cli(t, "show", "-json", "LS-1")
	if err != nil {
		t.Fatal(err, out)
	}
	var st store.StatementJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	var reminders []string
	for _, ev := range st.Events {
		if ev.Type == store.EventReminder {
			reminders = append(reminders, ev.Text)
		}
	}
	want := []string{"reminder (7 day(s) before the deadline) sent to alice@ccamp.example",
		"reminder (1 day(s) before the deadline) sent to alice@ccamp.example", "reminder (7 day(s) overdue) sent to alice@ccamp.example"}
	if !equal(reminders, want) {
		t.Errorf("reminder events %q, want %q", reminders, want)
	}
	// Every due point sent is sent once: the earlier subjects did not come again.
	waitTicklers("[LS-1] Reminder: deadline in 7 days:", len(ticklerRcpts))
}

// TestTickleCLI: `liaisond tickle -now -dry-run` prints what it would send
// and changes nothing; without -dry-run it queues each due reminder once.
func TestTickleCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "liaisond.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\npublic_url = \"http://liaison.example\"\n")
	msg := writeFile(t, dir, "ls.eml", submission)
	if out, errOut, code := runCLI(t, "", "ingest", "-config", cfg, "-no-send", msg); code != 0 {
		t.Fatalf("ingest: %d\n%s%s", code, out, errOut)
	}
	tickle := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, "", append([]string{"tickle", "-config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("tickle %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	ticklers := func() int {
		out, _, code := runCLI(t, "", "outbox", "-config", cfg, "-json")
		if code != 0 {
			t.Fatal(out)
		}
		var ob []store.OutboxJSON
		json.Unmarshal([]byte(out), &ob)
		n := 0
		for _, m := range ob {
			if m.Kind == "tickler" {
				n++
				if m.Ref != "LS-1" || m.State != "queued" {
					t.Errorf("tickler %+v", m)
				}
			}
		}
		return n
	}
	out := tickle("-now", "2027-01-10T12:00:00Z", "-dry-run")
	if !strings.Contains(out, "0 reminder(s)") || !strings.Contains(out, "next due point 2027-01-17T08:00:00Z") {
		t.Errorf("early pass:\n%s", out)
	}
	out = tickle("-now", "2027-01-24T09:00:00Z", "-dry-run")
	for _, want := range []string{"would send LS-1: reminder 2027-01-31/-7, 7 day(s) before the deadline (1 earlier due point(s) skipped)",
		"to: alice@ccamp.example", "cc: " + strings.Join(ticklerRcpts[1:], ", "), "1 open statement(s), 1 reminder(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := ticklers(); n != 0 {
		t.Fatalf("a dry run queued %d ticklers", n)
	}
	out = tickle("-now", "2027-01-24T09:00:00Z", "-no-send")
	if !strings.Contains(out, "queued LS-1: reminder 2027-01-31/-7") || ticklers() != len(ticklerRcpts) {
		t.Fatalf("pass:\n%s\n%d ticklers queued", out, ticklers())
	}
	out = tickle("-now", "2027-01-24T10:00:00Z", "-no-send")
	if !strings.Contains(out, "0 reminder(s)") || ticklers() != len(ticklerRcpts) {
		t.Fatalf("second pass sent again:\n%s", out)
	}
	// Without -no-send the reminders are delivered (here: as .eml files).
	out = tickle("-now", "2027-01-28T09:00:00Z")
	if !strings.Contains(out, "queued LS-1: reminder 2027-01-31/-3") || !strings.Contains(out, "mail(s) sent") {
		t.Errorf("pass with delivery:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "data", "sent", "*-tickler-*.eml"))
	if len(files) != 2*len(ticklerRcpts) {
		t.Errorf("%d tickler files, want %d", len(files), 2*len(ticklerRcpts))
	}
	if _, errOut, code := runCLI(t, "", "tickle", "-config", cfg, "-now", "next tuesday"); code != exitUsage || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad -now: exit %d, %s", code, errOut)
	}
	bad := writeFile(t, dir, "bad.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n[reminders]\nhour = 25\nbefore_deadline_days = [7, -1]\nscan_interval = \"0s\"\n")
	out, _, code := runCLI(t, "", "check", "-config", bad)
	if code != exitConfigErr {
		t.Errorf("bad [reminders]: exit %d", code)
	}
	for _, key := range []string{"reminders.hour", "reminders.before_deadline_days", "reminders.scan_interval"} {
		if !strings.Contains(out, key) {
			t.Errorf("check does not name %s:\n%s", key, out)
		}
	}
}
