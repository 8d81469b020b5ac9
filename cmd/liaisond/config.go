package main

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"liaisond/ingest"
)

// Config is the TOML configuration (DESIGN 9). Every key has a default;
// example/liaisond.toml documents each one.
type Config struct {
	Domain    string `toml:"domain"`
	DataDir   string `toml:"data_dir"`
	PublicURL string `toml:"public_url"`
	Directory string `toml:"directory"` // "" = the built-in demo directory
	Templates string `toml:"templates"` // directory of template overrides, "" = built-in only
	LogLevel  string `toml:"log_level"`
	LogFormat string `toml:"log_format"`
	// WALReserveMB: the space serve writes ahead for SQLite's WAL
	// (store/walreserve.go); 0: none.
	WALReserveMB int `toml:"wal_reserve_mb"`

	Addresses struct {
		Statements  string `toml:"statements"`
		Commands    string `toml:"commands"`
		TokenPrefix string `toml:"token_prefix"`
	} `toml:"addresses"`

	SMTP struct {
		Listen          string   `toml:"listen"`
		Hostname        string   `toml:"hostname"`
		MaxMessageBytes int64    `toml:"max_message_bytes"`
		MaxRecipients   int      `toml:"max_recipients"`
		Timeout         Duration `toml:"timeout"`
		TLSCertFile     string   `toml:"tls_cert_file"`   // with tls_key_file: STARTTLS is offered
		TLSKeyFile      string   `toml:"tls_key_file"`    // (both re-read on SIGHUP)
		MaxConnections  int      `toml:"max_connections"` // concurrent SMTP/LMTP connections
		DataTimeout     Duration `toml:"data_timeout"`    // a whole transaction, MAIL to the end of DATA
	} `toml:"smtp"`

	HTTP struct {
		Listen string `toml:"listen"`
	} `toml:"http"`

	Outbound struct {
		Smarthost    string   `toml:"smarthost"`
		TLS          string   `toml:"tls"`
		Username     string   `toml:"username"`
		PasswordFile string   `toml:"password_file"`
		From         string   `toml:"from"`
		RetryMin     Duration `toml:"retry_min"`
		RetryMax     Duration `toml:"retry_max"`
		GiveUpAfter  Duration `toml:"give_up_after"`
		ReplyMargin  Duration `toml:"reply_margin"`
		DKIMSelector string   `toml:"dkim_selector"` // with dkim_key_file: every mail is
		DKIMKeyFile  string   `toml:"dkim_key_file"` // DKIM-signed for domain (RFC 6376); both re-read on SIGHUP
	} `toml:"outbound"`

	Trust struct {
		AuthservID       string   `toml:"authserv_id"`
		ReplyRatePerHour int      `toml:"reply_rate_per_hour"`
		Relays           []string `toml:"relays"`
		VerifyDKIM       bool     `toml:"verify_dkim"`
	} `toml:"trust"`

	Limits struct {
		StatementsPerSenderPerHour int `toml:"statements_per_sender_per_hour"`
		StatementsPerHour          int `toml:"statements_per_hour"`
		MaxRecipients              int `toml:"max_recipients"`
	} `toml:"limits"`
	Reminders ReminderConfig `toml:"reminders"` // tickle.go
	IMAP      IMAPConfig     `toml:"imap"`      // imap_config.go

	LMTP struct {
		Socket string `toml:"socket"` // unix socket path; "" disables
	} `toml:"lmtp"`

	// path is the file the config came from ("" for the embedded default);
	// relative paths in it are relative to its directory.
	path string
	// lines: the line each key is written on, for problems (config_load.go).
	lines map[string]int
}

// Duration is a time.Duration written as "90s", "5m", "120h" in TOML.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write e.g. \"90s\", \"5m\" or \"120h\"", b)
	}
	d.Duration = v
	return nil
}

