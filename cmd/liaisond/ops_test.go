package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"liaisond/internal/dovecottest"
)

// TestPlainGoBuild: `go build` with no flags and no tags gives a binary that
// ingests, lists and searches (FTS4 is in every go-sqlite3 build), answers
// -h with exit 0 and says its version.
func TestPlainGoBuild(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "liaisond")
	build := exec.Command("go", "build", "-o", bin, ".")
	// No -tags, whatever the caller's environment says; -buildvcs=auto is
	// Go's default (a go env file may have turned it off) and records the revision.
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "l.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n")
	msg := filepath.Join(dir, "m.eml")
	if err := os.WriteFile(msg, []byte(submission), 0o644); err != nil {
		t.Fatal(err)
	}
	runBin := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := runBin("ingest", "-config", cfg, "-no-send", msg); code != 0 || !strings.Contains(out, "LS-1") {
		t.Fatalf("ingest: exit %d\n%s", code, out)
	}
	if out, code := runBin("list", "-config", cfg); code != 0 || !strings.Contains(out, "Response to LS on OTN control") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	if out, code := runBin("show", "-config", cfg, "-json", "LS-1"); code != 0 || !strings.Contains(out, `"ref": "LS-1"`) {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
	if out, code := runBin("serve", "-h"); code != 0 || !strings.Contains(out, "Usage: liaisond serve") {
		t.Errorf("serve -h: exit %d\n%s", code, out)
	}
	out, code := runBin("version")
	if code != 0 || !strings.HasPrefix(out, "liaisond ") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	// In a git clone the build records the revision. (Go looks for a .git
	// directory: in a `git worktree`, where .git is a file, it records none.)
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "revision "+strings.TrimSpace(string(rev))) {
			t.Errorf("version does not name revision %s:\n%s", rev, out)
		}
	}
	// The database and the secret are the owner's alone.
	for _, f := range []string{"data/liaisond.db", "data/secret"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
}

