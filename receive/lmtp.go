package receive

import (
	"io"
	"log/slog"

	"github.com/emersion/go-smtp"
)

// NewLMTPServer returns a go-smtp server speaking LMTP (RFC 2033), for an
// MTA or Dovecot delivering over a unix socket. It takes the same checks as
// the SMTP listener (RCPT: only our addresses; size limit) and answers each
// recipient separately after the DATA: the message is stored once for all
// its recipients (routing picks the most specific of our addresses), so
// every accepted recipient gets 250 after the commit, or each gets 451 when
// the store failed and the MTA should retry.
func NewLMTPServer(r Receiver, cfg SMTPConfig, log *slog.Logger) *smtp.Server {
	s := NewSMTPServer(r, cfg, log)
	s.LMTP = true
	s.Backend = smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &lmtpSession{smtpSession{r: r, log: log, statementsAddr: cfg.StatementsAddr, spoolDir: cfg.SpoolDir, source: "lmtp", remote: "unix:" + c.Conn().LocalAddr().String(),
			conn: c.Conn(), dataTimeout: cfg.DataTimeout}}, nil
	})
	return s
}

type lmtpSession struct{ smtpSession }

var _ smtp.LMTPSession = (*lmtpSession)(nil)

// LMTPData stores the message once (smtpSession.Data: 250 only after the
// commit, 451 when a retry may succeed, 552 over the size limit) and gives
// every recipient that same answer.
func (s *lmtpSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	err := s.smtpSession.Data(r)
	for _, rcpt := range s.rcpt {
		status.SetStatus(rcpt, err)
	}
	return err
}