func defaultConfig() *Config {
	c := &Config{
		Domain:    "liaison.example",
		DataDir:   "./liaisond-data",
		PublicURL: "http://127.0.0.1:8080",
		LogLevel:  "info",
		LogFormat: "text",
		// The WAL of about 370 submissions of 54 KB with their mails
		// (43 pages of 4 KB each, store/walframes_test.go).
		WALReserveMB: 64,
	}
	c.Addresses.Statements = "statements"
	c.Addresses.Commands = "commands"
	c.Addresses.TokenPrefix = "ls"
	c.SMTP.Listen = "127.0.0.1:2525"
	c.SMTP.MaxMessageBytes = 25 << 20
	c.SMTP.MaxRecipients = 50
	c.SMTP.Timeout = Duration{5 * time.Minute}
	c.SMTP.MaxConnections = 100
	c.SMTP.DataTimeout = Duration{10 * time.Minute}
	c.HTTP.Listen = "127.0.0.1:8080"
	c.Outbound.TLS = "starttls"
	c.Outbound.RetryMin = Duration{time.Minute}
	c.Outbound.RetryMax = Duration{2 * time.Hour}
	c.Outbound.GiveUpAfter = Duration{5 * 24 * time.Hour}
	c.Outbound.ReplyMargin = Duration{7 * 24 * time.Hour}
	c.Trust.ReplyRatePerHour = 5
	c.Trust.Relays = []string{"127.0.0.1/32", "::1/128"}
	c.Limits.StatementsPerSenderPerHour = 30
	c.Limits.StatementsPerHour = 300
	c.Limits.MaxRecipients = 50
	c.Reminders = defaultReminders()
	c.IMAP.setDefaults()
	return c
}

// ConfigError is one problem in the configuration, with the file and key.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// loadConfig reads path over the defaults ("" = defaults only) and checks
// every value, returning all problems at once.
func loadConfig(path string) (*Config, error) {
	c := defaultConfig()
	if path == "" {
		c.Outbound.From = "Liaison Statement Manager <" + c.Addresses.Statements + "@" + c.Domain + ">"
		return c, c.validate()
	}
	c.path = path
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: fmt.Sprintf("cannot read the configuration: %v", errors.Unwrap(err))}
	}
	errs, ok := c.decodeEach(string(data))
	if !ok {
		return nil, errors.Join(errs...)
	}
	if c.Outbound.From == "" {
		c.Outbound.From = "Liaison Statement Manager <" + c.Addresses.Statements + "@" + c.Domain + ">"
	}
	if err := c.validate(); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			errs = append(errs, joined.Unwrap()...)
		} else {
			errs = append(errs, err)
		}
	}
	// In the order of the file, as a reader fixes them.
	sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
	return c, errors.Join(errs...)
}

func (c *Config) file() string {
	if c.path == "" {
		return "(built-in default config)"
	}
	return c.path
}

