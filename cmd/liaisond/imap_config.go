package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"liaisond/receive"
)

// IMAPConfig is the [imap] section (DESIGN 9): the mailbox liaisond takes
// mail from when no MX can point at it. No addr: no polling.
type IMAPConfig struct {
	Addr            string   `toml:"addr"`
	TLS             string   `toml:"tls"` // none (loopback only) | starttls | tls
	CAFile          string   `toml:"ca_file"`
	Username        string   `toml:"username"`
	PasswordFile    string   `toml:"password_file"`
	Mailbox         string   `toml:"mailbox"`
	ProcessedFolder string   `toml:"processed_folder"`
	FailedFolder    string   `toml:"failed_folder"`
	PollInterval    Duration `toml:"poll_interval"`
	Idle            IdleMode `toml:"idle"`
	BackoffMax      Duration `toml:"backoff_max"`
}

// IdleMode is `idle = true | false | "auto"` in TOML.
type IdleMode string

func (m *IdleMode) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case bool:
		*m = "off"
		if v {
			*m = "on"
		}
		return nil
	case string:
		switch strings.ToLower(v) {
		case "auto":
			*m = "auto"
			return nil
		case "true", "on", "yes":
			*m = "on"
			return nil
		case "false", "off", "no":
			*m = "off"
			return nil
		}
	}
	return fmt.Errorf("%v is not true, false or \"auto\"", v)
}

func (c *IMAPConfig) setDefaults() {
	c.TLS = "tls"
	c.Mailbox = "INBOX"
	c.ProcessedFolder = "processed"
	c.FailedFolder = "failed"
	c.PollInterval = Duration{time.Minute}
	c.Idle = "auto"
	c.BackoffMax = Duration{5 * time.Minute}
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateIMAP(bad func(key, format string, args ...any)) {
	m := &c.IMAP
	if m.Addr == "" {
		return
	}
	if err := checkHostPort(m.Addr); err != nil {
		bad("imap.addr", "%q is not host:port (%v); write e.g. \"imap.example.org:993\", or remove it to disable polling", m.Addr, err)
	}
	switch m.TLS {
	case "tls", "starttls":
	case "none":
		if !isLoopback(m.Addr) {
			bad("imap.tls", "\"none\" sends the password in clear: only allowed to a loopback address (127.0.0.1, ::1, localhost); use \"tls\" or \"starttls\"")
		}
	default:
		bad("imap.tls", "%q is not one of none, starttls, tls", m.TLS)
	}
	if m.CAFile != "" {
		if _, err := loadCAPool(c.resolve(m.CAFile)); err != nil {
			bad("imap.ca_file", "%v", err)
		}
	}
	if m.Username == "" {
		bad("imap.username", "the IMAP user name is needed when imap.addr is set")
	}
	if m.PasswordFile == "" {
		bad("imap.password_file", "a file holding the IMAP password is needed when imap.addr is set")
	} else if _, err := os.ReadFile(c.resolve(m.PasswordFile)); err != nil {
		bad("imap.password_file", "cannot read %s: %v", c.resolve(m.PasswordFile), err)
	}
	if m.Mailbox == "" {
		bad("imap.mailbox", "must name the mailbox to take mail from, e.g. \"INBOX\"")
	}
	if m.ProcessedFolder == m.Mailbox {
		bad("imap.processed_folder", "must differ from imap.mailbox (\"\" leaves processed mail in the mailbox, flagged)")
	}
	if m.FailedFolder == "" || m.FailedFolder == m.Mailbox {
		bad("imap.failed_folder", "must name a folder other than imap.mailbox, e.g. \"failed\"")
	}
	if m.PollInterval.Duration < time.Second {
		bad("imap.poll_interval", "must be at least 1s; the default is 1m")
	}
	switch m.Idle {
	case "auto", "on", "off":
	default:
		bad("imap.idle", "%q is not true, false or \"auto\"", m.Idle)
	}
	if m.BackoffMax.Duration < time.Second {
		bad("imap.backoff_max", "must be at least 1s; the default is 5m")
	}
}

func loadCAPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// imapPoller builds the poller from the configuration, or nil when
// imap.addr is not set.
func (a *app) imapPoller() (*receive.Poller, error) {
	m := a.cfg.IMAP
	if m.Addr == "" {
		return nil, nil
	}
	pw, err := os.ReadFile(a.cfg.resolve(m.PasswordFile))
	if err != nil {
		return nil, exitf(exitConfigErr, "imap.password_file: %v", err)
	}
	tc := &tls.Config{}
	if m.CAFile != "" {
		if tc.RootCAs, err = loadCAPool(a.cfg.resolve(m.CAFile)); err != nil {
			return nil, exitf(exitConfigErr, "imap.ca_file: %v", err)
		}
	}
	return &receive.Poller{
		Config: receive.IMAPConfig{
			Addr: m.Addr, TLS: m.TLS, TLSConfig: tc, Username: m.Username,
			Password: strings.TrimRight(string(pw), "\r\n"), Mailbox: m.Mailbox,
			ProcessedFolder: m.ProcessedFolder, FailedFolder: m.FailedFolder,
			PollInterval: m.PollInterval.Duration, Idle: string(m.Idle), BackoffMax: m.BackoffMax.Duration,
			MaxMessageBytes: a.cfg.SMTP.MaxMessageBytes,
		},
		Receiver: a.receiver(), Store: a.store, Log: a.log.With("component", "imap"), Now: a.clock,
	}, nil
}