// TestHelp: the top-level help lists every command and flag; each command
// answers -h with its help and exit 0; flag help renders its argument names.
func TestHelp(t *testing.T) {
	out, _, code := runCLI(t, "", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, want := range []string{"serve", "ingest", "-f SENDER", "-r RECIPIENT", "-no-send", "list", "held", "show", "outbox",
		"tickle", "-dry-run", "-now", "status", "check", "-probe", "backup", "version", "dkim-keygen", "-type", "-selector"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for name := range commandHelp {
		if !strings.Contains(out, "liaisond "+name+" ") && !strings.Contains(out, "liaisond "+name+"\n") {
			t.Errorf("help does not list %s", name)
		}
		stdout, stderr, code := runCLI(t, "", name, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d\n%s", name, code, stderr)
		}
		if !strings.Contains(stdout+stderr, "Usage: liaisond "+name) {
			t.Errorf("%s -h prints no usage:\n%s%s", name, stdout, stderr)
		}
		if strings.Contains(stderr, "liaisond serve\n") && name != "serve" {
			t.Errorf("%s -h: a flag's help renders as a command name:\n%s", name, stderr)
		}
	}
	_, stderr, _ := runCLI(t, "", "ingest", "-h")
	if !strings.Contains(stderr, "-no-send\n") {
		t.Errorf("ingest -h: -no-send renders wrongly:\n%s", stderr)
	}
	if _, _, code := runCLI(t, "", "list", "-bogus"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
}

// TestCheckFindsEverything: one config with many problems gets every one
// reported, each with file, line and key, and exit 78.
func TestCheckFindsEverything(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "dkim-bad.pem", "not a key\n")
	cfg := writeFile(t, dir, "many.toml", `domain = ""
data_dir = "data"
log_levle = "debug"
templates = "no-such-templates"
public_url = "https://www.example.org/liaison/"
[smtp]
listen = "127.0.0.1:99999"
timeout = "forever"
tls_cert_file = "no-cert.pem"
[http]
listen = "127.0.0.1:8080x"
[outbound]
retry_min = "soon"
dkim_selector = "s1"
dkim_key_file = "dkim-bad.pem"
[limits]
statements_per_hour = "many"
`)
	out, errOut, code := runCLI(t, "", "check", "-config", cfg)
	if code != exitConfigErr {
		t.Errorf("exit %d, want %d", code, exitConfigErr)
	}
	all := out + errOut
	for _, want := range []string{
		`many.toml:1: domain: "" is not a mail domain; write e.g. "liaison.example.org"`,
		`many.toml:3: log_levle: unknown key; did you mean log_level?`,
		`many.toml:4: templates: cannot use`,
		`many.toml:7: smtp.listen: "127.0.0.1:99999" is not host:port (port "99999" is not a number from 0 to 65535)`,
		`many.toml:8: smtp.timeout: "forever" is not a duration`,
		`many.toml:9: smtp.tls_cert_file: smtp.tls_key_file is not set`,
		`many.toml:11: http.listen: "127.0.0.1:8080x" is not host:port`,
		`many.toml:13: outbound.retry_min: "soon" is not a duration`,
		`many.toml:15: outbound.dkim_key_file:`,
		`many.toml:17: limits.statements_per_hour: incompatible types: TOML value has type string; destination has type integer`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("check output lacks %q", want)
		}
	}
	if strings.Contains(all, "statements@>") || strings.Contains(all, "@\"") {
		t.Errorf("a hint built from the empty domain:\n%s", all)
	}
	if t.Failed() {
		t.Log(all)
	}
}

// TestCheckProbe: -probe logs in to the smarthost (Mailpit) and reports a
// smarthost that does not answer as a problem of outbound.smarthost.
func TestCheckProbe(t *testing.T) {
	mp := startMailpit(t)
	dir := t.TempDir()
	writeFile(t, dir, "pw", "secret\n")
	good := writeFile(t, dir, "good.toml", fmt.Sprintf("domain = \"liaison.example\"\ndata_dir = \"data\"\n[outbound]\nsmarthost = %q\ntls = \"none\"\nusername = \"lsm\"\npassword_file = \"pw\"\n", mp.SMTPAddr))
	out, errOut, code := runCLI(t, "", "check", "-probe", "-config", good)
	if code != 0 || !strings.Contains(out, "probe outbound.smarthost: "+mp.SMTPAddr+" answers (tls none, logged in as lsm)") {
		t.Errorf("probe of a working smarthost: exit %d\n%s%s", code, out, errOut)
	}
	down := freePort(t)
	bad := writeFile(t, dir, "bad.toml", fmt.Sprintf("domain = \"liaison.example\"\ndata_dir = \"data\"\n[outbound]\nsmarthost = %q\ntls = \"none\"\n", down))
	out, errOut, code = runCLI(t, "", "check", "-probe", "-config", bad)
	if code != exitConfigErr || !strings.Contains(out, "bad.toml:4: outbound.smarthost: connect to smarthost "+down) {
		t.Errorf("probe of a dead smarthost: exit %d\n%s%s", code, out, errOut)
	}
}

// selfSignedFiles writes a certificate and key for 127.0.0.1 and returns
// their paths and a pool that trusts the certificate.
func selfSignedFiles(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool, serial *big.Int) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "liaison.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"liaison.example"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	return certFile, keyFile, pool, serial
}

