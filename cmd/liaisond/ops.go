package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"liaisond/notify"
)

// cmdVersion prints the module version and the VCS revision the binary was
// built from (runtime/debug.ReadBuildInfo: `go install m@v` records the
// version, a build in a git checkout the revision).
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionString())
	return nil
}

func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "liaisond (no build information) " + runtime.Version()
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	out := "liaisond " + version
	if rev != "" {
		out += " revision " + rev + modified
		if when != "" {
			out += " of " + when
		}
	}
	return out + " " + bi.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// cmdBackup writes a consistent copy of the database (SQLite's online
// backup, safe while `liaisond serve` runs) and the token secret, without
// which the reply addresses in mails already sent stop working.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs, err := parseFlags("backup", args, stderr, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return exitf(exitUsage, "backup: name the file to write, e.g. `liaisond backup /var/backups/liaisond.db`")
	}
	dest := fs.Arg(0)
	s, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	pages, err := s.Backup(ctx, dest)
	if err != nil {
		return exitf(exitTempFail, "%v", err)
	}
	secret, err := os.ReadFile(filepath.Join(cfg.resolve(cfg.DataDir), "secret"))
	if err != nil {
		return exitf(exitTempFail, "backup: the token secret: %v", err)
	}
	if err := writeFileAtomic(dest+".secret", secret); err != nil {
		return exitf(exitTempFail, "backup: %v", err)
	}
	fmt.Fprintf(stdout, "database (%d pages) written to %s, token secret to %s.secret\n", pages, dest, dest)
	return nil
}

// writeFileAtomic writes data to path, mode 0600, through a temporary file
// renamed into place.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// cmdDKIMKeygen makes a DKIM key and prints the TXT record to publish.
func cmdDKIMKeygen(args []string, stdout, stderr io.Writer) error {
	var kind, selector string
	fs := newFlagSet("dkim-keygen", stderr)
	configPath := fs.String("config", "", "configuration file (TOML): its domain and outbound.dkim_selector name the record")
	fs.StringVar(&kind, "type", "rsa", "key type: rsa (2048 bits, every verifier knows it) or ed25519 (RFC 8463)")
	fs.StringVar(&selector, "selector", "", "the selector (default: outbound.dkim_selector, or liaisond1)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return exitf(exitUsage, "dkim-keygen: name the key file to write, e.g. `liaisond dkim-keygen dkim.pem`")
	}
	domain := "liaison.example"
	if *configPath != "" {
		cfg, err := loadConfig(*configPath)
		if cfg == nil {
			return &exitError{code: exitConfigErr, err: err}
		}
		domain = cfg.Domain
		if selector == "" {
			selector = cfg.Outbound.DKIMSelector
		}
	}
	if selector == "" {
		selector = "liaisond1"
	}
	path := fs.Arg(0)
	if _, err := os.Stat(path); err == nil {
		return exitf(exitUsage, "dkim-keygen: %s exists; it is not overwritten (a published key would stop matching)", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return exitf(exitUsage, "dkim-keygen: %v", err)
	}
	key, pemBytes, err := notify.GenerateDKIMKey(kind)
	if err != nil {
		return exitf(exitUsage, "dkim-keygen: %v", err)
	}
	record, err := notify.DKIMRecord(key)
	if err != nil {
		return exitf(exitSoftware, "dkim-keygen: %v", err)
	}
	if err := writeFileAtomic(path, pemBytes); err != nil {
		return exitf(exitTempFail, "dkim-keygen: %v", err)
	}
	fmt.Fprintf(stdout, "private key written to %s (mode 0600)\n\n", path)
	fmt.Fprintf(stdout, "Publish this DNS TXT record, then set in the [outbound] section:\n  dkim_selector = %q\n  dkim_key_file = %q\n\n", selector, path)
	fmt.Fprintf(stdout, "%s._domainkey.%s. IN TXT %s\n", selector, domain, txtQuote(record))
	return nil
}

// txtQuote splits a TXT value into quoted strings of at most 255 bytes
// (RFC 1035 3.3.14), as zone files and DNS consoles take a long RSA key.
func txtQuote(v string) string {
	var parts []string
	for len(v) > 255 {
		parts = append(parts, `"`+v[:255]+`"`)
		v = v[255:]
	}
	parts = append(parts, `"`+v+`"`)
	if len(parts) == 1 {
		return parts[0]
	}
	return "( " + strings.Join(parts, "\n    ") + " )"
}
