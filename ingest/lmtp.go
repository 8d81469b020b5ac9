package ingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/emersion/go-smtp"
)

// NewLMTPServer returns a go-smtp server speaking LMTP (RFC 2033), for an
// MTA or Dovecot delivering over a unix socket. It takes the same checks as
// the SMTP listener (RCPT: only our addresses; size limit) and answers each
// recipient separately after the DATA: the message is stored once for all
// its recipients (routing picks the most specific of our addresses), so
// every accepted recipient gets 250 after the commit, or each gets 451 when
// the store failed and the MTA should retry.
func NewLMTPServer(p *Processor, cfg SMTPConfig, log *slog.Logger) *smtp.Server {
	s := NewSMTPServer(p, cfg, log)
	s.LMTP = true
	s.Backend = smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &lmtpSession{smtpSession{p: p, log: log, remote: "unix:" + c.Conn().LocalAddr().String()}}, nil
	})
	return s
}

type lmtpSession struct{ smtpSession }

var _ smtp.LMTPSession = (*lmtpSession)(nil)

// Data is only used by non-LMTP servers; LMTPData answers per recipient.
func (s *lmtpSession) Data(r io.Reader) error {
	return s.LMTPData(r, nil)
}

func (s *lmtpSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			s.log.Warn("message refused", "remote", s.remote, "from", s.from, "code", se.Code, "reason", se.Message)
			return se
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.p.Receive(ctx, Envelope{Source: "lmtp", MailFrom: s.from, Rcpt: s.rcpt, Known: true}, raw)
	var reply error
	if err != nil {
		s.log.Warn("message not stored; asked the client to retry", "remote", s.remote, "from", s.from, "err", err)
		reply = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Temporary failure storing the message, please try again later"}
	} else {
		s.log.Debug("LMTP delivery stored", "id", res.MessageID, "recipients", len(s.rcpt))
	}
	if status != nil {
		for _, rcpt := range s.rcpt {
			status.SetStatus(rcpt, reply)
		}
	}
	return reply
}