// TestSTARTTLS: with smtp.tls_cert_file/tls_key_file the listener offers
// STARTTLS; a client upgrades and submits; after the files change, SIGHUP
// makes the listener serve the new certificate.
func TestSTARTTLS(t *testing.T) {
	certDir := t.TempDir()
	certFile, keyFile, pool, serial := selfSignedFiles(t, certDir, "one")
	d := startDaemonWith(t, "", "", fmt.Sprintf("tls_cert_file = %q\ntls_key_file = %q\n", certFile, keyFile), "")
	submitTLS := func(msgID string) *x509.Certificate {
		t.Helper()
		// Without STARTTLS in the EHLO answer, DialStartTLS fails.
		c, err := smtp.DialStartTLS(d.smtpAddr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
		defer c.Close()
		raw := strings.Replace(submission, "ls-otn-1@itu.example", msgID, 1)
		if err := c.SendMail("sender@itu.example", []string{"statements@liaison.example"}, strings.NewReader(raw)); err != nil {
			t.Fatalf("submission over TLS: %v", err)
		}
		state, ok := c.TLSConnectionState()
		if !ok || len(state.PeerCertificates) == 0 {
			t.Fatal("no TLS after STARTTLS")
		}
		c.Quit()
		return state.PeerCertificates[0]
	}
	if cert := submitTLS("tls-1@itu.example"); cert.SerialNumber.Cmp(serial) != 0 {
		t.Errorf("served certificate %v, want %v", cert.SerialNumber, serial)
	}
	out, err := d.cli(t, "list")
	if err != nil || !strings.Contains(out, "LS-1") {
		t.Fatalf("list after TLS submission: %v\n%s", err, out)
	}

	// Renewal: new files in place, SIGHUP, the new certificate is served.
	c2, k2, _, serial2 := selfSignedFiles(t, certDir, "two")
	newPEM, _ := os.ReadFile(c2)
	pool.AppendCertsFromPEM(newPEM)
	os.Rename(c2, certFile)
	os.Rename(k2, keyFile)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	var got *big.Int
	for i := 0; i < 100; i++ {
		got = submitTLS(fmt.Sprintf("tls-%d@itu.example", i+2)).SerialNumber
		if got.Cmp(serial2) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.Cmp(serial2) != 0 {
		t.Errorf("after SIGHUP the listener serves certificate %v, want the new %v\n%s", got, serial2, d.stderr.String())
	}
}

// TestDKIMSigned: with a key from `liaisond dkim-keygen`, every mail the
// daemon writes carries a DKIM signature for the domain that go-msgauth
// verifies against the TXT record dkim-keygen printed.
func TestDKIMSigned(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		t.Run(kind, func(t *testing.T) {
			keyDir := t.TempDir()
			keyFile := filepath.Join(keyDir, "dkim.pem")
			out, errOut, code := runCLI(t, "", "dkim-keygen", "-type", kind, "-selector", "ls2027", keyFile)
			if code != 0 {
				t.Fatalf("dkim-keygen: exit %d\n%s%s", code, out, errOut)
			}
			record := txtRecordFrom(t, out, "ls2027._domainkey.liaison.example.")
			if fi, _ := os.Stat(keyFile); fi == nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode: %v", fi)
			}
			if _, _, code := runCLI(t, "", "dkim-keygen", keyFile); code != exitUsage {
				t.Errorf("dkim-keygen over an existing key: exit %d", code)
			}

			d := startDaemon(t, "", fmt.Sprintf("[outbound]\ndkim_selector = \"ls2027\"\ndkim_key_file = %q\n", keyFile))
			if out, err := d.cli(t, "check"); err != nil || !strings.Contains(out, "dkim: signing for liaison.example") {
				t.Errorf("check with the key: %v\n%s", err, out)
			}
			if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
				t.Fatal(err)
			}
			files := waitFiles(t, filepath.Join(d.dir, "data", "sent"), 9)
			lookup := func(domain string) ([]string, error) {
				if domain != "ls2027._domainkey.liaison.example" {
					return nil, fmt.Errorf("no TXT at %s", domain)
				}
				return []string{record}, nil
			}
			for _, f := range files {
				raw, _ := os.ReadFile(f)
				verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if len(verifications) != 1 || verifications[0].Err != nil || verifications[0].Domain != "liaison.example" {
					t.Errorf("%s: verifications %+v", filepath.Base(f), verifications)
				}
				// A changed subject breaks the signature: it does cover the headers.
				forged := bytes.Replace(raw, []byte("Subject: "), []byte("Subject: X"), 1)
				v2, _ := dkim.VerifyWithOptions(bytes.NewReader(forged), &dkim.VerifyOptions{LookupTXT: lookup})
				if len(v2) != 1 || v2[0].Err == nil {
					t.Errorf("%s: a changed Subject still verifies", filepath.Base(f))
				}
			}
			// Signed as they went, not when they were queued: the outbox
			// holds them unsigned, the notification's copies as shared parts.
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "data", "liaisond.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var mails, signed, notifications, shared int
			err = db.QueryRow(`SELECT count(*),
				count(*) FILTER (WHERE instr(r.raw, CAST('DKIM-Signature' AS BLOB)) > 0 OR instr(o.fill, CAST('DKIM-Signature' AS BLOB)) > 0
					OR instr(s.parts, CAST('DKIM-Signature' AS BLOB)) > 0),
				count(*) FILTER (WHERE o.kind = 'notification'), count(o.shared_id) FILTER (WHERE o.kind = 'notification')
				FROM outbox o LEFT JOIN outbox_raw r ON r.id = o.id LEFT JOIN outbox_shared s ON s.id = o.shared_id`).Scan(&mails, &signed, &notifications, &shared)
			if err != nil {
				t.Fatal(err)
			}
			if mails < len(files) || signed != 0 || notifications < 5 || shared != notifications {
				t.Errorf("outbox: %d mails (%d delivered), %d stored signed; %d of %d notification copies stored as shared parts",
					mails, len(files), signed, shared, notifications)
			}
		})
	}
}

