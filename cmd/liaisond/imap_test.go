package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"liaisond/internal/dovecottest"
	"liaisond/store"
)

// imapSubmission is a small valid statement; i makes it unique.
func imapSubmission(i int) []byte {
	return []byte(fmt.Sprintf("From: Rapporteur <rapp@itu.example>\r\n"+
		"To: statements@liaison.example\r\n"+
		"Subject: IMAP LS %d\r\n"+
		"Message-ID: <imap-ls-%d@itu.example>\r\n"+
		"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"+
		"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: IMAP statement %d\r\nPurpose: For Information\r\n\r\n"+
		"Dear colleagues, statement number %d.\r\n", i, i, i, i))
}

// imapConfig is the [imap] section for a test Dovecot.
func imapConfig(t testing.TB, s *dovecottest.Server, extra string) string {
	pw := filepath.Join(t.TempDir(), "imap.pass")
	if err := os.WriteFile(pw, []byte(s.Pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("[imap]\naddr = %q\ntls = \"none\"\nusername = %q\npassword_file = %q\nbackoff_max = \"2s\"\n%s\n", s.Addr, s.User, pw, extra)
}

// waitFor polls cond until it holds or a generous timeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func statementCount(t testing.TB, config string) int {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"list", "-config", config, "-json"}, nil, &out, &errOut); err != nil {
		if strings.Contains(errOut.String()+err.Error(), "no database") {
			return 0
		}
		t.Fatalf("list: %v %s", err, errOut.String())
	}
	return strings.Count(out.String(), `"ref": "LS-`)
}

func imapStatus(t testing.TB, config string) statusJSON {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"status", "-config", config, "-json"}, nil, &out, &errOut); err != nil {
		t.Fatalf("status: %v %s", err, errOut.String())
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out.String()), &st); err != nil {
		t.Fatalf("status -json: %v\n%s", err, out.String())
	}
	return st
}

