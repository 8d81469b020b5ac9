package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"liaisond/notify"
	"liaisond/templates"
)

// cmdCheck reports every problem of the configuration, the directory, the
// templates and the data directory at once, each with its file, line and
// key; with -probe it also connects to the smarthost and the IMAP server
// and logs in. Exit 78 (EX_CONFIG) on any problem.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var probe bool
	fs := newFlagSet("check", stderr)
	configPath := fs.String("config", "", "configuration file (TOML); none: the built-in default")
	fs.BoolVar(&probe, "probe", false, "also connect to the smarthost and the IMAP server: TCP, TLS, login")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	var problems []string
	add := func(err error) {
		for _, line := range strings.Split(err.Error(), "\n") {
			if strings.TrimSpace(line) != "" {
				problems = append(problems, strings.TrimSpace(line))
			}
		}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		add(err)
	}
	if cfg != nil {
		if dir, err := loadDirectory(cfg); err != nil {
			add(err)
		} else {
			fmt.Fprintf(stdout, "directory: %d bodies, secretariat %s\n", len(dir.Bodies), dir.Secretariat.Addr)
		}
		if _, err := templates.Load(cfg.resolve(cfg.Templates)); err != nil {
			add(cfg.problem("templates", err.Error()))
		}
		dataDir := cfg.resolve(cfg.DataDir)
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			add(cfg.problem("data_dir", err.Error()))
		} else if f, err := os.CreateTemp(dataDir, ".check-*"); err != nil {
			add(cfg.problem("data_dir", fmt.Sprintf("%s is not writable: %v", dataDir, err)))
		} else {
			f.Close()
			os.Remove(f.Name())
			fmt.Fprintf(stdout, "data directory: %s (writable)\n", filepath.Clean(dataDir))
		}
		if cfg.Outbound.DKIMKeyFile != "" {
			if key, err := notify.LoadDKIMKey(cfg.resolve(cfg.Outbound.DKIMKeyFile)); err == nil {
				if rec, err := notify.DKIMRecord(key); err == nil {
					fmt.Fprintf(stdout, "dkim: signing for %s; publish TXT %s._domainkey.%s \"%s\"\n", cfg.Domain, cfg.Outbound.DKIMSelector, cfg.Domain, rec)
				}
			}
		}
		if probe && err == nil {
			for _, p := range probeAll(ctx, cfg) {
				if p.err != nil {
					add(cfg.problem(p.key, p.err.Error()))
				} else {
					fmt.Fprintf(stdout, "probe %s: %s\n", p.key, p.ok)
				}
			}
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, "problem:", p)
		}
		return exitf(exitConfigErr, "%d problem(s) found", len(problems))
	}
	fmt.Fprintf(stdout, "configuration %s: ok\n", cfg.file())
	return nil
}

type probeResult struct {
	key string
	ok  string
	err error
}

// probeAll connects to what the configuration names for mail: the
// smarthost (outbound.smarthost) and the IMAP server (imap.addr).
func probeAll(ctx context.Context, cfg *Config) []probeResult {
	var out []probeResult
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o := cfg.Outbound
	if o.Smarthost != "" {
		t := &notify.SMTPTransport{Addr: o.Smarthost, TLS: o.TLS, Username: o.Username, HeloName: cfg.Domain, Timeout: 15 * time.Second}
		if o.PasswordFile != "" {
			pw, _ := os.ReadFile(cfg.resolve(o.PasswordFile))
			t.Password = strings.TrimRight(string(pw), "\r\n")
		}
		r := probeResult{key: "outbound.smarthost"}
		if r.err = t.Probe(ctx); r.err == nil {
			r.ok = fmt.Sprintf("%s answers (tls %s", o.Smarthost, o.TLS)
			if o.Username != "" {
				r.ok += ", logged in as " + o.Username
			}
			r.ok += ")"
		}
		out = append(out, r)
	} else {
		out = append(out, probeResult{key: "outbound.smarthost", ok: "none set: mail is written to files in data_dir/sent"})
	}
	if cfg.IMAP.Addr != "" {
		r := probeResult{key: "imap.addr"}
		if r.err = probeIMAP(ctx, cfg); r.err == nil {
			r.ok = fmt.Sprintf("%s answers (tls %s, logged in as %s)", cfg.IMAP.Addr, cfg.IMAP.TLS, cfg.IMAP.Username)
		}
		out = append(out, r)
	}
	return out
}

// probeIMAP connects, does TLS as configured and logs in.
func probeIMAP(ctx context.Context, cfg *Config) error {
	m := cfg.IMAP
	pw, err := os.ReadFile(cfg.resolve(m.PasswordFile))
	if err != nil {
		return fmt.Errorf("imap.password_file: %w", err)
	}
	host, _, _ := net.SplitHostPort(m.Addr)
	tc := &tls.Config{ServerName: host}
	if m.CAFile != "" {
		if tc.RootCAs, err = loadCAPool(cfg.resolve(m.CAFile)); err != nil {
			return err
		}
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	// imapclient has no context: a deadline on the connection bounds it.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	opts := &imapclient.Options{TLSConfig: tc}
	var c *imapclient.Client
	switch m.TLS {
	case "tls":
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS: %w", err)
		}
		c = imapclient.New(tconn, opts)
	case "starttls":
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			return fmt.Errorf("STARTTLS: %w", err)
		}
	default:
		c = imapclient.New(conn, opts)
	}
	defer c.Close()
	if err := c.Login(m.Username, strings.TrimRight(string(pw), "\r\n")).Wait(); err != nil {
		return fmt.Errorf("login as %s: %w", m.Username, err)
	}
	if err := c.Logout().Wait(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
