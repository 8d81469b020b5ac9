package receive

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestServeSMTPStopsAtOnce: cancelled right as it starts (before go-smtp's
// Serve has registered the listener), ServeSMTP still returns.
func TestServeSMTPStopsAtOnce(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for i := 0; i < 200; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewSMTPServer(&memReceiver{}, SMTPConfig{MaxMessageBytes: 1 << 20, MaxRecipients: 10, Timeout: time.Minute}, log)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- ServeSMTP(ctx, srv, ln) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("ServeSMTP did not return after cancel (round %d)", i)
		}
	}
}
