package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailpit is a real SMTP sink with an HTTP API (installed by `make tools`).
type mailpit struct {
	SMTPAddr string
	API      string
	taken    map[string]bool // mails already returned by waitMail
	pid      int             // of the mailpit process (benchmarks read its RSS)
}

// findTool looks for a test tool in PATH and in the repository's .bin.
// A missing tool fails the test: CI installs them, and skipping would hide it.
func findTool(t testing.TB, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"../../.bin", filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found: %s (or run `make tools`)", name, install)
	return ""
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startMailpit(t testing.TB) *mailpit {
	t.Helper()
	bin := findTool(t, "mailpit", "go install github.com/axllent/mailpit@v1.33.1")
	var mp *mailpit
	var cmd *exec.Cmd
	var out bytes.Buffer
	for try := 0; try < 3; try++ {
		mp = &mailpit{SMTPAddr: freePort(t), API: "http://" + freePort(t)}
		cmd = exec.Command(bin, "--smtp", mp.SMTPAddr, "--listen", strings.TrimPrefix(mp.API, "http://"),
			"--database", filepath.Join(t.TempDir(), "mailpit.db"),
			"--disable-version-check", "--smtp-disable-rdns", "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--enable-chaos")
		out.Reset()
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := false
		for i := 0; i < 200; i++ {
			resp, err := http.Get(mp.API + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ready = true
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ready {
			mp.pid = cmd.Process.Pid
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return mp
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Fatalf("mailpit did not start:\n%s", out.String())
	return nil
}

type mpAddress struct {
	Name    string
	Address string
}

type mpMessage struct {
	ID      string
	Subject string
	From    mpAddress
	To      []mpAddress
	Cc      []mpAddress
	ReplyTo []mpAddress
}

func (m *mailpit) messages(t testing.TB) []mpMessage {
	t.Helper()
	var res struct {
		Messages []mpMessage `json:"messages"`
		Total    int         `json:"messages_count"`
	}
	m.get(t, "/api/v1/messages?limit=1000", &res)
	return res.Messages
}

func (m *mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("mailpit %s: %s: %s", path, resp.Status, body)
	}
	if s, ok := v.(*string); ok {
		*s = string(body)
		return
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

func (m *mailpit) raw(t testing.TB, id string) string {
	var s string
	m.get(t, "/api/v1/message/"+id+"/raw", &s)
	return s
}

// waitMessages waits until mailpit holds n messages (or fails after a minute).
func (m *mailpit) waitMessages(t testing.TB, n int) []mpMessage {
	t.Helper()
	var msgs []mpMessage
	for i := 0; i < 600; i++ {
		msgs = m.messages(t)
		if len(msgs) >= n {
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mailpit has %d messages, want %d", len(msgs), n)
	return nil
}

// daemon is a running `liaisond serve` started through run().
type daemon struct {
	dir      string
	config   string
	smtpAddr string
	httpAddr string
	stdout   *syncBuffer // every line serve wrote on stdout
	stderr   *syncBuffer
	cancel   context.CancelFunc
	done     chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDaemon writes a config (extra is appended: TOML sections) and runs serve.
// opts may add to the context run() gets (e.g. withClock).
func startDaemon(t testing.TB, smarthost string, extra string, opts ...func(context.Context) context.Context) *daemon {
	t.Helper()
	return startDaemonWith(t, smarthost, "", "", extra, opts...)
}

// startDaemonWith is startDaemon with more top-level keys (top) and more
// keys in the [smtp] section (smtpKeys).
func startDaemonWith(t testing.TB, smarthost, top, smtpKeys, extra string, opts ...func(context.Context) context.Context) *daemon {
	t.Helper()
	dir := t.TempDir()
	outbound := ""
	if smarthost != "" {
		outbound = fmt.Sprintf("[outbound]\nsmarthost = %q\ntls = \"none\"\nretry_min = \"1s\"\nretry_max = \"2s\"\n", smarthost)
	}
	cfg := fmt.Sprintf(`domain = "liaison.example"
data_dir = "data"
public_url = "http://liaison.example"
log_level = "debug"
%s
[smtp]
listen = "127.0.0.1:0"
max_message_bytes = 1048576
%s
[http]
listen = "127.0.0.1:0"
%s
%s`, top, smtpKeys, outbound, extra)
	return startDaemonConfig(t, dir, cfg, opts...)
}

// startDaemonConfig runs serve on the configuration text cfg, written into
// dir; its [smtp] and [http] listen addresses must be set.
func startDaemonConfig(t testing.TB, dir, cfg string, opts ...func(context.Context) context.Context) *daemon {
	t.Helper()
	path := filepath.Join(dir, "liaisond.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{dir: dir, config: path, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	for _, o := range opts {
		ctx = o(ctx)
	}
	d.cancel = cancel
	pr, pw := io.Pipe()
	go func() {
		err := run(ctx, []string{"serve", "-config", path}, nil, pw, d.stderr)
		pw.Close()
		d.done <- err
	}()
	re := regexp.MustCompile(`(SMTP|HTTP) listening on (?:http://)?(\S+)`)
	lines := make(chan string)
	go func() {
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 1024)
		for {
			n, err := pr.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				d.stdout.Write(buf[:i+1])
				lines <- string(buf[:i])
				buf = buf[i+1:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	timeout := time.After(30 * time.Second)
	for d.smtpAddr == "" || d.httpAddr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("daemon exited: %v\n%s", <-d.done, d.stderr.String())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				if m[1] == "SMTP" {
					d.smtpAddr = m[2]
				} else {
					d.httpAddr = m[2]
				}
			}
		case <-timeout:
			t.Fatalf("daemon did not start:\n%s", d.stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(func() { d.stop(t) })
	// Every end-to-end test also checks that no token leaked (DESIGN 7);
	// cleanups run last first, so this runs while the daemon still serves.
	if _, bench := t.(*testing.B); !bench {
		t.Cleanup(func() { d.assertNoTokenLeaks(t) })
	}
	return d
}

func (d *daemon) stop(t testing.TB) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("serve returned %v\n%s", err, d.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("serve did not stop")
	}
}

// cli runs one liaisond command against the daemon's config.
func (d *daemon) cli(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{args[0], "-config", d.config}, args[1:]...)
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// sendSMTP submits raw as a real SMTP client would and returns the server's error.
func sendSMTP(addr, from string, to []string, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	if err := c.SendMail(from, to, strings.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}
