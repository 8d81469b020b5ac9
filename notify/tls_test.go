package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"liaisond/store"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smarthost.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"smarthost.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// authBackend accepts mail only after AUTH PLAIN as lsm/secret.
type authBackend struct {
	mu       sync.Mutex
	received int
	tls      []bool
}

func (b *authBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &authSession{b: b, tls: isTLS}, nil
}

type authSession struct {
	b      *authBackend
	tls    bool
	authed bool
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *authSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "lsm" || password != "secret" {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}
func (s *authSession) Reset()        {}
func (s *authSession) Logout() error { return nil }
func (s *authSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *authSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *authSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	s.b.mu.Lock()
	s.b.received++
	s.b.tls = append(s.b.tls, s.tls)
	s.b.mu.Unlock()
	return nil
}

// TestSMTPTransportTLSAndAuth: STARTTLS and implicit TLS, each with AUTH PLAIN.
func TestSMTPTransportTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			be := &authBackend{}
			srv := smtp.NewServer(be)
			srv.Domain = "smarthost.test"
			srv.TLSConfig = serverTLS
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if mode == "tls" {
				ln = tls.NewListener(ln, serverTLS)
			}
			go srv.Serve(ln)
			defer srv.Close()
			m := &store.OutboxMail{EnvelopeFrom: "s@liaison.example", Rcpt: "a@x.example", Raw: []byte("Subject: x\r\n\r\nhi\r\n")}
			clientTLS := &tls.Config{RootCAs: pool, ServerName: "smarthost.test"}

			good := &SMTPTransport{Addr: ln.Addr().String(), TLS: mode, Username: "lsm", Password: "secret", TLSConfig: clientTLS, Timeout: 5 * time.Second}
			for i := 0; i < 2; i++ {
				if err := good.Send(context.Background(), m); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			good.Idle()
			if be.received != 2 || !be.tls[0] || !be.tls[1] {
				t.Errorf("received %d, over TLS %v", be.received, be.tls)
			}
			// A wrong password is the installation's problem: temporary, the mail is kept.
			wrong := &SMTPTransport{Addr: ln.Addr().String(), TLS: mode, Username: "lsm", Password: "nope", TLSConfig: clientTLS, Timeout: 5 * time.Second}
			var de *DeliveryError
			if err := wrong.Send(context.Background(), m); !errors.As(err, &de) || !de.Temporary {
				t.Errorf("wrong password: %v, want a temporary failure", err)
			}
			// An untrusted certificate is refused.
			untrusted := &SMTPTransport{Addr: ln.Addr().String(), TLS: mode, Username: "lsm", Password: "secret", Timeout: 5 * time.Second}
			if err := untrusted.Send(context.Background(), m); err == nil {
				t.Error("untrusted certificate accepted")
			}
		})
	}
}
