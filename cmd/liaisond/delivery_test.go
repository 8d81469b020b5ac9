package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"liaisond/store"
)

// faultSink is a real SMTP server (go-smtp) that fails on command and
// counts what it accepted: the smarthost of the delivery fault tests.
type faultSink struct {
	addr string
	srv  *smtp.Server

	mu sync.Mutex
	// rcptReply answers RCPT TO for the try-th time rcpt is offered; nil accepts.
	rcptReply func(rcpt string, try int) *smtp.SMTPError
	tries     map[string]int
	// holdRcpt, when > 0, makes the holdRcpt-th RCPT TO wait until release
	// is closed (held is closed when it starts waiting).
	holdRcpt, rcpts int
	// holdData, when > 0, makes the holdData-th DATA take the message, then
	// wait until release before its 250: the message is accepted, and the
	// client has not seen so yet.
	holdData, datas int
	held            chan struct{}
	release         chan struct{}
	got             []sunk
}

type sunk struct{ Rcpt, MessageID, Subject string }

// startFaultSink listens on addr ("" for any free port).
func startFaultSink(t testing.TB, addr string) *faultSink {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	f := &faultSink{tries: map[string]int{}, held: make(chan struct{}), release: make(chan struct{})}
	f.srv = smtp.NewServer(f)
	f.srv.Domain = "sink.example"
	f.srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func (f *faultSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &faultSession{f: f}, nil }

type faultSession struct {
	f    *faultSink
	rcpt []string
}

func (s *faultSession) Reset()                               { s.rcpt = nil }
func (s *faultSession) Logout() error                        { return nil }
func (s *faultSession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	f := s.f
	f.mu.Lock()
	f.rcpts++
	hold := f.holdRcpt > 0 && f.rcpts == f.holdRcpt
	f.mu.Unlock()
	if hold {
		close(f.held)
		<-f.release
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "held"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[to]++
	if f.rcptReply != nil {
		if e := f.rcptReply(to, f.tries[to]); e != nil {
			return e
		}
	}
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *faultSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, m.Body)
	s.f.mu.Lock()
	for _, rc := range s.rcpt {
		s.f.got = append(s.f.got, sunk{Rcpt: rc, MessageID: m.Header.Get("Message-Id"), Subject: decodeHeader(m.Header.Get("Subject"))})
	}
	s.f.datas++
	hold := s.f.holdData > 0 && s.f.datas == s.f.holdData
	s.f.mu.Unlock()
	if hold {
		close(s.f.held)
		<-s.f.release
	}
	return nil
}

func decodeHeader(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// received returns what the server accepted so far.
func (f *faultSink) received() []sunk {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sunk(nil), f.got...)
}

// wait polls until the server accepted n mails (or fails after a minute).
func (f *faultSink) wait(t testing.TB, n int, log func() string) []sunk {
	t.Helper()
	for i := 0; i < 600; i++ {
		if got := f.received(); len(got) >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the SMTP server accepted %d mails, want %d\n%s", len(f.received()), n, log())
	return nil
}

// onceEach checks that every Message-ID arrived exactly once and returns
// the recipients by subject prefix.
func onceEach(t testing.TB, got []sunk) map[string][]string {
	t.Helper()
	seen := map[string]int{}
	by := map[string][]string{}
	for _, m := range got {
		seen[m.MessageID]++
		if seen[m.MessageID] == 2 {
			t.Errorf("%s to %s (%s) delivered twice", m.MessageID, m.Rcpt, m.Subject)
		}
		key, _, _ := strings.Cut(m.Subject, ":")
		by[key] = append(by[key], m.Rcpt)
	}
	return by
}

// outboxOf reads `liaisond outbox -json`.
func outboxOf(t testing.TB, config string) []store.OutboxJSON {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"outbox", "-config", config, "-json"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("outbox: %v\n%s", err, errOut.String())
	}
	var ob []store.OutboxJSON
	if err := json.Unmarshal([]byte(out.String()), &ob); err != nil {
		t.Fatal(err)
	}
	return ob
}

// waitOutbox polls until cond holds for the outbox.
func waitOutbox(t testing.TB, config string, what string, cond func([]store.OutboxJSON) bool, log func() string) []store.OutboxJSON {
	t.Helper()
	var ob []store.OutboxJSON
	for i := 0; i < 600; i++ {
		if ob = outboxOf(t, config); cond(ob) {
			return ob
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("outbox never %s: %+v\n%s", what, ob, log())
	return nil
}

func settled(ob []store.OutboxJSON) bool {
	for _, m := range ob {
		if m.State == store.OutboxQueued || m.State == store.OutboxSending {
			return false
		}
	}
	return len(ob) > 0
}

const firstMails = 12 // the e2e submission: 10 notification copies and 2 receipts

// TestDelivery451ThenSuccess: every recipient is refused with 451 once,
// then accepted: each mail arrives once, on its second attempt.
func TestDelivery451ThenSuccess(t *testing.T) {
	sink := startFaultSink(t, "")
	sink.rcptReply = func(rcpt string, try int) *smtp.SMTPError {
		if try == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}
	d := startDaemon(t, sink.addr, "")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	sink.wait(t, firstMails, d.stderr.String)
	ob := waitOutbox(t, d.config, "settled", settled, d.stderr.String)
	onceEach(t, sink.received())
	for _, m := range ob {
		if m.State != store.OutboxSent || m.Attempts != 2 {
			t.Errorf("outbox %+v, want sent on attempt 2", m)
		}
	}
	if n := len(sink.received()); n != firstMails {
		t.Errorf("the server accepted %d mails, want %d", n, firstMails)
	}
}

// TestDelivery550OneRecipient: a 550 for one recipient fails that
// recipient only; the failure is on the history and the secretariat is
// told once.
func TestDelivery550OneRecipient(t *testing.T) {
	sink := startFaultSink(t, "")
	sink.rcptReply = func(rcpt string, try int) *smtp.SMTPError {
		if rcpt == "expert2@op.example" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	d := startDaemon(t, sink.addr, "")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	got := sink.wait(t, firstMails-1+1, d.stderr.String) // all but expert2, and the alert
	ob := waitOutbox(t, d.config, "settled", settled, d.stderr.String)
	by := onceEach(t, got)
	if alerts := by["[LS-1] Mail could not be delivered"]; !equal(alerts, []string{"statements@ietf.example"}) {
		t.Errorf("alerts went to %v, want one to the secretariat", alerts)
	}
	for _, m := range ob {
		failed := m.Kind == "notification" && m.State == store.OutboxFailed
		if m.State != store.OutboxSent && !failed {
			t.Errorf("outbox %+v", m)
		}
	}
	failedRows := 0
	for _, m := range ob {
		if m.State == store.OutboxFailed {
			failedRows++
		}
	}
	if failedRows != 1 {
		t.Errorf("%d failed mails, want 1", failedRows)
	}
	for _, m := range got {
		if m.Rcpt == "expert2@op.example" {
			t.Errorf("the server accepted a mail for the refused recipient")
		}
	}
	out, err := d.cli(t, "show", "-json", "LS-1")
	if err != nil {
		t.Fatal(err)
	}
	var st store.StatementJSON
	json.Unmarshal([]byte(out), &st)
	var failures []string
	for _, ev := range st.Events {
		if ev.Type == store.EventDeliveryFailed {
			failures = append(failures, ev.Text)
		}
	}
	if len(failures) != 1 || !strings.Contains(failures[0], "notification to expert2@op.example could not be delivered: permanent failure") ||
		!strings.Contains(failures[0], "550") {
		t.Errorf("delivery-failed events: %q", failures)
	}
}

// TestDeliveryServerDownThenBack: the smarthost is down; mail waits and
// is retried; once it is back, the backlog arrives, each mail once.
func TestDeliveryServerDownThenBack(t *testing.T) {
	addr := freePort(t) // nobody listens there yet
	d := startDaemon(t, addr, "")
	for i := 0; i < 3; i++ {
		raw := strings.Replace(submission, "ls-otn-1@itu.example", fmt.Sprintf("ls-otn-down-%d@itu.example", i), 1)
		if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
	}
	waitOutbox(t, d.config, "retried while the server was down", func(ob []store.OutboxJSON) bool {
		for _, m := range ob {
			if m.Attempts < 2 {
				return false
			}
		}
		return len(ob) == 3*firstMails
	}, d.stderr.String)
	sink := startFaultSink(t, addr)
	sink.wait(t, 3*firstMails, d.stderr.String)
	ob := waitOutbox(t, d.config, "settled", settled, d.stderr.String)
	onceEach(t, sink.received())
	for _, m := range ob {
		if m.State != store.OutboxSent {
			t.Errorf("outbox %+v", m)
		}
	}
	if n := len(sink.received()); n != 3*firstMails {
		t.Errorf("the server accepted %d mails, want %d", n, 3*firstMails)
	}
}

// TestDeliveryKilledAndRestarted kills the daemon (a real process,
// SIGKILL) in the middle of delivering, restarts it, and counts what the
// SMTP server received: every mail once. The mails accepted before the
// kill are not sent again; the one in flight (RCPT given, no DATA yet)
// and the rest go out after the restart.
func TestDeliveryKilledAndRestarted(t *testing.T) {
	got := killDuringDelivery(t, func(f *faultSink) { f.holdRcpt = 5 }, 4)
	onceEach(t, got)
	if len(got) != firstMails {
		t.Errorf("the server accepted %d mails, want %d (each once)", len(got), firstMails)
	}
}

// TestDeliveryKilledBefore250 shows the one window the guarantee leaves:
// the server has taken the fifth mail but the daemon dies before its 250
// arrives. That mail, and only that one, comes again, with the same
// Message-ID, so that the receiver can recognise the copy.
func TestDeliveryKilledBefore250(t *testing.T) {
	got := killDuringDelivery(t, func(f *faultSink) { f.holdData = 5 }, 5)
	count := map[string]int{}
	for _, m := range got {
		count[m.MessageID]++
	}
	if len(got) != firstMails+1 || len(count) != firstMails {
		t.Fatalf("the server accepted %d mails with %d Message-IDs, want %d with %d", len(got), len(count), firstMails+1, firstMails)
	}
	if again := got[4].MessageID; count[again] != 2 {
		t.Errorf("the mail in flight (%s) arrived %d times, want twice with the same Message-ID", again, count[again])
	}
}

// killDuringDelivery runs `liaisond serve` as a real process with the
// sink (set up by hold) as smarthost, submits a statement, SIGKILLs the
// daemon when the sink holds a mail, restarts it, and returns what the sink
// accepted once the outbox has settled. before is how many mails the sink
// must have accepted at the kill.
func killDuringDelivery(t *testing.T, hold func(*faultSink), before int) []sunk {
	bin := filepath.Join(t.TempDir(), "liaisond")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sink := startFaultSink(t, "")
	hold(sink)
	dir := t.TempDir()
	config := writeFile(t, dir, "liaisond.toml", fmt.Sprintf(`domain = "liaison.example"
data_dir = "data"
public_url = "http://liaison.example"
[smtp]
listen = "127.0.0.1:0"
[http]
listen = ""
[outbound]
smarthost = %q
tls = "none"
retry_min = "1s"
retry_max = "2s"
`, sink.addr))
	var logs syncBuffer
	start := func() (*exec.Cmd, string) { return startServeBinary(t, bin, config, &logs) }
	cmd, smtpAddr := start()
	if err := sendSMTP(smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	select {
	case <-sink.held:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("delivery never reached the fifth mail:\n%s", logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(sink.release)
	if n := len(sink.received()); n != before {
		t.Fatalf("the server accepted %d mails before the kill, want %d", n, before)
	}
	if ob := outboxOf(t, config); len(ob) != firstMails {
		t.Fatalf("outbox has %d mails, want %d", len(ob), firstMails)
	}

	cmd, _ = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	sink.wait(t, firstMails, logs.String)
	ob := waitOutbox(t, config, "settled", settled, logs.String)
	for _, m := range ob {
		if m.State != store.OutboxSent {
			t.Errorf("outbox %+v", m)
		}
	}
	if !strings.Contains(logs.String(), "queued again with their Message-ID") {
		t.Errorf("the restart did not report the interrupted mails:\n%s", logs.String())
	}
	return sink.received()
}

// startServeBinary runs the built binary's `serve` with config as a child
// process (stderr into logs) and returns it with its SMTP address, read off
// the startup line on stdout. The caller kills it.
func startServeBinary(tb testing.TB, bin, config string, logs *syncBuffer) (*exec.Cmd, string) {
	tb.Helper()
	cmd := exec.Command(bin, "serve", "-config", config)
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`SMTP listening on (\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case addr := <-addrc:
		return cmd, addr
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		tb.Fatalf("daemon did not start:\n%s", logs.String())
	}
	return nil, ""
}