// txtRecordFrom takes the TXT value out of dkim-keygen's output (joining
// the quoted strings, as a resolver does).
func txtRecordFrom(t *testing.T, out, name string) string {
	t.Helper()
	i := strings.Index(out, name+" IN TXT ")
	if i < 0 {
		t.Fatalf("no TXT record for %s in:\n%s", name, out)
	}
	var parts []string
	rest := out[i:]
	for {
		a := strings.IndexByte(rest, '"')
		if a < 0 {
			break
		}
		b := strings.IndexByte(rest[a+1:], '"')
		parts = append(parts, rest[a+1:a+1+b])
		rest = rest[a+b+2:]
	}
	return strings.Join(parts, "")
}

func waitFiles(t *testing.T, dir string, n int) []string {
	t.Helper()
	var files []string
	for i := 0; i < 600; i++ {
		files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
		if len(files) >= n {
			return files
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%d files in %s, want %d", len(files), dir, n)
	return nil
}

// TestJSONLogs: with log_format = "json" every line serve writes, on
// stdout and stderr, startup and shutdown included, is a JSON object.
func TestJSONLogs(t *testing.T) {
	d := startDaemonWith(t, "", "log_format = \"json\"", "", "")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	waitFiles(t, filepath.Join(d.dir, "data", "sent"), 9)
	d.stop(t)
	for name, text := range map[string]string{"stdout": d.stdout.String(), "stderr": d.stderr.String()} {
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			lines++
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("%s line is not JSON: %q", name, sc.Text())
			}
		}
		if lines == 0 {
			t.Errorf("nothing on %s", name)
		}
	}
	for _, want := range []string{"SMTP listening on", "ready;", "database upgrade: applying migration", "message received", "liaisond stopped"} {
		if !strings.Contains(d.stdout.String()+d.stderr.String(), want) {
			t.Errorf("no %q line", want)
		}
	}
}

