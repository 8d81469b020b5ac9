package receive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"liaisond/store"
)

// memReceiver is a Receiver that keeps what it stores in memory; err, when
// set, is returned instead and nothing is kept.
type memReceiver struct {
	mu     sync.Mutex
	stored []stored
	err    error
}

type stored struct {
	env Envelope
	raw string
}

func (m *memReceiver) Receive(ctx context.Context, env Envelope, raw []byte) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return Result{}, m.err
	}
	m.stored = append(m.stored, stored{env: env, raw: string(raw)})
	return Result{MessageID: int64(len(m.stored)), State: store.MessageProcessed}, nil
}

// Accepts takes the addresses of liaison.example, as the processor would.
func (m *memReceiver) Accepts(rcpt string) bool {
	return strings.HasSuffix(strings.ToLower(rcpt), "@liaison.example")
}

func (m *memReceiver) messages() []stored {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]stored(nil), m.stored...)
}

// startServer runs srv on loopback for the test.
func startServer(t *testing.T, srv *smtp.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeSMTP(ctx, srv, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeSMTP: %v", err)
		}
	})
	return ln.Addr().String()
}

var testConfig = SMTPConfig{Hostname: "mx.liaison.example", MaxMessageBytes: 4096, MaxRecipients: 10,
	Timeout: time.Minute, StatementsAddr: "statements@liaison.example"}

// dialogue is a plain-text SMTP/LMTP client: it sends a command and reads
// the reply lines, so the tests see exactly what a client sees.
type dialogue struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *dialogue {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	d := &dialogue{t: t, c: c, r: bufio.NewReader(c)}
	d.reply() // greeting
	return d
}

