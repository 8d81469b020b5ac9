package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"liaisond/store"
)

// FileTransport writes each mail as a .eml file into Dir, one file per
// envelope recipient, beginning with "Delivered-To:" as a local delivery
// would (DESIGN 9). It is the embedded default: no mail server needed.
type FileTransport struct {
	Dir string
}

// Send writes the file atomically (temp file, fsync, rename).
func (f *FileTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return &DeliveryError{Temporary: true, Err: err}
	}
	name := f.fileName(m)
	tmp, err := os.CreateTemp(f.Dir, ".tmp-*")
	if err != nil {
		return &DeliveryError{Temporary: true, Err: err}
	}
	defer os.Remove(tmp.Name())
	_, err = fmt.Fprintf(tmp, "Delivered-To: %s\r\nReturn-Path: <%s>\r\n", m.Rcpt, m.EnvelopeFrom)
	if err == nil {
		_, err = tmp.Write(m.Raw)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(f.Dir, name))
	}
	if err != nil {
		return &DeliveryError{Temporary: true, Err: err}
	}
	return nil
}

func (f *FileTransport) fileName(m *store.OutboxMail) string {
	return fmt.Sprintf("%06d-%s-%s.eml", m.ID, m.Kind, safeFileName(m.Rcpt))
}

// Delivered reports whether m's file was written: the rename that
// delivers it is atomic, so the file is there whole or not at all.
func (f *FileTransport) Delivered(m *store.OutboxMail) (bool, error) {
	_, err := os.Stat(filepath.Join(f.Dir, f.fileName(m)))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Idle does nothing: files need no connection.
func (f *FileTransport) Idle() {}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@.-_+", r) {
			return r
		}
		return '_'
	}, s)
}

// SMTPTransport delivers through a smarthost. One connection is kept open
// for a burst of mails and closed when the sender goes idle.
type SMTPTransport struct {
	Addr     string // host:port
	TLS      string // none | starttls | tls
	Username string // "" for no AUTH
	Password string
	HeloName string
	Timeout  time.Duration
	// TLSConfig, if set, is used for STARTTLS and implicit TLS (tests set RootCAs).
	TLSConfig *tls.Config

	mu     sync.Mutex
	client *smtp.Client
}

// Send delivers m over the kept connection, dialling when there is none.
func (t *SMTPTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		// A kept connection may have been closed by the server meanwhile.
		if err := t.client.Reset(); err != nil {
			t.client.Close()
			t.client = nil
		}
	}
	if t.client == nil {
		c, err := t.dial(ctx)
		if err != nil {
			// Connection, TLS and AUTH trouble is the installation's, not the
			// mail's: keep the mail and retry, whatever the reply code.
			return &DeliveryError{Temporary: true, Err: err}
		}
		t.client = c
	}
	err := t.client.SendMail(m.EnvelopeFrom, []string{m.Rcpt}, strings.NewReader(string(m.Raw)))
	if err != nil {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			// The connection is in an unknown state: drop it.
			t.client.Close()
			t.client = nil
		}
		return classifySMTP(err)
	}
	return nil
}

func (t *SMTPTransport) dial(ctx context.Context) (*smtp.Client, error) {
	timeout := t.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	host, _, _ := net.SplitHostPort(t.Addr)
	tlsConfig := t.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host}
	}
	d := net.Dialer{Timeout: timeout}
	var conn net.Conn
	var err error
	if t.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConfig}).DialContext(ctx, "tcp", t.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", t.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to smarthost %s: %w", t.Addr, err)
	}
	var c *smtp.Client
	if t.TLS == "starttls" {
		c, err = smtp.NewClientStartTLS(conn, tlsConfig)
	} else {
		c = smtp.NewClient(conn)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smarthost %s: starttls: %w", t.Addr, err)
	}
	c.CommandTimeout = timeout
	c.SubmissionTimeout = 5 * timeout
	helo := t.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		c.Close()
		return nil, fmt.Errorf("smarthost %s: %w", t.Addr, err)
	}
	if t.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", t.Username, t.Password)); err != nil {
			c.Close()
			return nil, fmt.Errorf("smarthost %s: authentication as %s: %w", t.Addr, t.Username, err)
		}
	}
	return c, nil
}

// Idle closes the kept connection.
func (t *SMTPTransport) Idle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		t.client.Quit()
		t.client.Close()
		t.client = nil
	}
}

// classifySMTP turns an SMTP reply into a DeliveryError: 5xx is permanent
// (RFC 5321 4.2.1), everything else (4xx, network trouble) temporary.
func classifySMTP(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &DeliveryError{Temporary: se.Code < 500 || se.Code >= 600, Code: se.Code, Err: err}
	}
	return &DeliveryError{Temporary: true, Err: err}
}

// RemoveStale removes the temporary files (.tmp-*) that a crash between
// create and rename left in Dir, those last written before cutoff (a file
// newer than that may be another process's write in progress). It returns
// how many it removed.
func (f *FileTransport) RemoveStale(cutoff time.Time) (int, error) {
	names, err := filepath.Glob(filepath.Join(f.Dir, ".tmp-*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range names {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}