// TestSMTPConnectionCap: past smtp.max_connections a client is told 421
// and disconnected; when one leaves, the next is served.
func TestSMTPConnectionCap(t *testing.T) {
	d := startDaemonWith(t, "", "", "max_connections = 2", "")
	greet := func() (net.Conn, string) {
		t.Helper()
		c, err := net.Dial("tcp", d.smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	c1, l1 := greet()
	c2, l2 := greet()
	c3, l3 := greet()
	if !strings.HasPrefix(l1, "220") || !strings.HasPrefix(l2, "220") {
		t.Errorf("first two: %q %q", l1, l2)
	}
	if !strings.HasPrefix(l3, "421 4.7.0") {
		t.Errorf("third connection: %q, want 421", l3)
	}
	c3.Close()
	c1.Close()
	var l4 string
	for i := 0; i < 100; i++ { // the slot frees when the server sees c1 close
		var c4 net.Conn
		c4, l4 = greet()
		c4.Close()
		if strings.HasPrefix(l4, "220") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(l4, "220") {
		t.Errorf("after one left: %q, want 220", l4)
	}
	c2.Close()
}

// TestSMTPSlowData: a client that drips its DATA is cut off at
// smtp.data_timeout (whole transaction), although each byte comes well
// within the per-command timeout; nothing is stored.
func TestSMTPSlowData(t *testing.T) {
	d := startDaemonWith(t, "", "", "timeout = \"1m\"\ndata_timeout = \"2s\"", "")
	c, err := net.Dial("tcp", d.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	expectDripCutOff(t, d, c, "EHLO")
}

// expectDripCutOff starts a transaction on c (hello: EHLO or LHLO), drips
// its DATA one byte every 200 ms, and expects the server to answer 421 and
// hang up, with nothing stored.
func expectDripCutOff(t *testing.T, d *daemon, c net.Conn, hello string) {
	t.Helper()
	defer c.Close()
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	expect := func(cmd, code string) {
		t.Helper()
		if cmd != "" {
			fmt.Fprintf(c, "%s\r\n", cmd)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			if len(line) < 4 || line[3] != '-' {
				if !strings.HasPrefix(line, code) {
					t.Fatalf("after %q: %q, want %s", cmd, line, code)
				}
				return
			}
		}
	}
	expect("", "220")
	expect(hello+" client.example", "250")
	expect("MAIL FROM:<sender@itu.example>", "250")
	expect("RCPT TO:<statements@liaison.example>", "250")
	expect("DATA", "354")
	// One byte every 200 ms: each read is quick, the whole never ends. The
	// server must hang up; the 60 s read deadline above fails the test if not.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, b := range []byte(submission) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	var last string
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			last = line
		}
		if err != nil {
			break
		}
	}
	if !strings.HasPrefix(last, "421") {
		t.Errorf("last reply %q, want 421 (transaction too slow)", last)
	}
	c.Close()
	<-done
	if out, _ := d.cli(t, "list"); strings.Contains(out, "LS-1") {
		t.Errorf("a cut-off message was stored:\n%s", out)
	}
}

// TestSentTempFilesRemovedAtStart: a .tmp-* file a crash left in sent/ is
// gone once the daemon has started; real mails stay.
func TestSentTempFilesRemovedAtStart(t *testing.T) {
	d := startDaemon(t, "", "")
	d.stop(t)
	sent := filepath.Join(d.dir, "data", "sent")
	os.MkdirAll(sent, 0o755)
	stale := filepath.Join(sent, ".tmp-123456")
	keep := filepath.Join(sent, "000001-receipt-a@b.example.eml")
	os.WriteFile(stale, []byte("half a mail"), 0o600)
	os.WriteFile(keep, []byte("a mail"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	out, err := d.cli(t, "tickle", "-dry-run") // any command that opens the app
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error(".tmp file left in sent/")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("a delivered mail was removed")
	}
}

// TestBackupWhileServing: `liaisond backup` while serve takes submissions
// writes a sound database holding every statement committed before it and
// the secret; a daemon started on the copy serves them.
func TestBackupWhileServing(t *testing.T) {
	d := startDaemon(t, "", "")
	stop := make(chan struct{})
	sentOK := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sentOK <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			raw := strings.Replace(submission, "ls-otn-1@itu.example", fmt.Sprintf("load-%d@itu.example", i), 1)
			if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, raw); err != nil {
				t.Error(err)
				return
			}
			n++
		}
	}()
	time.Sleep(500 * time.Millisecond)
	backup := filepath.Join(t.TempDir(), "copy.db")
	out, err := d.cli(t, "backup", backup)
	close(stop)
	accepted := <-sentOK
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	db, err := sql.Open("sqlite3", "file:"+backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	var n, maxID int
	db.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	db.QueryRow(`SELECT count(*), coalesce(max(id), 0) FROM statements`).Scan(&n, &maxID)
	if check != "ok" || n == 0 || n != maxID || n > accepted {
		t.Errorf("backup: integrity %q, %d statements (max id %d), %d accepted in all", check, n, maxID, accepted)
	}
	secret, _ := os.ReadFile(filepath.Join(d.dir, "data", "secret"))
	copied, _ := os.ReadFile(backup + ".secret")
	if len(secret) == 0 || !bytes.Equal(secret, copied) {
		t.Error("the secret was not copied")
	}
	for _, f := range []string{backup, backup + ".secret"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
	// Restore as the README says: the copy becomes a data directory.
	restored := t.TempDir()
	os.MkdirAll(filepath.Join(restored, "data"), 0o700)
	copyPath(t, backup, filepath.Join(restored, "data", "liaisond.db"))
	copyPath(t, backup+".secret", filepath.Join(restored, "data", "secret"))
	cfg := writeFile(t, restored, "l.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n")
	out, _, code := runCLI(t, "", "show", "-config", cfg, fmt.Sprintf("LS-%d", n))
	if code != 0 || !strings.Contains(out, "Response to LS on OTN control") {
		t.Errorf("restored copy: exit %d\n%s", code, out)
	}
}

func copyPath(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestExampleConfigDocumentsEveryKey: every key the configuration has is
// in example/liaisond.toml (with its comment), and nothing else is.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	written := keyLines(readFile(t, "../../example/liaisond.toml"))
	for k := range knownKeys(reflect.TypeOf(Config{}), "") {
		if _, ok := written[k]; !ok {
			t.Errorf("example/liaisond.toml lacks %s", k)
		}
	}
}

// TestREADMEMatchesHelp: the README's list of commands is the help's, line
// for line, and the README names no file the repository lacks.
func TestREADMEMatchesHelp(t *testing.T) {
	readme := readFile(t, "../../README.md")
	i := strings.Index(readme, "## Commands\n")
	if i < 0 {
		t.Fatal("README has no Commands section")
	}
	block := readme[i:]
	a := strings.Index(block, "```\n")
	b := strings.Index(block[a+4:], "```")
	inREADME := strings.TrimSpace(block[a+4 : a+4+b])
	u := usage[strings.Index(usage, "Usage:\n")+len("Usage:\n"):]
	u = u[:strings.Index(u, "\n\n")]
	var lines []string
	for _, l := range strings.Split(u, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	if inHelp := strings.Join(lines, "\n"); inREADME != inHelp {
		t.Errorf("README commands:\n%s\n\nhelp:\n%s", inREADME, inHelp)
	}
	for _, gone := range []string{"DESIGN.md", "soon, a public web page", "web (health check)", "sqlite_fts5"} {
		if strings.Contains(readme, gone) {
			t.Errorf("README still says %q", gone)
		}
	}
	for _, m := range regexp.MustCompile("`((?:deploy|example|testdata|templates)/[^`\\s]+)`").FindAllStringSubmatch(readme, -1) {
		if _, err := os.Stat(filepath.Join("../..", strings.TrimSuffix(m[1], "/"))); err != nil {
			t.Errorf("README names %s, which does not exist", m[1])
		}
	}
}

// TestCheckProbeIMAP: -probe logs in to a real IMAP server (Dovecot) and
// reports a wrong password as a problem of imap.addr.
func TestCheckProbeIMAP(t *testing.T) {
	dc := dovecottest.Start(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n"+imapConfig(t, dc, ""))
	out, errOut, code := runCLI(t, "", "check", "-probe", "-config", good)
	if code != 0 || !strings.Contains(out, "probe imap.addr: "+dc.Addr+" answers (tls none, logged in as "+dc.User+")") {
		t.Errorf("probe of Dovecot: exit %d\n%s%s", code, out, errOut)
	}
	writeFile(t, dir, "wrong.pass", "not-the-password\n")
	bad := writeFile(t, dir, "bad.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n"+
		fmt.Sprintf("[imap]\naddr = %q\ntls = \"none\"\nusername = %q\npassword_file = \"wrong.pass\"\n", dc.Addr, dc.User))
	out, errOut, code = runCLI(t, "", "check", "-probe", "-config", bad)
	if code != exitConfigErr || !strings.Contains(out, "bad.toml:4: imap.addr: login as "+dc.User) {
		t.Errorf("probe with a wrong password: exit %d\n%s%s", code, out, errOut)
	}
}

// TestMakeCleanKeepsData: `make clean` removes the binary, never the data
// directory (the database and the token secret).
func TestMakeCleanKeepsData(t *testing.T) {
	makeBin := findTool(t, "make", "apt-get install make")
	dir := t.TempDir()
	writeFile(t, dir, "Makefile", readFile(t, "../../Makefile"))
	writeFile(t, dir, "liaisond", "binary")
	os.MkdirAll(filepath.Join(dir, "liaisond-data"), 0o700)
	writeFile(t, filepath.Join(dir, "liaisond-data"), "secret", "1:00")
	if out, err := exec.Command(makeBin, "-C", dir, "clean").CombinedOutput(); err != nil {
		t.Fatalf("make clean: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "liaisond")); err == nil {
		t.Error("make clean left the binary")
	}
	if _, err := os.Stat(filepath.Join(dir, "liaisond-data", "secret")); err != nil {
		t.Errorf("make clean removed the data: %v", err)
	}
}
