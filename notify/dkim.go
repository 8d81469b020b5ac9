package notify

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIMSigner signs outgoing mail for Domain (RFC 6376), so that receivers
// that require DKIM alignment with the From domain (DMARC, RFC 7489) take
// it. The outbox holds mail unsigned; the Sender signs each mail just
// before its transport gets it (Sender.signForSending), and a mail that
// cannot be signed is retried, never sent unsigned.
type DKIMSigner struct {
	Domain   string
	Selector string
	Key      crypto.Signer
}

// dkimHeaders are the header fields signed (RFC 6376 5.4.1). From is
// listed twice: the second, absent instance "oversigns" it, so a From added
// in transit breaks the signature (RFC 6376 8.15).
var dkimHeaders = []string{
	"From", "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"Reply-To", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted",
}

// Sign returns raw with a DKIM-Signature header in front.
func (s *DKIMSigner) Sign(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(raw) + 600)
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: s.Domain, Selector: s.Selector, Signer: s.Key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("DKIM signing: %w", err)
	}
	return out.Bytes(), nil
}

// LoadDKIMKey reads a PEM private key: RSA (PKCS #1 or PKCS #8, at least
// 1024 bits, RFC 8301 3.2) or Ed25519 (PKCS #8, RFC 8463).
func LoadDKIMKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block; write the private key as PEM (`liaisond dkim-keygen` makes one)", path)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: a PEM %q is not a private key; want \"PRIVATE KEY\" or \"RSA PRIVATE KEY\"", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("%s: an RSA key of %d bits is too short for DKIM (RFC 8301: at least 1024, 2048 recommended)", path, k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%s: a %T key cannot sign DKIM; use RSA or Ed25519", path, key)
}

// DKIMRecord is the DNS TXT record value publishing key's public half
// (RFC 6376 3.6.1), to be put at <selector>._domainkey.<domain>.
func DKIMRecord(key crypto.Signer) (string, error) {
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		// RFC 8463 4.2: the raw 32-byte key, not PKIX.
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	}
	return "", fmt.Errorf("a %T key cannot sign DKIM", key.Public())
}

// GenerateDKIMKey makes a new key, "rsa" (2048 bits) or "ed25519", and
// returns it as PEM (PKCS #8).
func GenerateDKIMKey(kind string) (crypto.Signer, []byte, error) {
	var key crypto.Signer
	var err error
	switch kind {
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, nil, fmt.Errorf("key type %q: use rsa or ed25519", kind)
	}
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
