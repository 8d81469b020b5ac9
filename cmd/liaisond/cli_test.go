package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	code = 0
	if err != nil {
		code = exitSoftware
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheck: `liaisond check` names the file and key of every problem.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n")
	out, errOut, code := runCLI(t, "", "check", "-config", good)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("good config: code %d\n%s%s", code, out, errOut)
	}
	if _, _, code := runCLI(t, "", "check", "-config", "../../example/liaisond.toml"); code != 0 {
		t.Errorf("example/liaisond.toml does not pass check (code %d)", code)
	}

	bad := writeFile(t, dir, "bad.toml", `domain = "liaison"
data_dir = "data"
directory = "dir.toml"
colour = "blue"
wal_reserve_mb = -1
[smtp]
listen = "nowhere"
[outbound]
tls = "ssl"
smarthost = "mail.example:587"
username = "lsm"
retry_min = "soon"
`)
	writeFile(t, dir, "dir.toml", "secretariat = \"IETF Secretariat <statements@ietf.example>\"\n[[body]]\nid = \"ccamp\"\nkind = \"wgg\"\nname = \"CCAMP\"\n")
	out, errOut, code = runCLI(t, "", "check", "-config", bad)
	if code != exitConfigErr {
		t.Errorf("bad config: exit %d, want %d", code, exitConfigErr)
	}
	// A value of the wrong form is reported with its line and key.
	all := out + errOut
	if want := `bad.toml:12: outbound.retry_min: "soon" is not a duration`; !strings.Contains(all, want) {
		t.Errorf("check output lacks %q:\n%s", want, all)
	}

	// Every value problem is listed at once, with its line.
	bad2 := writeFile(t, dir, "bad2.toml", strings.Replace(readFile(t, bad), "retry_min = \"soon\"\n", "", 1))
	out, errOut, code = runCLI(t, "", "check", "-config", bad2)
	all = out + errOut
	if code != exitConfigErr {
		t.Errorf("bad2: exit %d", code)
	}
	for _, want := range []string{
		`bad2.toml:4: colour: unknown key`,
		`bad2.toml:1: domain: "liaison" is not a mail domain`,
		`bad2.toml:5: wal_reserve_mb: -1 is not between 0 (no reserve) and 16384 MB`,
		`bad2.toml:7: smtp.listen: "nowhere" is not host:port`,
		`bad2.toml:9: outbound.tls: "ssl" is not one of none, starttls, tls`,
		`bad2.toml:8: outbound.password_file: outbound.username is set`,
		`dir.toml:4: body[1] (ccamp).kind: "wgg" is not one of`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("check output lacks %q:\n%s", want, all)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIngestPipe: the MTA pipe mode with its sysexits codes.
func TestIngestPipe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "l.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n")
	msg := "From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: LS on things\r\nMessage-ID: <pipe-1@itu.example>\r\n\r\n" +
		"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nPurpose: For Information\r\n\r\nText.\r\n"

	out, errOut, code := runCLI(t, msg, "ingest", "-config", cfg, "-")
	if code != 0 || !strings.Contains(out, "LS-1") {
		t.Fatalf("ingest: code %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "mail(s) sent") {
		t.Errorf("ingest did not deliver the queued mail:\n%s", out)
	}
	sent, _ := filepath.Glob(filepath.Join(dir, "data", "sent", "*.eml"))
	if len(sent) == 0 {
		t.Error("no mail written to data/sent")
	}
	// The same message again: recognized, nothing changes, exit 0.
	out, _, code = runCLI(t, msg, "ingest", "-config", cfg, "-")
	if code != 0 || !strings.Contains(out, "already received") {
		t.Errorf("re-delivery: code %d\n%s", code, out)
	}
	// A submission with problems: stored as rejected, exit 65.
	bad := strings.Replace(strings.Replace(msg, "pipe-1", "pipe-2", 1), "Purpose: For Information", "Purpose: For Fun", 1)
	msgFile := writeFile(t, dir, "bad.eml", bad)
	out, _, code = runCLI(t, "", "ingest", "-config", cfg, msgFile)
	if code != exitDataErr || !strings.Contains(out, "Purpose") {
		t.Errorf("rejected: code %d, want %d\n%s", code, exitDataErr, out)
	}
	// A file that cannot be read: temporary failure, exit 75.
	_, _, code = runCLI(t, "", "ingest", "-config", cfg, filepath.Join(dir, "missing.eml"))
	if code != exitTempFail {
		t.Errorf("missing file: code %d, want %d", code, exitTempFail)
	}

	out, _, _ = runCLI(t, "", "show", "-config", cfg, "-json", "1")
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil || st["ref"] != "LS-1" || st["purpose"] != "information" {
		t.Errorf("show: %v %v", st, err)
	}
	out, _, code = runCLI(t, "", "show", "-config", cfg, "LS-9")
	if code != exitDataErr {
		t.Errorf("show LS-9: code %d\n%s", code, out)
	}
	out, _, _ = runCLI(t, "", "list", "-config", cfg)
	if !strings.Contains(out, "LS-1") || !strings.Contains(out, "ITU-T Study Group 15") {
		t.Errorf("list:\n%s", out)
	}
}
