package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"liaisond/receive"
	"liaisond/templates"
	"liaisond/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, _, err := parseFlags("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.LogFormat == "json" {
		// The reason serve stops is a JSON line too, not a plain one from main.
		defer func() {
			var ee *exitError
			if err != nil && errors.As(err, &ee) && ee.err.Error() != "" {
				log.Error("liaisond stopped", "err", ee.err.Error(), "exit", ee.code)
				err = &exitError{code: ee.code, err: errors.New("")}
			}
		}()
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	a.reserveWAL(ctx)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	start := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}

	var certs *receive.CertReloader // STARTTLS certificate, re-read on SIGHUP
	spool, err := a.spoolDir()
	if err != nil {
		return err
	}
	if cfg.SMTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.SMTP.Listen)
		if err != nil {
			return exitf(exitTempFail, "smtp.listen %s: %v (is another liaisond running?)", cfg.SMTP.Listen, err)
		}
		scfg := receive.SMTPConfig{
			Hostname: cfg.SMTP.Hostname, MaxMessageBytes: cfg.SMTP.MaxMessageBytes,
			MaxRecipients: cfg.SMTP.MaxRecipients, Timeout: cfg.SMTP.Timeout.Duration,
			DataTimeout:    cfg.SMTP.DataTimeout.Duration,
			StatementsAddr: cfg.Addresses.Statements + "@" + cfg.Domain,
			SpoolDir:       spool,
		}
		tlsNote := "no STARTTLS"
		if cfg.SMTP.TLSCertFile != "" {
			certs, err = receive.NewCertReloader(cfg.resolve(cfg.SMTP.TLSCertFile), cfg.resolve(cfg.SMTP.TLSKeyFile))
			if err != nil {
				ln.Close()
				return exitf(exitConfigErr, "smtp.tls_cert_file: %v", err)
			}
			scfg.TLSConfig = certs.TLSConfig()
			tlsNote = "STARTTLS offered"
		}
		srv := receive.NewSMTPServer(a.receiver(), scfg, log.With("component", "smtp"))
		if srv.Domain == "" {
			srv.Domain = cfg.Domain
		}
		limited := receive.LimitListener(ln, cfg.SMTP.MaxConnections, srv.Domain, log.With("component", "smtp"))
		announce(cfg, stdout, fmt.Sprintf("SMTP listening on %s (statements to %s@%s; %s)", ln.Addr(), cfg.Addresses.Statements, cfg.Domain, tlsNote),
			"addr", ln.Addr().String(), "starttls", certs != nil, "max_connections", cfg.SMTP.MaxConnections)
		start("smtp", func() error { return receive.ServeSMTP(ctx, srv, limited) })
	}

	if err := a.startIMAPAndLMTP(ctx, stdout, start); err != nil {
		return err
	}

	if cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			return exitf(exitTempFail, "http.listen %s: %v (is another liaisond running?)", cfg.HTTP.Listen, err)
		}
		handler, err := a.httpHandler()
		if err != nil {
			ln.Close()
			return err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
		announce(cfg, stdout, fmt.Sprintf("HTTP listening on http://%s (public URL %s)", ln.Addr(), cfg.PublicURL), "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
		start("http", func() error {
			go func() {
				<-ctx.Done()
				sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
				defer c()
				srv.Shutdown(sctx)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}

	start("outbox", func() error { return a.sender.Run(ctx) })
	start("tickler", func() error { return a.runTickler(ctx) })

	// Mail an earlier version kept as held (commands before they were
	// handled) is applied now.
	n, err := a.processor.Resume(ctx)
	a.wakeSender()
	if err != nil {
		log.Error("applying held messages failed; they stay held and are retried at the next start", "err", err)
	} else if n > 0 {
		log.Info("held messages applied", "count", n)
	}

	// SIGHUP reloads the directory, the STARTTLS certificate and the DKIM
	// key; a bad file keeps the old one.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if certs != nil {
					if err := certs.Reload(); err != nil {
						log.Error("STARTTLS certificate reload failed; keeping the old one", "err", err)
					} else {
						log.Info("STARTTLS certificate reloaded", "cert", certs.CertFile)
					}
				}
				a.reloadDKIM()
				dir, err := loadDirectory(cfg)
				if err != nil {
					log.Error("directory reload failed; keeping the old one", "err", err)
					continue
				}
				a.dir.Store(dir)
				log.Info("directory reloaded", "bodies", len(dir.Bodies))
			}
		}
	}()

	where := "as .eml files in " + cfg.resolve(cfg.DataDir) + "/sent"
	if cfg.Outbound.Smarthost != "" {
		where = "through " + cfg.Outbound.Smarthost
	}
	log.Info("liaisond started", "config", cfg.file(), "data_dir", cfg.resolve(cfg.DataDir), "domain", cfg.Domain, "outgoing_mail", where)
	announce(cfg, stdout, "ready; outgoing mail goes "+where, "dkim", a.dkim.Current() != nil)

	<-ctx.Done()
	log.Info("liaisond stopping: finishing the work in hand")
	wg.Wait()
	select {
	case err := <-errc:
		return exitf(exitTempFail, "%v", err)
	default:
	}
	// Received mail commits in groups, and commits share fsyncs: under
	// load both are fewer than the messages received.
	log.Info("liaisond stopped", "database_commits", a.store.WriteCommits(), "received_mail_commits", a.store.GroupCommits(),
		"wal_fsyncs", a.store.WALSyncs(), "received_mail_lock_ms", a.store.GroupLockHeld().Milliseconds())
	return nil
}

// httpHandler is the public web display (DESIGN 8) with /healthz and /metrics.
func (a *app) httpHandler() (http.Handler, error) {
	h, err := web.New(web.Options{
		Store: a.store, Log: a.log.With("component", "web"), Now: a.clock,
		PublicURL: a.cfg.PublicURL, Templates: templates.Web(), IMAP: a.imapConnState, IMAPDetail: a.imapDetail,
		SubmitAddress:   a.cfg.Addresses.Statements + "@" + a.cfg.Domain,
		CheckSubmission: a.checkSubmission,
		LiaisonManagers: a.liaisonManagers,
	})
	if err != nil {
		return nil, exitf(exitConfigErr, "%v", err)
	}
	return h, nil
}

// spoolDir is where the SMTP and LMTP listeners write DATA while they read
// it (receive.SMTPConfig.SpoolDir), in the data directory: the files are
// unlinked as soon as they are made, and nothing in it outlives a message.
func (a *app) spoolDir() (string, error) {
	dir := filepath.Join(a.cfg.resolve(a.cfg.DataDir), "spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", exitf(exitTempFail, "spool directory %s: %v", dir, err)
	}
	return dir, nil
}

// reserveWAL writes ahead the WAL space of wal_reserve_mb before the first
// message comes in (store/walreserve.go). Without it liaisond works as
// well, only its commits' fsyncs are slower while the WAL grows: a failure
// is a warning.
func (a *app) reserveWAL(ctx context.Context) {
	if a.cfg.WALReserveMB == 0 {
		return
	}
	start := time.Now()
	size := int64(a.cfg.WALReserveMB) << 20
	n, err := a.store.ReserveWAL(ctx, size)
	if err != nil {
		a.log.Warn("database: could not write the WAL space ahead; commits wait longer for the disk while the WAL grows", "wal_reserve_mb", a.cfg.WALReserveMB, "written_bytes", n, "err", err)
		return
	}
	if n > 0 {
		a.log.Info("database: WAL space written ahead", "wal_reserve_mb", a.cfg.WALReserveMB, "written_bytes", n, "took", time.Since(start).Round(time.Millisecond))
	}
}
