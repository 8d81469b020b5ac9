package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"liaisond/receive"
	"liaisond/store"
)

// startIMAPAndLMTP starts the IMAP poller ([imap] addr) and the LMTP
// listener ([lmtp] socket) when configured.
func (a *app) startIMAPAndLMTP(ctx context.Context, stdout io.Writer, start func(name string, fn func() error)) error {
	cfg := a.cfg
	if cfg.LMTP.Socket != "" {
		spool, err := a.spoolDir()
		if err != nil {
			return err
		}
		path := cfg.resolve(cfg.LMTP.Socket)
		// A socket left by a daemon that died is in the way; anything else is not ours to remove.
		if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if c, err := net.Dial("unix", path); err == nil {
				c.Close()
				return exitf(exitTempFail, "lmtp.socket %s: another process is listening there (is another liaisond running?)", path)
			}
			os.Remove(path)
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			return exitf(exitTempFail, "lmtp.socket %s: %v", path, err)
		}
		os.Chmod(path, 0o660) // the MTA's group delivers
		srv := receive.NewLMTPServer(a.receiver(), receive.SMTPConfig{
			Hostname: cfg.SMTP.Hostname, MaxMessageBytes: cfg.SMTP.MaxMessageBytes,
			MaxRecipients: cfg.SMTP.MaxRecipients, Timeout: cfg.SMTP.Timeout.Duration,
			// The MTA on this host delivers, but a stuck or slow one must not
			// hold connections forever either: the same bounds as [smtp].
			DataTimeout:    cfg.SMTP.DataTimeout.Duration,
			StatementsAddr: cfg.Addresses.Statements + "@" + cfg.Domain,
			SpoolDir:       spool,
		}, a.log.With("component", "lmtp"))
		if srv.Domain == "" {
			srv.Domain = cfg.Domain
		}
		limited := receive.LimitListener(ln, cfg.SMTP.MaxConnections, srv.Domain, a.log.With("component", "lmtp"))
		announce(cfg, stdout, "LMTP listening on unix:"+path, "socket", path, "max_connections", cfg.SMTP.MaxConnections)
		start("lmtp", func() error {
			defer os.Remove(path)
			return receive.ServeSMTP(ctx, srv, limited)
		})
	}
	p, err := a.imapPoller()
	if err != nil {
		return err
	}
	if p != nil {
		a.imap = p
		announce(cfg, stdout, fmt.Sprintf("IMAP polling %s (tls %s)", p.Config.Key(), p.Config.TLS), "mailbox", p.Config.Key())
		start("imap", func() error { return p.Run(ctx) })
	}
	return nil
}

// imapHealth is the IMAP detail of /healthz (nil without polling).
func (a *app) imapHealth() *receive.IMAPStatus {
	if a.imap == nil {
		return nil
	}
	s := a.imap.Status()
	return &s
}

// statusJSON is what `liaisond status -json` prints.
type statusJSON struct {
	Messages map[string]int  `json:"messages"`
	Outbox   map[string]int  `json:"outbox"`
	IMAP     []imapStateJSON `json:"imap"`
}

type imapStateJSON struct {
	Mailbox     string `json:"mailbox"`
	Configured  bool   `json:"configured"` // the mailbox of this configuration
	Connected   bool   `json:"connected"`
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
	Backlog     int    `json:"backlog"`
	LastError   string `json:"last_error,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
	Stale       bool   `json:"stale,omitempty"` // recorded as connected, but no word from the daemon for too long
}

// cmdStatus prints what the running daemon last recorded: message and
// outbox counts, and for each IMAP mailbox whether it was connected, the
// last UID taken and the backlog at the last look.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	cfg, _, err := parseFlags("status", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	s, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var out statusJSON
	var states []*store.IMAPState
	err = s.View(ctx, func(tx *store.Tx) error {
		if out.Messages, err = tx.MessageCounts(); err != nil {
			return err
		}
		if out.Outbox, err = tx.OutboxCounts(); err != nil {
			return err
		}
		states, err = tx.IMAPStates()
		return err
	})
	if err != nil {
		return exitf(exitTempFail, "status: %v", err)
	}
	key := ""
	if cfg.IMAP.Addr != "" {
		key = (&receive.IMAPConfig{Username: cfg.IMAP.Username, Addr: cfg.IMAP.Addr, Mailbox: cfg.IMAP.Mailbox}).Key()
	}
	out.IMAP = []imapStateJSON{}
	found := false
	for _, st := range states {
		j := imapStateJSON{Mailbox: st.Mailbox, Configured: st.Mailbox == key, Connected: st.Connected, UIDValidity: st.UIDValidity,
			LastUID: st.LastUID, Backlog: st.Backlog, LastError: st.LastError}
		if !st.UpdatedAt.IsZero() {
			j.UpdatedAt = st.UpdatedAt.UTC().Format(time.RFC3339)
		}
		// The daemon writes at least once per poll interval while connected:
		// older than that, it is not running (or hangs).
		if j.Connected && time.Since(st.UpdatedAt) > 2*cfg.IMAP.PollInterval.Duration+time.Minute {
			j.Connected, j.Stale = false, true
		}
		found = found || j.Configured
		out.IMAP = append(out.IMAP, j)
	}
	if key != "" && !found {
		out.IMAP = append(out.IMAP, imapStateJSON{Mailbox: key, Configured: true, LastError: "not polled yet"})
	}
	if asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "messages: %s\noutbox:   %s\n", counts(out.Messages), counts(out.Outbox))
	if len(out.IMAP) == 0 {
		fmt.Fprintln(stdout, "imap:     not configured ([imap] addr)")
	}
	for _, j := range out.IMAP {
		conn := "disconnected"
		if j.Connected {
			conn = "connected"
		}
		fmt.Fprintf(stdout, "imap:     %s: %s, uidvalidity %d, last uid %d, backlog %d", j.Mailbox, conn, j.UIDValidity, j.LastUID, j.Backlog)
		if j.UpdatedAt != "" {
			fmt.Fprintf(stdout, " (as of %s)", j.UpdatedAt)
		}
		if j.Stale {
			fmt.Fprint(stdout, " [stale: no word from the daemon; is `liaisond serve` running?]")
		}
		if !j.Configured {
			fmt.Fprint(stdout, " [no longer configured]")
		}
		fmt.Fprintln(stdout)
		if j.LastError != "" {
			fmt.Fprintf(stdout, "          last error: %s\n", j.LastError)
		}
	}
	return nil
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// imapConnState is the IMAP metric of /metrics: whether polling is
// configured and connected.
func (a *app) imapConnState() (configured, connected bool) {
	if a.imap == nil {
		return false, false
	}
	return true, a.imap.Status().Connected
}

// imapDetail is imapHealth for the web handler, nil without polling.
func (a *app) imapDetail() any {
	if s := a.imapHealth(); s != nil {
		return s
	}
	return nil
}
