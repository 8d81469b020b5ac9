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
	"sync"
	"syscall"
	"time"

	"liaisond/ingest"
	"liaisond/templates"
	"liaisond/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := parseFlags("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()

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

	if cfg.SMTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.SMTP.Listen)
		if err != nil {
			return exitf(exitTempFail, "smtp.listen %s: %v (is another liaisond running?)", cfg.SMTP.Listen, err)
		}
		srv := ingest.NewSMTPServer(a.processor, ingest.SMTPConfig{
			Hostname: cfg.SMTP.Hostname, MaxMessageBytes: cfg.SMTP.MaxMessageBytes,
			MaxRecipients: cfg.SMTP.MaxRecipients, Timeout: cfg.SMTP.Timeout.Duration,
		}, log.With("component", "smtp"))
		if srv.Domain == "" {
			srv.Domain = cfg.Domain
		}
		fmt.Fprintf(stdout, "liaisond: SMTP listening on %s (statements to %s@%s)\n", ln.Addr(), cfg.Addresses.Statements, cfg.Domain)
		start("smtp", func() error { return ingest.ServeSMTP(ctx, srv, ln) })
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
		fmt.Fprintf(stdout, "liaisond: HTTP listening on http://%s\n", ln.Addr())
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
	if n, err := a.processor.Resume(ctx); err != nil {
		log.Error("applying held messages failed; they stay held and are retried at the next start", "err", err)
	} else if n > 0 {
		log.Info("held messages applied", "count", n)
	}

	// SIGHUP reloads the directory; a bad file keeps the old one.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
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
	fmt.Fprintf(stdout, "liaisond: ready; outgoing mail goes %s\n", where)

	<-ctx.Done()
	log.Info("liaisond stopping: finishing the work in hand")
	wg.Wait()
	select {
	case err := <-errc:
		return exitf(exitTempFail, "%v", err)
	default:
	}
	log.Info("liaisond stopped")
	return nil
}

// httpHandler is the public web display (DESIGN 8) with /healthz and /metrics.
func (a *app) httpHandler() (http.Handler, error) {
	h, err := web.New(web.Options{
		Store: a.store, Log: a.log.With("component", "web"), Now: a.clock,
		PublicURL: a.cfg.PublicURL, Templates: templates.Web(), IMAP: a.imapConnState, IMAPDetail: a.imapDetail,
	})
	if err != nil {
		return nil, exitf(exitConfigErr, "%v", err)
	}
	return h, nil
}
