package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// buildBinary builds liaisond with plain `go build` (no flags, no tags).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "liaisond")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto") // Go's defaults: no tags
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestDeploySystemdUnits: systemd itself (systemd-analyze verify) accepts
// the units in deploy/ without a warning, and the service is sandboxed.
func TestDeploySystemdUnits(t *testing.T) {
	analyze := findTool(t, "systemd-analyze", "apt-get install systemd")
	bin := buildBinary(t)
	dir := t.TempDir()
	units := []string{"liaisond.service", "liaisond-backup.service", "liaisond-backup.timer"}
	for _, u := range units {
		text := readFile(t, filepath.Join("../../deploy", u))
		// verify checks that ExecStart's binary exists: point it at the one just built.
		text = strings.ReplaceAll(text, "/usr/local/bin/liaisond", bin)
		if err := os.WriteFile(filepath.Join(dir, u), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, units...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	unit := readFile(t, "../../deploy/liaisond.service")
	for _, want := range []string{"User=liaisond", "StateDirectory=liaisond", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "RestartPreventExitStatus=78", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).MatchString(unit) {
			t.Errorf("liaisond.service lacks %q", want)
		}
	}
	// systemd's own rating of the sandbox: 0 (locked down) to 10 (exposed).
	sec := exec.Command(analyze, "security", "--offline=true", "liaisond.service")
	sec.Dir = dir
	out, _ = sec.CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for liaisond.service: (\d+\.\d+)`).FindStringSubmatch(string(out))
	if exposure, err := strconv.ParseFloat(m2(m), 64); err != nil || exposure > 2.0 {
		t.Errorf("systemd-analyze security: exposure %v, want at most 2.0\n%s", m, out)
	}
}

func m2(m []string) string {
	if m == nil {
		return ""
	}
	return m[1]
}

// TestDeployPostfixPipe: the pipe(8) line of deploy/postfix-master.cf, with
// ${sender} and ${recipient} expanded as pipe(8) does, stores a statement.
func TestDeployPostfixPipe(t *testing.T) {
	bin := buildBinary(t)
	master := readFile(t, "../../deploy/postfix-master.cf")
	m := regexp.MustCompile(`(?m)^  flags=(\S*) user=liaisond argv=(.*)$`).FindStringSubmatch(master)
	if m == nil {
		t.Fatalf("no pipe entry in postfix-master.cf:\n%s", master)
	}
	argv := strings.Fields(m[2])
	dir := t.TempDir()
	cfg := writeFile(t, dir, "liaisond.toml", "domain = \"liaison.example\"\ndata_dir = \"data\"\n")
	for i, a := range argv {
		switch a {
		case "/usr/local/bin/liaisond":
			argv[i] = bin
		case "/etc/liaisond/liaisond.toml":
			argv[i] = cfg
		case "${sender}":
			argv[i] = "sender@itu.example"
		case "${recipient}":
			argv[i] = "statements@liaison.example"
		}
	}
	if !strings.Contains(m[2], "-f ${sender}") || !strings.Contains(m[2], "-r ${recipient}") {
		t.Errorf("the pipe line does not pass the envelope: %s", m[2])
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(submission)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "LS-1") {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
	transport := readFile(t, "../../deploy/postfix-transport")
	if !strings.Contains(transport, "liaisond-lmtp:unix:/run/liaisond/lmtp.sock") || !strings.Contains(master, "liaisond-lmtp unix") {
		t.Error("the LMTP transport and its master.cf entry do not match")
	}
	if !strings.Contains(readFile(t, "../../deploy/liaisond.toml"), `socket = "/run/liaisond/lmtp.sock"`) {
		t.Error("deploy/liaisond.toml does not put the LMTP socket where the transport looks")
	}
}

// TestDeployConfig: deploy/liaisond.toml passes `check` once its paths
// point at a scratch directory and its key and directory exist.
func TestDeployConfig(t *testing.T) {
	dir := t.TempDir()
	text := readFile(t, "../../deploy/liaisond.toml")
	text = strings.ReplaceAll(text, `"/var/lib/liaisond"`, `"data"`)
	text = strings.ReplaceAll(text, `"/run/liaisond/lmtp.sock"`, `"lmtp.sock"`)
	cfg := writeFile(t, dir, "liaisond.toml", text)
	writeFile(t, dir, "directory.toml", readFile(t, "../../testdata/directory.toml"))
	if out, errOut, code := runCLI(t, "", "dkim-keygen", "-config", cfg, filepath.Join(dir, "dkim.pem")); code != 0 {
		t.Fatalf("dkim-keygen: %s%s", out, errOut)
	}
	out, errOut, code := runCLI(t, "", "check", "-config", cfg)
	if code != 0 {
		t.Errorf("check deploy/liaisond.toml: exit %d\n%s%s", code, out, errOut)
	}
}