// resolve makes a path from the config relative to the config's directory.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, c.problem(key, fmt.Sprintf(format, args...)))
	}
	domainOK := c.Domain != "" && !strings.ContainsAny(c.Domain, "@ /") && strings.Contains(c.Domain, ".")
	if !domainOK {
		bad("domain", "%q is not a mail domain; write e.g. \"liaison.example.org\"", c.Domain)
	}
	if c.DataDir == "" {
		bad("data_dir", "must name a directory for the database and sent mail")
	}
	if c.WALReserveMB < 0 || c.WALReserveMB > 16<<10 {
		bad("wal_reserve_mb", "%d is not between 0 (no reserve) and 16384 MB", c.WALReserveMB)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public_url", "%q is not an http(s) URL; write e.g. \"https://liaison.example.org\"", c.PublicURL)
	}
	for key, v := range map[string]string{"addresses.statements": c.Addresses.Statements, "addresses.commands": c.Addresses.Commands, "addresses.token_prefix": c.Addresses.TokenPrefix} {
		if v == "" || strings.ContainsAny(v, "@+. <>\"") {
			bad(key, "%q is not a plain local part (letters, digits, - and _)", v)
		}
	}
	if c.Addresses.Statements == c.Addresses.Commands {
		bad("addresses.commands", "must differ from addresses.statements")
	}
	if c.SMTP.Listen != "" {
		if err := checkHostPort(c.SMTP.Listen); err != nil {
			bad("smtp.listen", "%q is not host:port (%v); write e.g. \"127.0.0.1:2525\", or \"\" to disable", c.SMTP.Listen, err)
		}
	}
	c.validateSMTPTLS(bad)
	if c.SMTP.MaxMessageBytes < 1024 {
		bad("smtp.max_message_bytes", "%d is too small; the default is 26214400 (25 MiB)", c.SMTP.MaxMessageBytes)
	}
	if c.SMTP.MaxRecipients < 1 {
		bad("smtp.max_recipients", "must be at least 1")
	}
	if c.HTTP.Listen != "" {
		if err := checkHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen", "%q is not host:port (%v); write e.g. \"127.0.0.1:8080\", or \"\" to disable", c.HTTP.Listen, err)
		}
	}
	if c.Outbound.Smarthost != "" {
		if err := checkHostPort(c.Outbound.Smarthost); err != nil {
			bad("outbound.smarthost", "%q is not host:port (%v); write e.g. \"smtp.example.org:587\", or \"\" to write mails as files", c.Outbound.Smarthost, err)
		}
	}
	c.validateDKIM(bad)
	c.validatePaths(bad)
	switch c.Outbound.TLS {
	case "none", "starttls", "tls":
	default:
		bad("outbound.tls", "%q is not one of none, starttls, tls", c.Outbound.TLS)
	}
	if c.Outbound.Username != "" && c.Outbound.PasswordFile == "" {
		bad("outbound.password_file", "outbound.username is set, so a password file is needed")
	}
	if c.Outbound.PasswordFile != "" {
		if _, err := os.ReadFile(c.resolve(c.Outbound.PasswordFile)); err != nil {
			bad("outbound.password_file", "cannot read %s: %v", c.resolve(c.Outbound.PasswordFile), errors.Unwrap(err))
		}
	}
	if !domainOK {
		// outbound.from defaults to statements@domain: the domain line says it all.
	} else if a, err := mail.ParseAddress(c.Outbound.From); err != nil {
		bad("outbound.from", "%q is not an address; write e.g. \"Liaison Statement Manager <statements@%s>\"", c.Outbound.From, c.Domain)
	} else if !strings.HasSuffix(strings.ToLower(a.Address), "@"+strings.ToLower(c.Domain)) {
		bad("outbound.from", "%s is not on the domain %s: replies and bounces would not come back to liaisond", a.Address, c.Domain)
	}
	if c.Outbound.RetryMin.Duration <= 0 || c.Outbound.RetryMax.Duration < c.Outbound.RetryMin.Duration {
		bad("outbound.retry_min", "must be positive and at most outbound.retry_max")
	}
	if c.Trust.ReplyRatePerHour < 1 {
		bad("trust.reply_rate_per_hour", "must be at least 1 (error and help answers per address and hour)")
	}
	if c.Limits.StatementsPerSenderPerHour < 0 || c.Limits.StatementsPerHour < 0 {
		bad("limits", "statement rates cannot be negative; 0 means no limit")
	}
	if per, all := c.Limits.StatementsPerSenderPerHour, c.Limits.StatementsPerHour; all > 0 && (per == 0 || per >= all) {
		// Else one sender alone could use up the global rate and have
		// everybody else's statements held (DESIGN 7).
		bad("limits.statements_per_sender_per_hour", "must be set and below limits.statements_per_hour (%d), so that one sender cannot hold everyone's statements", all)
	}
	if c.Limits.MaxRecipients < 1 {
		bad("limits.max_recipients", "must be at least 1 (copies one statement may cause; the default is 50)")
	}
	if _, err := ingest.ParsePrefixes(c.Trust.Relays); err != nil {
		bad("trust.relays", "%v", err)
	}
	c.Reminders.check(bad)
	c.validateIMAP(bad)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "%q is not one of text, json", c.LogFormat)
	}
	return errors.Join(errs...)
}
