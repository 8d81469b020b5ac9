package receive

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTPConfig limits what the SMTP listener takes.
type SMTPConfig struct {
	Hostname        string        // announced in the greeting
	MaxMessageBytes int64         // larger messages get 552 (RFC 1870)
	MaxRecipients   int           // per transaction
	Timeout         time.Duration // per command read/write
	// DataTimeout bounds a whole transaction, from MAIL to the end of DATA:
	// a client dripping its message a byte at a time is cut off (421).
	// 0: no bound beyond Timeout.
	DataTimeout time.Duration
	// TLSConfig, if set, makes the listener offer STARTTLS (RFC 3207).
	TLSConfig *tls.Config
	// SpoolDir, if set, is where DATA is written while it is read, so that
	// a large message is held in memory once (see readMessage).
	SpoolDir string
	// StatementsAddr is named in the 550 answer to an address that is not
	// ours, so that a sender who mistyped learns where statements go.
	StatementsAddr string
}

// NewSMTPServer returns a go-smtp server that hands every message to r.
// Replies follow RFC 5321 4.2: 250 only after the message is committed,
// 451 when a retry may succeed (database busy), 552 for oversize mail,
// 550 for addresses that are not ours.
func NewSMTPServer(r Receiver, cfg SMTPConfig, log *slog.Logger) *smtp.Server {
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{r: r, log: log, statementsAddr: cfg.StatementsAddr, spoolDir: cfg.SpoolDir, remote: c.Conn().RemoteAddr().String(),
			conn: c.Conn(), dataTimeout: cfg.DataTimeout}, nil
	}))
	s.TLSConfig = cfg.TLSConfig
	s.Domain = cfg.Hostname
	s.MaxMessageBytes = cfg.MaxMessageBytes
	s.MaxRecipients = cfg.MaxRecipients
	s.ReadTimeout = cfg.Timeout
	s.WriteTimeout = cfg.Timeout
	s.MaxLineLength = 10000 // RFC 5321 says 1000; real mail is sloppier
	s.ErrorLog = slogErrorLog{log}
	return s
}

// ServeSMTP runs s on ln until ctx is cancelled, then closes the listener
// and waits for transactions in hand to finish.
func ServeSMTP(ctx context.Context, s *smtp.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.Close()
		}
		// Shutdown closes only the listeners Serve has registered: stopped
		// right after starting, Serve may not have yet, and would accept
		// forever. Closing ln ourselves ends it either way.
		ln.Close()
		<-errc
		return nil
	}
}

type smtpSession struct {
	r              Receiver
	log            *slog.Logger
	statementsAddr string
	spoolDir       string
	source         string // "" = smtp; lmtp for the LMTP listener
	remote         string
	from           string
	rcpt           []string

	conn        net.Conn      // for the DATA deadline (nil: no deadline)
	dataTimeout time.Duration // whole-transaction bound (SMTPConfig.DataTimeout)
	started     time.Time     // MAIL of the transaction in hand
}

func (s *smtpSession) Reset() { s.from, s.rcpt, s.started = "", nil, time.Time{} }

func (s *smtpSession) Logout() error { return nil }

func (s *smtpSession) Mail(from string, opts *smtp.MailOptions) error {
	s.from = from
	s.started = time.Now()
	return nil
}

func (s *smtpSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if !s.r.Accepts(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "No such mailbox here; liaison statements go to " + s.statementsAddr}
	}
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	raw, err := s.readData(r)
	if err != nil {
		// go-smtp's reader returns ErrDataTooLarge (552) past MaxMessageBytes.
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			s.log.Warn("message refused", "remote", s.remote, "from", s.from, "code", se.Code, "reason", se.Message)
			return se
		}
		// The connection broke, or the spool directory failed us: the
		// client keeps the message and retries; the error stays in the log.
		s.log.Warn("message not read; asked the client to retry", "remote", s.remote, "from", s.from, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Temporary failure receiving the message, please try again later"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	source := s.source
	if source == "" {
		source = "smtp"
	}
	env := Envelope{Source: source, MailFrom: s.from, Rcpt: s.rcpt, Known: true}
	if ap, err := netip.ParseAddrPort(s.remote); err == nil {
		env.Peer = ap.Addr().Unmap() // a unix socket (LMTP) has none
	}
	if _, err := s.r.Receive(ctx, env, raw); err != nil {
		return s.refusal(err)
	}
	return nil
}

// refusal is the answer to a message the receiver did not store: 554 when
// it says a retry cannot help, else 451 (RFC 5321 4.2.5: the client
// retries, so nothing is lost). The store's own words stay in the log.
func (s *smtpSession) refusal(err error) *smtp.SMTPError {
	if errors.Is(err, ErrPermanent) {
		s.log.Error("message not stored; refused for good", "remote", s.remote, "from", s.from, "err", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 3, 0},
			Message: "The message cannot be stored; please tell the operator of this address"}
	}
	s.log.Warn("message not stored; asked the client to retry", "remote", s.remote, "from", s.from, "err", err)
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure storing the message, please try again later"}
}

// slogErrorLog routes go-smtp's internal errors to slog.
type slogErrorLog struct{ log *slog.Logger }

func (l slogErrorLog) Printf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...), "component", "smtp")
}
func (l slogErrorLog) Println(v ...any) { l.log.Warn(fmt.Sprint(v...), "component", "smtp") }
