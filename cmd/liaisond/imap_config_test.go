package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/store"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("pw\n"), 0o600)
	path := filepath.Join(dir, "liaisond.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every [imap] key has a default and is checked, with the file and key named.
func TestIMAPConfig(t *testing.T) {
	cfg, err := loadConfig(writeConfig(t, "[imap]\naddr = \"127.0.0.1:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"imap.pass\"\nidle = true\n"))
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	m := cfg.IMAP
	if m.Mailbox != "INBOX" || m.ProcessedFolder != "processed" || m.FailedFolder != "failed" || m.Idle != "on" ||
		m.PollInterval.Seconds() != 60 || m.BackoffMax.Minutes() != 5 {
		t.Errorf("defaults: %+v", m)
	}
	if d := defaultConfig(); d.IMAP.Addr != "" || d.IMAP.TLS != "tls" || d.LMTP.Socket != "" {
		t.Errorf("built-in default polls nothing: %+v", d.IMAP)
	}
	for _, c := range []struct{ body, key, want string }{
		{"[imap]\naddr = \"imap.example.org:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"imap.pass\"\n", "imap.tls", "loopback"},
		{"[imap]\naddr = \"imap.example.org\"\nusername = \"u\"\npassword_file = \"imap.pass\"\n", "imap.addr", "host:port"},
		{"[imap]\naddr = \"imap.example.org:993\"\nusername = \"u\"\npassword_file = \"missing.pass\"\n", "imap.password_file", "cannot read"},
		{"[imap]\naddr = \"imap.example.org:993\"\npassword_file = \"imap.pass\"\n", "imap.username", "needed"},
		{"[imap]\naddr = \"imap.example.org:993\"\nusername = \"u\"\npassword_file = \"imap.pass\"\nidle = \"sometimes\"\n", "imap.idle", "auto"},
		{"[imap]\naddr = \"imap.example.org:993\"\nusername = \"u\"\npassword_file = \"imap.pass\"\nprocessed_folder = \"INBOX\"\n", "imap.processed_folder", "differ"},
		{"[imap]\naddr = \"imap.example.org:993\"\nusername = \"u\"\npassword_file = \"imap.pass\"\npoll_interval = \"10ms\"\n", "imap.poll_interval", "at least"},
		{"[imap]\naddr = \"imap.example.org:993\"\nusername = \"u\"\npassword_file = \"imap.pass\"\nca_file = \"imap.pass\"\n", "imap.ca_file", "no PEM"},
		{"[imap]\nfolder = \"x\"\n", "imap.folder", "unknown key"},
	} {
		_, err := loadConfig(writeConfig(t, c.body))
		if err == nil || !strings.Contains(err.Error(), c.key+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %s with %q", strings.ReplaceAll(c.body, "\n", " "), err, c.key, c.want)
		}
	}
}

// `liaisond status` does not believe a "connected" the daemon wrote long ago
// (a daemon killed while connected cannot clear it).
func TestStatusStaleIMAPState(t *testing.T) {
	path := writeConfig(t, "data_dir = \"data\"\n[imap]\naddr = \"127.0.0.1:143\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"imap.pass\"\n")
	cfg := mustConfig(t, path)
	os.MkdirAll(cfg.resolve("data"), 0o755)
	s, err := store.Open(context.Background(), filepath.Join(cfg.resolve("data"), "liaisond.db"))
	if err != nil {
		t.Fatal(err)
	}
	key := "u@127.0.0.1:143/INBOX"
	s.Update(context.Background(), func(tx *store.Tx) error {
		return tx.PutIMAPState(&store.IMAPState{Mailbox: key, UIDValidity: 7, LastUID: 42, Connected: true, Backlog: 3, UpdatedAt: time.Now().Add(-time.Hour)})
	})
	s.Close()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"status", "-config", path}, nil, &out, &errOut); err != nil {
		t.Fatalf("status: %v %s", err, errOut.String())
	}
	want := "imap:     " + key + ": disconnected, uidvalidity 7, last uid 42, backlog 3"
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "stale") {
		t.Errorf("status output:\n%s\nwant a line with %q and a stale warning", out.String(), want)
	}
}
