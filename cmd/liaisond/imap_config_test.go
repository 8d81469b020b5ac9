package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
