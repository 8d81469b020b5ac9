package main

import (
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/token"
)

// TestDefaultFileTransport follows the README: the daemon without a
// smarthost, a first statement sent with swaks, and one .eml file per
// envelope recipient under data/sent, each beginning with Delivered-To and
// carrying a Reply-To token for that recipient.
func TestDefaultFileTransport(t *testing.T) {
	swaks := findTool(t, "swaks", "apt-get install swaks")
	d := startDaemon(t, "", "")
	body := "From: ITU-T SG15\nTo: IETF CCAMP WG\nTitle: First statement\nPurpose: For Information\n\nHello CCAMP.\n"
	cmd := exec.Command(swaks, "--server", d.smtpAddr, "--from", "rapporteur@itu.example", "--to", "statements@liaison.example",
		"--header", "Subject: First statement", "--body", body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	sent := filepath.Join(d.dir, "data", "sent")
	// notification: alice (To), carol, rick, dan, ccamp list, secretariat, bob, and the
	// submitter as the technical contact by default (DESIGN 4); receipt: the submitter.
	const want = 9
	var files []string
	for i := 0; i < 300 && len(files) < want; i++ {
		files, _ = filepath.Glob(filepath.Join(sent, "*.eml"))
		time.Sleep(50 * time.Millisecond)
	}
	if len(files) != want {
		t.Fatalf("%d files in %s, want %d: %v", len(files), sent, want, files)
	}
	keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	rcpts := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "Delivered-To: ") {
			t.Errorf("%s does not begin with Delivered-To", f)
		}
		m, err := mail.ReadMessage(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rcpt := m.Header.Get("Delivered-To")
		rcpts[rcpt]++
		rt, _ := mail.ParseAddress(m.Header.Get("Reply-To"))
		if rcpt == "ccamp@ietf.example" {
			continue // the alias copy carries no token
		}
		local, _, _ := strings.Cut(rt.Address, "@")
		id, tok, ok := token.ParseAddress("ls", local)
		if !ok || id != 1 || !keys.Verify(1, rcpt, tok) {
			t.Errorf("%s: Reply-To %s is not %s's personal address", f, rt.Address, rcpt)
		}
	}
	for _, a := range []string{"alice@ccamp.example", "bob@ccamp.example", "carol@ietf.example", "rick@ietf.example",
		"dan@lm.example", "ccamp@ietf.example", "statements@ietf.example", "rapporteur@itu.example"} {
		want := 1
		if a == "rapporteur@itu.example" {
			want = 2
		}
		if rcpts[a] != want {
			t.Errorf("%d files for %s, want %d (have %v)", rcpts[a], a, want, rcpts)
		}
	}
}
