package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"liaisond/directory"
	"liaisond/ingest"
	"liaisond/notify"
	"liaisond/receive"
	"liaisond/store"
	"liaisond/templates"
	"liaisond/token"
)

// app is everything a command needs, wired from the configuration.
type app struct {
	cfg       *Config
	log       *slog.Logger
	now       func() time.Time
	store     *store.Store
	dir       atomic.Pointer[directory.Directory]
	dkim      *notify.DKIMKeyring // the DKIM signer in use, swapped on SIGHUP
	keys      *token.Keys
	templates *templates.Set
	composer  *notify.Composer
	processor *ingest.Processor
	sender    *notify.Sender
	wake      chan struct{}
	receiving receiving       // mail being received (wakingReceiver), for the sender's Busy
	imap      *receive.Poller // nil: no [imap] polling
}

// commonFlags parses -config (and the command's own flags) and loads the config.
func parseFlags(name string, args []string, stderr io.Writer, setup func(fs *flag.FlagSet)) (*Config, *flag.FlagSet, error) {
	fs := newFlagSet(name, stderr)
	configPath := fs.String("config", "", "configuration file (TOML); none: the built-in default")
	if setup != nil {
		setup(fs)
	}
	if err := parseArgs(fs, args); err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return nil, nil, &exitError{code: exitConfigErr, err: fmt.Errorf("configuration:\n%w\n(run `liaisond check` to see every problem)", indentErr(err))}
	}
	return cfg, fs, nil
}

func indentErr(err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return errors.New(strings.Join(lines, "\n"))
}

// announce tells the operator what serve does (where it listens, that it is
// ready): a plain line on w, or a JSON log line when log_format = "json", so
// that every line a JSON deployment writes is JSON.
func announce(cfg *Config, w io.Writer, msg string, args ...any) {
	if cfg.LogFormat == "json" {
		slog.New(slog.NewJSONHandler(w, nil)).Info(msg, args...)
		return
	}
	fmt.Fprintf(w, "liaisond: %s\n", msg)
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadDirectory reads the configured directory, or the built-in demo.
func loadDirectory(cfg *Config) (*directory.Directory, error) {
	if cfg.Directory == "" {
		return directory.Parse(directory.Demo, "(built-in demo directory)")
	}
	return directory.Load(cfg.resolve(cfg.Directory))
}

// openApp opens the data directory and wires the packages together.
func openApp(ctx context.Context, cfg *Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, now: clockFrom(ctx), wake: make(chan struct{}, 1), dkim: notify.NewDKIMKeyring(nil)}
	dataDir := cfg.resolve(cfg.DataDir)
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, exitf(exitTempFail, "data directory %s: %v", dataDir, err)
	}
	dir, err := loadDirectory(cfg)
	if err != nil {
		return nil, &exitError{code: exitConfigErr, err: fmt.Errorf("directory: %w", err)}
	}
	a.dir.Store(dir)
	if a.templates, err = templates.Load(cfg.resolve(cfg.Templates)); err != nil {
		return nil, &exitError{code: exitConfigErr, err: err}
	}
	if a.keys, err = token.LoadOrCreate(dataDir); err != nil {
		return nil, exitf(exitConfigErr, "%v", err)
	}
	if a.store, err = store.OpenLogged(ctx, filepath.Join(dataDir, "liaisond.db"), log.With("component", "store")); err != nil {
		code := exitTempFail
		if !errors.Is(err, store.ErrTemporary) {
			code = exitConfigErr
		}
		return nil, &exitError{code: code, err: err}
	}
	a.store.SetClock(a.clock)
	from, _ := mail.ParseAddress(cfg.Outbound.From)
	a.composer = &notify.Composer{
		Config: notify.Config{
			Domain: cfg.Domain, From: *from, PublicURL: cfg.PublicURL,
			TokenPrefix: cfg.Addresses.TokenPrefix, CommandsLocal: cfg.Addresses.Commands,
			ReplyMargin:     cfg.Outbound.ReplyMargin.Duration,
			StatementsLocal: cfg.Addresses.Statements, MaxRecipients: cfg.Limits.MaxRecipients,
			AnswerRatePerHour: cfg.Trust.ReplyRatePerHour,
		},
		Keys: a.keys, Templates: a.templates, Directory: a.dir.Load, Now: a.clock,
	}
	if cfg.Outbound.DKIMKeyFile != "" {
		key, err := notify.LoadDKIMKey(cfg.resolve(cfg.Outbound.DKIMKeyFile))
		if err != nil {
			a.store.Close()
			return nil, exitf(exitConfigErr, "outbound.dkim_key_file: %v", err)
		}
		a.dkim.Store(&notify.DKIMSigner{Domain: cfg.Domain, Selector: cfg.Outbound.DKIMSelector, Key: key})
	}
	relays, _ := ingest.ParsePrefixes(cfg.Trust.Relays) // checked by validate
	authservID := cfg.Trust.AuthservID
	if cfg.Trust.VerifyDKIM && authservID == "" {
		// liaisond writes its own results: they carry its own name.
		authservID = firstNonEmpty(cfg.SMTP.Hostname, cfg.Domain)
	}
	a.processor = &ingest.Processor{
		Config: ingest.Config{
			Domain: cfg.Domain, StatementsLocal: cfg.Addresses.Statements,
			CommandsLocal: cfg.Addresses.Commands, TokenPrefix: cfg.Addresses.TokenPrefix,
			AuthservID: authservID, ReplyRatePerHour: cfg.Trust.ReplyRatePerHour,
			SubmitPerSenderPerHour: cfg.Limits.StatementsPerSenderPerHour, SubmitPerHour: cfg.Limits.StatementsPerHour,
			Relays: relays, VerifyDKIM: cfg.Trust.VerifyDKIM,
		},
		Store: a.store, Directory: a.dir.Load, Composer: a.composer, Keys: a.keys, Log: log, Now: a.clock,
		LookupTXT: lookupTXTFrom(ctx),
	}
	transport, err := a.transport()
	if err != nil {
		a.store.Close()
		return nil, err
	}
	a.sender = &notify.Sender{
		Store: a.store, Transport: transport, Log: log, Now: a.clock, Wake: a.wake,
		RetryMin: cfg.Outbound.RetryMin.Duration, RetryMax: cfg.Outbound.RetryMax.Duration,
		GiveUpAfter: cfg.Outbound.GiveUpAfter.Duration,
		Alerts:      a.composer,
		Busy:        a.receiving.busy,
		// Signs each mail as it goes out, with the key a SIGHUP loaded last.
		DKIM: a.dkim,
	}
	return a, nil
}

