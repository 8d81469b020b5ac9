package notify

import (
	"bytes"
	"crypto"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// notificationLike is a mail of the size and shape liaisond sends: the
// headers Composer.queue writes and a few KB of quoted-printable text.
var notificationLike = []byte("Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n" +
	"From: Liaison Statement Manager <statements@liaison.example>\r\n" +
	"To: Alice <alice@ccamp.example>\r\n" +
	"Cc: ccamp@ietf.example\r\n" +
	"Reply-To: <ls+1.abcdefghijklmnop@liaison.example>\r\n" +
	"Subject: [LS-1] Response to LS on OTN control\r\n" +
	"Message-ID: <notification.0123456789abcdef@liaison.example>\r\n" +
	"Auto-Submitted: auto-generated\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" + strings.Repeat("A liaison statement arrived for you; please see the page and reply.\r\n", 60))

func testKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	key, pemBytes, err := GenerateDKIMKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	// Through the file, as the daemon loads it.
	p := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(p, pemBytes, 0o600)
	loaded, err := LoadDKIMKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DKIMRecord(key); err != nil {
		t.Fatal(err)
	}
	return loaded
}

// TestDKIMSignVerify: a signed mail verifies against the published record,
// and a mail whose body or From changed in transit does not.
func TestDKIMSignVerify(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		t.Run(kind, func(t *testing.T) {
			key := testKey(t, kind)
			rec, _ := DKIMRecord(key)
			s := &DKIMSigner{Domain: "liaison.example", Selector: "s1", Key: key}
			signed, err := s.Sign(notificationLike)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(name string) ([]string, error) {
				if name != "s1._domainkey.liaison.example" {
					return nil, fmt.Errorf("no record at %s", name)
				}
				return []string{rec}, nil
			}
			verify := func(raw []byte) error {
				v, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
				if err != nil {
					return err
				}
				if len(v) != 1 {
					return fmt.Errorf("%d signatures", len(v))
				}
				return v[0].Err
			}
			if err := verify(signed); err != nil {
				t.Fatalf("signed mail does not verify: %v", err)
			}
			for name, changed := range map[string][]byte{
				"body":        bytes.Replace(signed, []byte("please see"), []byte("please pay"), 1),
				"second From": append([]byte("From: Mallory <m@evil.example>\r\n"), signed...),
			} {
				if err := verify(changed); err == nil {
					t.Errorf("a mail with a changed %s still verifies", name)
				}
			}
		})
	}
}

func TestLoadDKIMKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not-pem":  "hello\n",
		"cert":     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"bad-pkcs": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadDKIMKey(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := LoadDKIMKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file loaded")
	}
}

// BenchmarkDKIMSign: the cost of signing one notification-sized mail
// (about 4 KB), per key type. `go test -bench DKIM ./notify`.
func BenchmarkDKIMSign(b *testing.B) {
	for _, kind := range []string{"rsa", "ed25519"} {
		b.Run(kind, func(b *testing.B) {
			s := &DKIMSigner{Domain: "liaison.example", Selector: "s1", Key: testKey(b, kind)}
			b.SetBytes(int64(len(notificationLike)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(notificationLike); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
