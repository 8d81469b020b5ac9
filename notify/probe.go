package notify

import (
	"context"
)

// Probe connects to the smarthost as Send would (TCP, TLS or STARTTLS,
// EHLO, AUTH) and says goodbye without sending: `liaisond check -probe`.
func (t *SMTPTransport) Probe(ctx context.Context) error {
	c, err := t.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Quit()
}