// TestIMAPDovecot takes mail from a real Dovecot as an operator would run
// it: mails appended by another IMAP client are stored and moved to
// processed; a mail that is not a mail and one over the size limit go to
// failed (the secretariat told once about the big one); a mail appended
// while the daemon sits in IDLE (poll interval 1h, so only IDLE can notice
// it) is taken; Dovecot stopped and started again under the daemon is
// survived; status and /healthz show the mailbox.
func TestIMAPDovecot(t *testing.T) {
	dc := dovecottest.Start(t)
	c := dc.Client(t)
	for i := 1; i <= 3; i++ {
		dovecottest.Append(t, c, "INBOX", imapSubmission(i))
	}
	dovecottest.Append(t, c, "INBOX", []byte("this is not a mail at all, no header section\r\n"))
	big := append([]byte("From: Big Sender <big@itu.example>\r\nTo: statements@liaison.example\r\nSubject: Huge LS\r\nMessage-ID: <huge@itu.example>\r\n\r\n"),
		[]byte(strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n", 16000))...) // ~1.2 MB > 1 MiB
	dovecottest.Append(t, c, "INBOX", big)

	d := startDaemon(t, "", imapConfig(t, dc, "poll_interval = \"1h\"\nidle = \"auto\""))
	waitFor(t, "INBOX drained", func() bool { return dovecottest.Count(t, c, "INBOX") == 0 })
	if n := dovecottest.Count(t, c, "processed"); n != 3 {
		t.Errorf("processed folder holds %d, want 3", n)
	}
	if n := dovecottest.Count(t, c, "failed"); n != 2 {
		t.Errorf("failed folder holds %d, want 2 (the non-mail and the oversize one)", n)
	}
	if n := statementCount(t, d.config); n != 3 {
		t.Errorf("%d statements, want 3", n)
	}
	// Why each failed message failed is kept on it (the disposition is
	// written with the last UID, just after the move).
	waitFor(t, "status to show last uid 5", func() bool { st := imapStatus(t, d.config); return len(st.IMAP) == 1 && st.IMAP[0].LastUID == 5 })
	s, err := openStoreOnly(context.Background(), mustConfig(t, d.config))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reasons := map[string]string{}
	s.View(context.Background(), func(tx *store.Tx) error {
		ids, _ := tx.MessagesInState(store.MessageFailed, 10)
		for _, id := range ids {
			m, _ := tx.Message(id)
			_, errText, disp, _ := tx.MessageStatus(id)
			reasons[m.Class] = errText + " | " + disp
		}
		return nil
	})
	if r := reasons["oversize"]; !strings.Contains(r, "over the limit") || !strings.Contains(r, "moved to failed") {
		t.Errorf("oversize message: reason/disposition %q", r)
	}
	if r := reasons["unknown"]; !strings.Contains(r, "not a mail") || !strings.Contains(r, "moved to failed") {
		t.Errorf("non-mail message: reason/disposition %q (all: %v)", r, reasons)
	}
	out, _ := d.cli(t, "outbox", "-json")
	if n := strings.Count(out, "Too large to take in: Huge LS"); n != 1 {
		t.Errorf("the secretariat should be told once about the oversize mail, told %d times:\n%s", n, out)
	}

	// IDLE: the daemon is waiting; only IDLE can tell it about this one.
	waitFor(t, "the daemon in IDLE", func() bool { return strings.Contains(d.stderr.String(), "waiting for new mail with IDLE") })
	dovecottest.Append(t, c, "INBOX", imapSubmission(4))
	waitFor(t, "the mail appended during IDLE to be taken", func() bool { return statementCount(t, d.config) == 4 })
	waitFor(t, "it to be moved", func() bool { return dovecottest.Count(t, c, "processed") == 4 })

	// The last UID is saved just after the move.
	waitFor(t, "status to show last uid 6", func() bool { st := imapStatus(t, d.config); return len(st.IMAP) == 1 && st.IMAP[0].LastUID == 6 })
	st := imapStatus(t, d.config)
	if len(st.IMAP) != 1 || !st.IMAP[0].Connected || st.IMAP[0].LastUID != 6 || st.IMAP[0].Backlog != 0 || st.IMAP[0].Mailbox != dc.User+"@"+dc.Addr+"/INBOX" {
		t.Errorf("status: %+v", st.IMAP)
	}
	var health struct {
		IMAP struct {
			Mailbox   string `json:"mailbox"`
			Connected bool   `json:"connected"`
			LastUID   uint32 `json:"last_uid"`
			Backlog   int    `json:"backlog"`
		} `json:"imap"`
	}
	getJSON(t, "http://"+d.httpAddr+"/healthz", &health)
	if !health.IMAP.Connected || health.IMAP.LastUID != 6 || health.IMAP.Mailbox == "" {
		t.Errorf("/healthz imap: %+v", health.IMAP)
	}

	// Dovecot goes away and comes back: the daemon reconnects by itself.
	c.Close()
	dc.Restart()
	c = dc.Client(t)
	dovecottest.Append(t, c, "INBOX", imapSubmission(5))
	waitFor(t, "the mail appended after the Dovecot restart to be taken", func() bool { return statementCount(t, d.config) == 5 })
	waitFor(t, "it to be moved", func() bool { return dovecottest.Count(t, c, "processed") == 5 })
	if log := d.stderr.String(); !strings.Contains(log, "IMAP connection failed") {
		t.Errorf("the lost connection was not logged:\n%s", log)
	}
	if n := statementCount(t, d.config); n != 5 {
		t.Errorf("%d statements, want 5", n)
	}
}

func mustConfig(t testing.TB, path string) *Config {
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestIMAPDovecotUIDValidityChange: the mailbox is created again (a new
// UIDVALIDITY) while the daemon runs, and the same mails are put back with
// one new one: the rescan stores only the new one.
// Processed mail stays in the mailbox here (processed_folder = ""), flagged.
func TestIMAPDovecotUIDValidityChange(t *testing.T) {
	dc := dovecottest.Start(t)
	c := dc.Client(t)
	if err := c.Create("Statements", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		dovecottest.Append(t, c, "Statements", imapSubmission(i))
	}
	d := startDaemon(t, "", imapConfig(t, dc, "mailbox = \"Statements\"\nprocessed_folder = \"\"\npoll_interval = \"1s\""))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(d.stderr.String())
		}
	})
	waitFor(t, "3 statements", func() bool { return statementCount(t, d.config) == 3 })
	waitFor(t, "last uid 3", func() bool { st := imapStatus(t, d.config); return len(st.IMAP) == 1 && st.IMAP[0].LastUID == 3 })
	old := dovecottest.UIDValidity(t, c, "Statements")

	// The server is rebuilt (stopped; the mailbox's folder and index gone);
	// the same mail comes back into a new mailbox with one new mail. (A
	// DELETE and CREATE while the daemon's session has the mailbox open
	// corrupts Dovecot 2.3's index, so the change is made while it is down.)
	c.Close()
	dc.Stop()
	if err := os.RemoveAll(filepath.Join(dc.Maildir, ".Statements")); err != nil {
		t.Fatal(err)
	}
	for time.Now().Unix() <= int64(old) {
		time.Sleep(100 * time.Millisecond) // UIDVALIDITY is the creation time in seconds
	}
	dc.Restart()
	c = dc.Client(t)
	if err := c.Create("Statements", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if dovecottest.UIDValidity(t, c, "Statements") == old {
		t.Fatal("the new mailbox has the old UIDVALIDITY")
	}
	for i := 1; i <= 4; i++ {
		dovecottest.Append(t, c, "Statements", imapSubmission(i))
	}
	waitFor(t, "the rescan to reach uid 4", func() bool {
		st := imapStatus(t, d.config)
		return len(st.IMAP) == 1 && st.IMAP[0].LastUID == 4 && st.IMAP[0].UIDValidity != old
	})
	if n := statementCount(t, d.config); n != 4 {
		t.Errorf("%d statements after the rescan, want 4 (3 recognized, 1 new)", n)
	}
	if !strings.Contains(d.stderr.String(), "UIDVALIDITY changed") {
		t.Errorf("the UIDVALIDITY change was not logged")
	}
	if n := dovecottest.Count(t, c, "Statements"); n != 4 {
		t.Errorf("the mailbox holds %d, want 4 (flagged in place)", n)
	}
}

// buildLiaisond builds the daemon binary for tests that must kill it.
func buildLiaisond(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "liaisond")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestIMAPDovecotKilledMidBatch: 200 mails wait in the mailbox; the daemon
// is killed with SIGKILL in the middle of taking them and started again:
// in the end there are exactly 200 statements and the INBOX is empty.
func TestIMAPDovecotKilledMidBatch(t *testing.T) {
	const total = 200
	bin := buildLiaisond(t)
	dc := dovecottest.Start(t)
	c := dc.Client(t)
	for i := 1; i <= total; i++ {
		dovecottest.Append(t, c, "INBOX", imapSubmission(i))
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "liaisond.toml")
	cfg := fmt.Sprintf("domain = \"liaison.example\"\ndata_dir = \"data\"\npublic_url = \"http://liaison.example\"\n[smtp]\nlisten = \"\"\n[http]\nlisten = \"\"\n%s",
		imapConfig(t, dc, "poll_interval = \"1h\""))
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func() (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(bin, "serve", "-config", config)
		stderr, _ := cmd.StderrPipe()
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, bufio.NewScanner(stderr)
	}

	cmd, lines := start()
	received := 0
	for received < 73 && lines.Scan() { // past the first batch of 50, in the middle of the second
		if strings.Contains(lines.Text(), "message received") {
			received++
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	left := dovecottest.Count(t, c, "INBOX")
	t.Logf("killed after %d stored; %d left in INBOX", received, left)
	if received < 73 || left == 0 {
		t.Fatalf("the daemon was not killed mid-batch (stored %d, left %d)", received, left)
	}
	if n := statementCount(t, config); n >= total {
		t.Fatalf("all %d statements were stored before the kill", n)
	}

	cmd, lines = start()
	go func() {
		for lines.Scan() {
		}
	}()
	waitFor(t, "INBOX drained after the restart", func() bool { return dovecottest.Count(t, c, "INBOX") == 0 })
	waitFor(t, "200 statements", func() bool { return statementCount(t, config) >= total })
	if n := statementCount(t, config); n != total {
		t.Errorf("%d statements, want exactly %d", n, total)
	}
	if n := dovecottest.Count(t, c, "processed"); n != total {
		t.Errorf("processed folder holds %d, want %d", n, total)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

// TestLMTPDelivery delivers over LMTP on a unix socket, as Postfix or
// Dovecot would: our address is accepted, a foreign one refused at RCPT,
// and the accepted recipient gets its own 250 after the commit.
func TestLMTPDelivery(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	d := startDaemon(t, "", fmt.Sprintf("[lmtp]\nsocket = %q\n", sock))
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("mta.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("rapp@itu.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("statements@liaison.example", nil); err != nil {
		t.Fatalf("RCPT statements@: %v", err)
	}
	if err := c.Rcpt("someone@elsewhere.example", nil); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("RCPT to a foreign address: %v, want 550", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(imapSubmission(1))
	resp, err := w.CloseWithLMTPResponse()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if r, ok := resp["statements@liaison.example"]; !ok || len(resp) != 1 {
		t.Errorf("per-recipient replies: %v", resp)
	} else {
		t.Logf("reply for statements@: %+v", r)
	}
	c.Quit()
	if n := statementCount(t, d.config); n != 1 {
		t.Errorf("%d statements, want 1", n)
	}
	if !strings.Contains(d.stderr.String(), "source=lmtp") {
		t.Errorf("not stored as lmtp")
	}
}

var _ = imapclient.New
