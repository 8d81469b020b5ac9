package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// TestDKIMKeyRotation: SIGHUP re-reads [outbound] dkim_selector and
// dkim_key_file, so an operator rotates the key without a restart: a new
// selector and key file, then a new key in the same file; each mail after
// the SIGHUP verifies against the new TXT record only. A broken key file
// (or a config that does not load) keeps signing with the key in use.
func TestDKIMKeyRotation(t *testing.T) {
	keyDir := t.TempDir()
	keygen := func(selector, file string) string {
		t.Helper()
		out, errOut, code := runCLI(t, "", "dkim-keygen", "-type", "ed25519", "-selector", selector, file)
		if code != 0 {
			t.Fatalf("dkim-keygen: exit %d\n%s%s", code, out, errOut)
		}
		return txtRecordFrom(t, out, selector+"._domainkey.liaison.example.")
	}
	key1, key2 := filepath.Join(keyDir, "one.pem"), filepath.Join(keyDir, "two.pem")
	record1 := keygen("sel1", key1)
	d := startDaemon(t, "", fmt.Sprintf("[outbound]\ndkim_selector = \"sel1\"\ndkim_key_file = %q\n", key1))

	sentDir := filepath.Join(d.dir, "data", "sent")
	submitted := 0
	// submit sends one new statement and returns the mails it caused.
	submit := func() []string {
		t.Helper()
		submitted++
		raw := strings.Replace(submission, "ls-otn-1@itu.example", fmt.Sprintf("rot-%d@itu.example", submitted), 1)
		raw = strings.Replace(raw, "Title: Response to LS on OTN control", fmt.Sprintf("Title: Rotation %d", submitted), 1)
		if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
		// The mails about this statement (each names its title); at least
		// the 9 of the other tests' submissions.
		marker := []byte(fmt.Sprintf("Rotation %d", submitted))
		var fresh []string
		for i := 0; i < 600 && len(fresh) < 9; i++ {
			time.Sleep(50 * time.Millisecond)
			fresh = fresh[:0]
			files, _ := filepath.Glob(filepath.Join(sentDir, "*.eml"))
			for _, f := range files {
				if raw, _ := os.ReadFile(f); bytes.Contains(raw, marker) {
					fresh = append(fresh, f)
				}
			}
		}
		return fresh
	}
	// verifyOnly checks that each mail verifies against the one record
	// published at selector, and that selector alone is looked up.
	verifyOnly := func(phase string, files []string, selector, record string) {
		t.Helper()
		lookup := func(domain string) ([]string, error) {
			if domain != selector+"._domainkey.liaison.example" {
				return nil, fmt.Errorf("no TXT at %s", domain)
			}
			return []string{record}, nil
		}
		if len(files) == 0 {
			t.Fatalf("%s: no mail", phase)
		}
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			v, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
			if err != nil {
				t.Fatalf("%s: %s: %v", phase, filepath.Base(f), err)
			}
			if len(v) != 1 || v[0].Err != nil || v[0].Domain != "liaison.example" {
				t.Errorf("%s: %s: verifications %+v (want one pass with selector %s)", phase, filepath.Base(f), v, selector)
			}
		}
	}
	// hup sends SIGHUP and waits for the n-th log line containing want.
	hup := func(want string, n int) {
		t.Helper()
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		for i := 0; i < 400; i++ {
			if strings.Count(d.stderr.String(), want) >= n {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatalf("no %q (x%d) after SIGHUP:\n%s", want, n, d.stderr.String())
	}

	verifyOnly("before rotation", submit(), "sel1", record1)

	// A new selector and key file, named in the config.
	record2 := keygen("sel2", key2)
	cfg, _ := os.ReadFile(d.config)
	cfg = bytes.Replace(cfg, []byte(`"sel1"`), []byte(`"sel2"`), 1)
	cfg = bytes.Replace(cfg, []byte(key1), []byte(key2), 1)
	if err := os.WriteFile(d.config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	hup("DKIM key reloaded", 1)
	verifyOnly("new selector and key file", submit(), "sel2", record2)

	// A new key in the same file, same selector.
	fresh := filepath.Join(keyDir, "three.pem")
	record3 := keygen("sel2", fresh)
	if err := os.Rename(fresh, key2); err != nil {
		t.Fatal(err)
	}
	hup("DKIM key reloaded", 2)
	verifyOnly("new key in the same file", submit(), "sel2", record3)

	// A broken key file: the key in use stays, and the log says why.
	if err := os.WriteFile(key2, []byte("-----BEGIN PRIVATE KEY-----\nnot a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup("keeping the old key", 1)
	verifyOnly("after a broken key file", submit(), "sel2", record3)
	if !strings.Contains(d.stderr.String(), key2) {
		t.Errorf("the failed reload does not name the key file:\n%s", d.stderr.String())
	}
}