// reply reads one reply, all its lines ("250-..." continued), joined by "\n".
func (d *dialogue) reply() string {
	d.t.Helper()
	var lines []string
	for {
		line, err := d.r.ReadString('\n')
		if err != nil {
			d.t.Fatalf("reading reply: %v (so far %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// cmd sends one command line and returns its reply.
func (d *dialogue) cmd(format string, args ...any) string {
	d.t.Helper()
	if _, err := fmt.Fprintf(d.c, format+"\r\n", args...); err != nil {
		d.t.Fatal(err)
	}
	return d.reply()
}

// data sends DATA and the message, dot-stuffed, and returns the reply to
// DATA's end (n replies for LMTP: one per accepted recipient).
func (d *dialogue) data(msg string, n int) []string {
	d.t.Helper()
	if r := d.cmd("DATA"); !strings.HasPrefix(r, "354") {
		d.t.Fatalf("DATA: %q", r)
	}
	w := bufio.NewWriter(d.c)
	for _, line := range strings.Split(strings.TrimSuffix(msg, "\r\n"), "\r\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		w.WriteString(line + "\r\n")
	}
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		d.t.Fatal(err)
	}
	var replies []string
	for range n {
		replies = append(replies, d.reply())
	}
	return replies
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

func code(reply string) string {
	if len(reply) < 3 {
		return reply
	}
	return reply[:3]
}

// largeMessage is over the MB readMessage keeps in memory before it spools.
var largeMessage = testMessage + strings.Repeat("0123456789abcdef\r\n", 80000)

const testMessage = "From: a@sdo.example\r\nTo: statements@liaison.example\r\nSubject: LS on things\r\nMessage-ID: <m1@sdo.example>\r\n\r\nTitle: Things\r\n.leading dot\r\n"

func TestSMTPSession(t *testing.T) {
	tempErr := fmt.Errorf("store message: %w: database is locked", store.ErrTemporary)
	for _, tc := range []struct {
		name     string
		err      error  // what the receiver returns
		rcpt     string // RCPT TO
		msg      string
		rcptCode string // reply to RCPT
		dataCode string // reply at the end of DATA
		stored   bool
		spool    string // "ok": a spool directory; "missing": one that does not exist
		maxBytes int64  // 0: testConfig's
	}{
		{name: "stored", rcpt: "statements@liaison.example", msg: testMessage, rcptCode: "250", dataCode: "250", stored: true},
		{name: "temporary store error", err: tempErr, rcpt: "statements@liaison.example", msg: testMessage, rcptCode: "250", dataCode: "451"},
		{name: "unclassified error is retried", err: errors.New("disk I/O error"), rcpt: "statements@liaison.example", msg: testMessage, rcptCode: "250", dataCode: "451"},
		{name: "permanent error", err: fmt.Errorf("store message: %w: constraint failed", ErrPermanent), rcpt: "statements@liaison.example", msg: testMessage, rcptCode: "250", dataCode: "554"},
		{name: "small: no spool needed", spool: "missing", rcpt: "statements@liaison.example", msg: testMessage, rcptCode: "250", dataCode: "250", stored: true},
		{name: "large, in pieces", maxBytes: 4 << 20, rcpt: "statements@liaison.example", msg: largeMessage, rcptCode: "250", dataCode: "250", stored: true},
		{name: "large, spooled", spool: "ok", maxBytes: 4 << 20, rcpt: "statements@liaison.example", msg: largeMessage, rcptCode: "250", dataCode: "250", stored: true},
		{name: "large, spool unusable", spool: "missing", maxBytes: 4 << 20, rcpt: "statements@liaison.example", msg: largeMessage, rcptCode: "250", dataCode: "451"},
		{name: "oversize, spooled", spool: "ok", maxBytes: 1 << 20, rcpt: "statements@liaison.example", msg: largeMessage, rcptCode: "250", dataCode: "552"},
		{name: "oversize, spooled", spool: "ok", rcpt: "statements@liaison.example", msg: testMessage + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 60), rcptCode: "250", dataCode: "552"},
		{name: "oversize", rcpt: "statements@liaison.example", msg: testMessage + strings.Repeat("x", 80) + "\r\n" + strings.Repeat(strings.Repeat("y", 76)+"\r\n", 60), rcptCode: "250", dataCode: "552"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := &memReceiver{err: tc.err}
			cfg := testConfig
			switch tc.spool {
			case "missing":
				cfg.SpoolDir = filepath.Join(t.TempDir(), "missing")
			case "ok":
				cfg.SpoolDir = t.TempDir()
				t.Cleanup(func() {
					if left, _ := os.ReadDir(cfg.SpoolDir); len(left) > 0 {
						t.Errorf("%d files left in the spool directory", len(left))
					}
				})
			}
			if tc.maxBytes > 0 {
				cfg.MaxMessageBytes = tc.maxBytes
			}
			d := dial(t, startServer(t, NewSMTPServer(rcv, cfg, slog.New(slog.DiscardHandler))))
			d.cmd("EHLO client.example")
			if r := d.cmd("MAIL FROM:<a@sdo.example>"); code(r) != "250" {
				t.Fatalf("MAIL: %q", r)
			}
			if r := d.cmd("RCPT TO:<%s>", tc.rcpt); code(r) != tc.rcptCode {
				t.Fatalf("RCPT: %q, want %s", r, tc.rcptCode)
			}
			got := d.data(tc.msg, 1)[0]
			if code(got) != tc.dataCode {
				t.Errorf("end of DATA: %q, want %s", got, tc.dataCode)
			}
			if strings.Contains(got, "locked") || strings.Contains(got, "constraint") || strings.Contains(got, "I/O") || strings.Contains(got, "no such file") {
				t.Errorf("the store's error reached the client: %q", got)
			}
			msgs := rcv.messages()
			if !tc.stored {
				if len(msgs) != 0 {
					t.Errorf("stored %d messages, want none", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("stored %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.raw != tc.msg {
				t.Errorf("stored %q, want %q (dot-stuffing undone)", truncate(m.raw), truncate(tc.msg))
			}
			if m.env.Source != "smtp" || m.env.MailFrom != "a@sdo.example" || strings.Join(m.env.Rcpt, ",") != tc.rcpt ||
				!m.env.Known || m.env.Peer.String() != "127.0.0.1" {
				t.Errorf("envelope %+v", m.env)
			}
			// The session goes on: a second message on the same connection.
			d.cmd("MAIL FROM:<b@sdo.example>")
			d.cmd("RCPT TO:<statements@liaison.example>")
			if got := d.data(testMessage, 1)[0]; code(got) != "250" {
				t.Errorf("second message: %q", got)
			}
			if n := len(rcv.messages()); n != 2 {
				t.Errorf("stored %d messages after the second, want 2", n)
			}
		})
	}
}

// An address that is not ours is refused at RCPT with 550, naming where
// statements go; the transaction goes on with the others.
func TestSMTPSessionNotOurs(t *testing.T) {
	rcv := &memReceiver{}
	d := dial(t, startServer(t, NewSMTPServer(rcv, testConfig, slog.New(slog.DiscardHandler))))
	d.cmd("EHLO client.example")
	d.cmd("MAIL FROM:<a@sdo.example>")
	r := d.cmd("RCPT TO:<someone@elsewhere.example>")
	if code(r) != "550" || !strings.Contains(r, "5.1.1") || !strings.Contains(r, "statements@liaison.example") {
		t.Errorf("RCPT to an address not ours: %q, want 550 5.1.1 naming statements@liaison.example", r)
	}
	if r := d.cmd("DATA"); !strings.HasPrefix(r, "5") {
		t.Errorf("DATA without an accepted recipient: %q, want a 5xx refusal", r)
	}
	if r := d.cmd("RCPT TO:<commands@liaison.example>"); code(r) != "250" {
		t.Fatalf("RCPT: %q", r)
	}
	if got := d.data(testMessage, 1)[0]; code(got) != "250" {
		t.Errorf("end of DATA: %q", got)
	}
	msgs := rcv.messages()
	if len(msgs) != 1 || strings.Join(msgs[0].env.Rcpt, ",") != "commands@liaison.example" {
		t.Errorf("stored %+v, want one message for commands@ alone", msgs)
	}
}

// LMTP (RFC 2033 4.2): after the DATA, one reply per accepted recipient,
// in RCPT order; the message is stored once for all of them.
func TestLMTPSessionPerRecipient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		msg    string
		want   string // the code each recipient gets
		stored int
	}{
		{name: "stored", msg: testMessage, want: "250", stored: 1},
		{name: "temporary store error", err: fmt.Errorf("%w: database is locked", store.ErrTemporary), msg: testMessage, want: "451"},
		{name: "permanent error", err: fmt.Errorf("%w: broken", ErrPermanent), msg: testMessage, want: "554"},
		{name: "oversize", msg: testMessage + strings.Repeat(strings.Repeat("z", 76)+"\r\n", 60), want: "552"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := &memReceiver{err: tc.err}
			d := dial(t, startServer(t, NewLMTPServer(rcv, testConfig, slog.New(slog.DiscardHandler))))
			if r := d.cmd("LHLO mta.liaison.example"); code(r) != "250" {
				t.Fatalf("LHLO: %q", r)
			}
			d.cmd("MAIL FROM:<a@sdo.example>")
			for _, rcpt := range []string{"statements@liaison.example", "nobody@elsewhere.example", "ls+17.abc@liaison.example"} {
				r := d.cmd("RCPT TO:<%s>", rcpt)
				want := "250"
				if strings.HasSuffix(rcpt, "elsewhere.example") {
					want = "550"
				}
				if code(r) != want {
					t.Fatalf("RCPT %s: %q, want %s", rcpt, r, want)
				}
			}
			replies := d.data(tc.msg, 2)
			for i, r := range replies {
				if code(r) != tc.want {
					t.Errorf("reply %d after DATA: %q, want %s", i+1, r, tc.want)
				}
			}
			// Nothing more: exactly one reply per accepted recipient.
			if r := d.cmd("NOOP"); code(r) != "250" {
				t.Errorf("after the per-recipient replies, NOOP got %q (an extra reply?)", r)
			}
			msgs := rcv.messages()
			if len(msgs) != tc.stored {
				t.Fatalf("stored %d messages, want %d", len(msgs), tc.stored)
			}
			if tc.stored == 1 {
				if got := strings.Join(msgs[0].env.Rcpt, ","); got != "statements@liaison.example,ls+17.abc@liaison.example" || msgs[0].env.Source != "lmtp" || msgs[0].env.Peer.IsValid() {
					t.Errorf("envelope %+v: want both accepted recipients, source lmtp, no peer", msgs[0].env)
				}
			}
		})
	}
}
