// Package dovecottest starts a private Dovecot IMAP server on loopback for
// tests (testdata/dovecot/dovecot-test.sh), and has a small IMAP client to
// put mail in and look at it. A missing dovecot fails the test with the
// command that installs it: CI installs it, and a skip would hide it.
package dovecottest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Server is one running private Dovecot.
type Server struct {
	Addr, User, Pass string
	Maildir          string // the user's Maildir (INBOX is its cur/new/tmp)
	Dir              string
	Log              string
	port             string
	script           string
	t                testing.TB
}

func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "dovecot", "dovecot-test.sh")
}

// Find returns the dovecot binary or fails the test saying how to install it.
func Find(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("DOVECOT"), "/usr/sbin/dovecot"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p
	}
	t.Fatalf("dovecot not found: these tests need a real Dovecot IMAP server; install it with `apt-get install -y dovecot-imapd` (.ci/run does)")
	return ""
}

// Start starts a Dovecot with an empty mailbox; it is stopped at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with a hook that runs after the first start and before
// the test uses the server: e.g. to fill the Maildir directly, followed by a
// restart so Dovecot indexes it.
func StartWith(t testing.TB, prepare func(s *Server)) *Server {
	t.Helper()
	bin := Find(t)
	dir, err := os.MkdirTemp("", "dovecot-test-")
	if err != nil {
		t.Fatal(err)
	}
	// Dovecot's auth (user dovecot) and mail (nobody) processes must reach it.
	os.Chmod(dir, 0o755)
	s := &Server{Dir: dir, script: script(), t: t, User: "testuser", Pass: "secret"}
	t.Cleanup(func() {
		s.Stop()
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("dovecot directory kept: %s", dir)
		}
	})
	var lastErr error
	for try := 0; try < 5; try++ {
		s.port = freePort(t)
		if lastErr = s.start(bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("dovecot did not start: %v", lastErr)
	}
	if prepare != nil {
		prepare(s)
	}
	return s
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func (s *Server) start(bin string) error {
	cmd := exec.Command("bash", s.script, "start", s.Dir)
	cmd.Env = append(os.Environ(), "IMAP_PORT="+s.port, "IMAP_USER="+s.User, "IMAP_PASS="+s.Pass, "DOVECOT="+bin)
	// Files, not pipes: the daemonized dovecot inherits them and would keep
	// a pipe open forever.
	outPath, errPath := filepath.Join(s.Dir, "start.out"), filepath.Join(s.Dir, "start.err")
	outF, err := os.Create(outPath)
	if err != nil {
		return err
	}
	errF, err := os.Create(errPath)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = outF, errF
	err = cmd.Run()
	outF.Close()
	errF.Close()
	if err != nil {
		msg, _ := os.ReadFile(errPath)
		return fmt.Errorf("%v: %s", err, msg)
	}
	out, _ := os.ReadFile(outPath)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "IMAP_ADDR":
			s.Addr = v
		case "IMAP_MAILDIR":
			s.Maildir = v
		case "DOVECOT_LOG":
			s.Log = v
		}
	}
	return nil
}

// Stop stops Dovecot (idempotent); the mail stays in Dir. Dovecot's imap
// processes outlive their master (an open session keeps working), so the
// ones of this instance are killed too, by pid: a stopped server drops its
// clients.
func (s *Server) Stop() {
	exec.Command("bash", s.script, "stop", s.Dir).Run()
	title := []byte("dovecot-test-" + s.port + "/")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(cmdline, title) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Restart starts Dovecot again on the same port with the same mail.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for i := 0; i < 50; i++ {
		if err = s.start(Find(s.t)); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond) // the port may linger briefly
	}
	s.t.Fatalf("dovecot did not restart: %v", err)
}

// Client logs in as the test user; it is closed at the end of the test.
func (s *Server) Client(t testing.TB) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(s.User, s.Pass).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Append puts raw into mailbox as another IMAP client would.
func Append(t testing.TB, c *imapclient.Client, mailbox string, raw []byte) {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append to %s: %v", mailbox, err)
	}
}

// Count returns the number of messages in mailbox (STATUS), -1 if it does not exist.
func Count(t testing.TB, c *imapclient.Client, mailbox string) int {
	t.Helper()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		var ie *imap.Error
		if strings.Contains(err.Error(), "exist") || (errors.As(err, &ie) && ie.Code == imap.ResponseCodeNonExistent) {
			return -1
		}
		t.Fatalf("status %s: %v", mailbox, err)
	}
	return int(*st.NumMessages)
}

// UIDValidity returns the UIDVALIDITY of mailbox.
func UIDValidity(t testing.TB, c *imapclient.Client, mailbox string) uint32 {
	t.Helper()
	var err error
	// Right after a DELETE and CREATE, Dovecot 2.3 sometimes answers STATUS
	// with NO [SERVERBUG] once; ask again.
	for try := 0; try < 50; try++ {
		var st *imap.StatusData
		if st, err = c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait(); err == nil {
			return st.UIDValidity
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("status %s: %v", mailbox, err)
	return 0
}

// WriteMaildir writes messages straight into the Maildir's cur/ (fast
// filling for benchmarks; Dovecot indexes them when the mailbox is opened).
func (s *Server) WriteMaildir(t testing.TB, folder string, n int, msg func(i int) []byte) {
	t.Helper()
	dir := s.Maildir
	if folder != "" && folder != "INBOX" {
		dir = filepath.Join(dir, "."+folder)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Unix()
	for i := 0; i < n; i++ {
		name := filepath.Join(dir, "cur", fmt.Sprintf("%d.M%dP%d.bench:2,S", base, i, os.Getpid()))
		if err := os.WriteFile(name, msg(i), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getuid() == 0 {
		exec.Command("sh", "-c", `chown -R "$(id -u nobody):$(id -g nobody)" "$0"`, s.Maildir).Run()
	}
}

// CountingConn counts the bytes read from the server and the lines (IMAP
// command lines, DONE) written to it.
type CountingConn struct {
	net.Conn
	BytesRead, Lines *atomic.Int64
}

func (c CountingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.BytesRead.Add(int64(n))
	return n, err
}

func (c CountingConn) Write(p []byte) (int, error) {
	c.Lines.Add(int64(bytes.Count(p, []byte("\r\n"))))
	return c.Conn.Write(p)
}
