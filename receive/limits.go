package receive

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// errTransactionTooSlow: the whole-transaction deadline passed (421, RFC
// 5321 4.5.3.2 lets a server give up on a client that is too slow).
var errTransactionTooSlow = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
	Message: "Transaction took too long, closing connection"}

// readData reads the message within what is left of the transaction's
// deadline. go-smtp sets a read deadline per command line, not for the
// DATA that follows, so the bound is set here on the connection; past it
// the connection is closed.
func (s *smtpSession) readData(r io.Reader) ([]byte, error) {
	if s.conn == nil || s.dataTimeout <= 0 {
		return readMessage(r, s.spoolDir)
	}
	start := s.started
	if start.IsZero() {
		start = time.Now()
	}
	deadline := start.Add(s.dataTimeout)
	if err := s.conn.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	counted := &countingReader{r: r}
	raw, err := readMessage(counted, s.spoolDir)
	var ne net.Error
	if err != nil && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)) {
		s.log.Warn("transaction too slow; connection closed", "remote", s.remote, "from", s.from,
			"limit", s.dataTimeout.String(), "bytes_so_far", counted.n)
		// Answer and hang up here: go-smtp would answer, then read the rest
		// of the drip as commands.
		s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(s.conn, "%d %d.%d.%d %s\r\n", errTransactionTooSlow.Code, errTransactionTooSlow.EnhancedCode[0],
			errTransactionTooSlow.EnhancedCode[1], errTransactionTooSlow.EnhancedCode[2], errTransactionTooSlow.Message)
		s.conn.Close()
		return nil, errTransactionTooSlow
	}
	return raw, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readMessage reads a message into one buffer of its exact size, so that a
// large message is held once: io.ReadAll's growing buffer leaves about four
// times the message behind for the garbage collector. The first MB is read
// in pieces; a message that goes on past it, with spoolDir set, continues
// into a file there (unlinked at once, so a crash leaves nothing behind)
// and is read back whole, else the pieces are joined.
func readMessage(r io.Reader, spoolDir string) ([]byte, error) {
	const inMemory = 1 << 20
	pieces, total, done, err := readPieces(r, inMemory)
	if err != nil {
		return nil, err
	}
	if !done {
		if spoolDir != "" {
			return spool(io.MultiReader(piecesReader(pieces), r), spoolDir)
		}
		more, n, _, err := readPieces(r, -1)
		if err != nil {
			return nil, err
		}
		pieces, total = append(pieces, more...), total+n
	}
	if len(pieces) == 1 {
		return pieces[0], nil
	}
	raw := make([]byte, 0, total)
	for _, p := range pieces {
		raw = append(raw, p...)
	}
	return raw, nil
}

// spool copies r into a file in dir and reads it back into one buffer.
func spool(r io.Reader, dir string) ([]byte, error) {
	f, err := os.CreateTemp(dir, "data-*")
	if err != nil {
		return nil, fmt.Errorf("spool the message: %w", err)
	}
	os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, r)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, n)
	if _, err := f.ReadAt(raw, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, fmt.Errorf("read the spooled message: %w", err)
	}
	return raw, nil
}

// readPieces reads r in pieces of 64 KB until its end (done) or, when
// limit >= 0, until limit bytes are read.
func readPieces(r io.Reader, limit int) (pieces [][]byte, total int, done bool, err error) {
	const piece = 64 << 10
	for limit < 0 || total < limit {
		buf := make([]byte, piece)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			pieces = append(pieces, buf[:n:n])
			total += n
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return pieces, total, true, nil
		}
		if err != nil {
			return nil, 0, false, err
		}
	}
	return pieces, total, false, nil
}

func piecesReader(pieces [][]byte) io.Reader {
	rs := make([]io.Reader, len(pieces))
	for i, p := range pieces {
		rs[i] = bytes.NewReader(p)
	}
	return io.MultiReader(rs...)
}

// LimitListener caps the connections served at once. One over the cap is
// answered "421 too many connections" (RFC 5321 3.8) and closed, so a
// flood of idle connections cannot exhaust the daemon while a sending MTA
// knows to retry later.
func LimitListener(ln net.Listener, max int, hostname string, log *slog.Logger) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), hostname: hostname, log: log}
}

type limitListener struct {
	net.Listener
	sem      chan struct{}
	hostname string
	log      *slog.Logger
	refused  atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
			n := l.refused.Add(1)
			if n == 1 || n%100 == 0 {
				l.log.Warn("connection refused: too many at once", "remote", c.RemoteAddr().String(), "max", cap(l.sem), "refused_so_far", n)
			}
			go func() {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(c, "421 4.7.0 %s Too many connections, try again later\r\n", l.hostname)
				c.Close()
			}()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CertReloader serves the certificate last loaded from CertFile and
// KeyFile; Reload re-reads them (SIGHUP), keeping the old pair if the new
// one does not load, so a renewal never takes STARTTLS away.
type CertReloader struct {
	CertFile, KeyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// NewCertReloader loads the pair once; a pair that does not load is an error.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	r := &CertReloader{CertFile: certFile, KeyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload re-reads the certificate and key.
func (r *CertReloader) Reload() error {
	c, err := tls.LoadX509KeyPair(r.CertFile, r.KeyFile)
	if err != nil {
		return fmt.Errorf("STARTTLS certificate %s, key %s: %w", r.CertFile, r.KeyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

// TLSConfig is the server configuration that serves the current pair.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cert.Load(), nil
		},
	}
}