func (a *app) clock() time.Time { return a.now() }

// receiver is the processor for the listeners and the poller: it wakes the
// sender after a commit that queued mail.
func (a *app) receiver() wakingReceiver {
	return wakingReceiver{Processor: a.processor, wake: a.wakeSender, activity: &a.receiving}
}

func (a *app) wakeSender() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *app) transport() (notify.Transport, error) {
	o := a.cfg.Outbound
	if o.Smarthost == "" {
		ft := &notify.FileTransport{Dir: filepath.Join(a.cfg.resolve(a.cfg.DataDir), "sent")}
		// A crash between writing and renaming a mail leaves a .tmp-* file;
		// the mail itself is still queued and is written again.
		if n, err := ft.RemoveStale(a.now().Add(-time.Minute)); err != nil {
			a.log.Warn("could not remove unfinished mail files", "dir", ft.Dir, "err", err)
		} else if n > 0 {
			a.log.Info("removed unfinished mail files a crash left", "dir", ft.Dir, "count", n)
		}
		return ft, nil
	}
	t := &notify.SMTPTransport{Addr: o.Smarthost, TLS: o.TLS, Username: o.Username, HeloName: a.cfg.Domain}
	if o.PasswordFile != "" {
		pw, err := os.ReadFile(a.cfg.resolve(o.PasswordFile))
		if err != nil {
			return nil, exitf(exitConfigErr, "outbound.password_file: %v", err)
		}
		t.Password = strings.TrimRight(string(pw), "\r\n")
	}
	return t, nil
}

func (a *app) close() {
	a.store.Close()
}

// openStoreOnly opens the database for the read-only commands.
func openStoreOnly(ctx context.Context, cfg *Config) (*store.Store, error) {
	path := filepath.Join(cfg.resolve(cfg.DataDir), "liaisond.db")
	if _, err := os.Stat(path); err != nil {
		return nil, exitf(exitConfigErr, "no database at %s: start `liaisond serve` or run `liaisond ingest` first (or pass the right -config)", path)
	}
	// An upgraded binary migrates here if serve has not yet: say so on stderr.
	s, err := store.OpenLogged(ctx, path, newLogger(cfg, os.Stderr).With("component", "store"))
	if err != nil {
		return nil, exitf(exitTempFail, "%v", err)
	}
	return s, nil
}

// txtKey carries a test's DNS TXT resolver into run() through the context:
// the DKIM and DMARC tests never touch the network.
type txtKey struct{}

func withLookupTXT(ctx context.Context, lookup func(domain string) ([]string, error)) context.Context {
	return context.WithValue(ctx, txtKey{}, lookup)
}

// lookupTXTFrom returns the test's resolver, or nil: the system resolver.
func lookupTXTFrom(ctx context.Context) func(domain string) ([]string, error) {
	if f, ok := ctx.Value(txtKey{}).(func(domain string) ([]string, error)); ok {
		return f
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
