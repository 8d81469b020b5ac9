package notify

import (
	"bytes"
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"liaisond/store"
)

// dkimSetup is a store at a known path, a composer and a file transport.
type dkimSetup struct {
	s      *store.Store
	dbPath string
	c      *Composer
	ft     *FileTransport
}

func newDKIMSetup(t *testing.T) *dkimSetup {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "t.db")
	s, err := store.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &dkimSetup{s: s, dbPath: p, c: newComposer(t), ft: &FileTransport{Dir: filepath.Join(dir, "sent")}}
}

// signerFor is a signer for liaison.example under selector and the
// lookup that publishes its record there, and nothing anywhere else.
func signerFor(t *testing.T, kind, selector string) (*DKIMSigner, func(string) ([]string, error)) {
	t.Helper()
	key := testKey(t, kind)
	rec, err := DKIMRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	return &DKIMSigner{Domain: "liaison.example", Selector: selector, Key: key}, func(name string) ([]string, error) {
		if name != selector+"._domainkey.liaison.example" {
			return nil, fmt.Errorf("no TXT at %s", name)
		}
		return []string{rec}, nil
	}
}

// storedMails are the outbox rows with their stored bytes.
func (d *dkimSetup) storedMails(t *testing.T) []*store.OutboxMail {
	t.Helper()
	var rows []*store.OutboxMail
	err := d.s.View(context.Background(), func(tx *store.Tx) error {
		list, err := tx.Outbox(store.OutboxFilter{})
		if err != nil {
			return err
		}
		for _, r := range list {
			m, err := tx.OutboxMail(r.ID)
			if err != nil {
				return err
			}
			rows = append(rows, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// sharedCopies counts the outbox rows of kind, and those whose bytes are
// stored as shared parts (outbox.shared_id, or outbox_raw.shared_id for
// copies queued before 0023), read from the database file itself.
func sharedCopies(t *testing.T, dbPath, kind string) (rows, shared int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`SELECT count(*), count(coalesce(o.shared_id, r.shared_id)) FROM outbox o LEFT JOIN outbox_raw r ON r.id = o.id WHERE o.kind = ?`, kind).Scan(&rows, &shared)
	if err != nil {
		t.Fatal(err)
	}
	return rows, shared
}

// delivered reads the mails the file transport wrote, by outbox id.
func (d *dkimSetup) delivered(t *testing.T, m *store.OutboxMail) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(d.ft.Dir, d.ft.fileName(m)))
	if err != nil {
		t.Fatalf("mail %d to %s not delivered: %v", m.ID, m.Rcpt, err)
	}
	return raw
}

// verifyOne requires exactly one DKIM signature on raw, passing with lookup.
func verifyOne(raw []byte, lookup func(string) ([]string, error)) error {
	v, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		return err
	}
	if len(v) != 1 {
		return fmt.Errorf("%d signatures, want 1", len(v))
	}
	if v[0].Err != nil {
		return v[0].Err
	}
	if v[0].Domain != "liaison.example" {
		return fmt.Errorf("signed for %s", v[0].Domain)
	}
	return nil
}

// TestSenderSignsAsItSends: with DKIM on, the outbox holds a
// notification's copies unsigned and as shared parts; the sender signs
// each as it goes, and the delivered mail is the stored bytes with a
// DKIM-Signature in front that verifies.
func TestSenderSignsAsItSends(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		t.Run(kind, func(t *testing.T) {
			d := newDKIMSetup(t)
			signer, lookup := signerFor(t, kind, "s1")
			keyring := NewDKIMKeyring(signer)
			queueNotification(t, d.s, d.c)

			stored := d.storedMails(t)
			if len(stored) < 5 {
				t.Fatalf("%d mails queued, want a notification's copies", len(stored))
			}
			for _, m := range stored {
				if bytes.Contains(m.Raw, []byte("DKIM-Signature:")) {
					t.Fatalf("mail %d to %s is stored signed", m.ID, m.Rcpt)
				}
			}
			// The copies are staged (0024) until the sender moves them,
			// as its first claim would.
			if err := d.s.Update(context.Background(), func(tx *store.Tx) error { return tx.MoveStaged() }); err != nil {
				t.Fatal(err)
			}
			if rows, shared := sharedCopies(t, d.dbPath, "notification"); rows != len(stored) || shared != rows {
				t.Errorf("%d of %d notification copies stored as shared parts, want all %d", shared, rows, len(stored))
			}

			snd := &Sender{Store: d.s, Transport: d.ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }, DKIM: keyring}
			if n, err := snd.Flush(context.Background()); err != nil || n != len(stored) {
				t.Fatalf("Flush: %d sent, %v; want %d", n, err, len(stored))
			}
			for _, m := range stored {
				raw := d.delivered(t, m)
				if err := verifyOne(raw, lookup); err != nil {
					t.Errorf("mail to %s: %v", m.Rcpt, err)
				}
				// Delivered-To and Return-Path (the file transport's), the
				// signature, then the stored bytes unchanged.
				if !onlySignatureAdded(raw, m) {
					t.Errorf("mail to %s: delivered bytes are not the signature and the stored bytes:\n%s", m.Rcpt, raw)
				}
			}
			// The outbox still holds them unsigned: what `outbox` and the
			// tests read is the mail as composed.
			for _, m := range d.storedMails(t) {
				if m.State != store.OutboxSent || bytes.Contains(m.Raw, []byte("DKIM-Signature:")) {
					t.Errorf("mail %d after sending: state %s, signed stored bytes %v", m.ID, m.State, bytes.Contains(m.Raw, []byte("DKIM-Signature:")))
				}
			}
		})
	}
}

// onlySignatureAdded reports whether delivered is the file transport's
// two lines, one DKIM-Signature field and m's stored bytes.
func onlySignatureAdded(delivered []byte, m *store.OutboxMail) bool {
	if !bytes.HasSuffix(delivered, m.Raw) {
		return false
	}
	head := string(delivered[:len(delivered)-len(m.Raw)])
	head, ok := strings.CutPrefix(head, fmt.Sprintf("Delivered-To: %s\r\nReturn-Path: <%s>\r\n", m.Rcpt, m.EnvelopeFrom))
	if !ok || !strings.HasPrefix(head, "DKIM-Signature:") || !strings.HasSuffix(head, "\r\n") {
		return false
	}
	for _, line := range strings.Split(strings.TrimSuffix(head, "\r\n"), "\r\n")[1:] {
		if line == "" || (line[0] != ' ' && line[0] != '\t') {
			return false // another field
		}
	}
	return true
}

// TestSenderSignsWithKeyCurrentAtSending: a mail queued before the
// operator rotates the key (SIGHUP stores a new signer) goes out signed
// with the new key and selector only; one queued while signing was off
// goes out signed once a key is loaded.
func TestSenderSignsWithKeyCurrentAtSending(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before *DKIMSigner
	}{
		{"rotated", func() *DKIMSigner { s, _ := signerFor(t, "ed25519", "old"); return s }()},
		{"turned on", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDKIMSetup(t)
			keyring := NewDKIMKeyring(tt.before)
			queueNotification(t, d.s, d.c)
			stored := d.storedMails(t)

			newSigner, newLookup := signerFor(t, "ed25519", "new")
			keyring.Store(newSigner) // what reloadDKIM does on SIGHUP

			snd := &Sender{Store: d.s, Transport: d.ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return t0 }, DKIM: keyring}
			if _, err := snd.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, m := range stored {
				raw := d.delivered(t, m)
				if err := verifyOne(raw, newLookup); err != nil {
					t.Errorf("mail to %s: %v", m.Rcpt, err)
				}
				if !bytes.Contains(raw, []byte("s=new;")) || bytes.Contains(raw, []byte("s=old;")) {
					t.Errorf("mail to %s: not signed with the new selector alone", m.Rcpt)
				}
			}
		})
	}
}

// failingKey is a key whose signer fails, as a broken HSM or agent would.
type failingKey struct{ crypto.Signer }

func (failingKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("signer unavailable")
}

// TestSenderSigningFailure: a mail that cannot be signed is not sent
// unsigned; the failure is logged with the mail and the selector, recorded
// as a temporary failure, and the mail goes out signed once a working key
// is loaded.
func TestSenderSigningFailure(t *testing.T) {
	d := newDKIMSetup(t)
	good, lookup := signerFor(t, "ed25519", "s1")
	keyring := NewDKIMKeyring(&DKIMSigner{Domain: "liaison.example", Selector: "broken", Key: failingKey{good.Key}})
	queueNotification(t, d.s, d.c)
	stored := d.storedMails(t)

	var logs bytes.Buffer
	now := t0
	snd := &Sender{Store: d.s, Transport: d.ft, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now },
		RetryMin: time.Minute, RetryMax: time.Hour, DKIM: keyring}
	if n, err := snd.Flush(context.Background()); err != nil || n != 0 {
		t.Fatalf("Flush with a failing key: %d sent, %v", n, err)
	}
	if files, _ := filepath.Glob(filepath.Join(d.ft.Dir, "*.eml")); len(files) != 0 {
		t.Fatalf("%d mails went out with a failing key", len(files))
	}
	for _, m := range d.storedMails(t) {
		if m.State != store.OutboxQueued || m.Attempts != 1 || !strings.Contains(m.LastError, "temporary failure") ||
			!strings.Contains(m.LastError, "signer unavailable") || !strings.Contains(m.LastError, "broken") {
			t.Errorf("mail %d: state %s, attempts %d, last error %q; want queued for a retry with the cause", m.ID, m.State, m.Attempts, m.LastError)
		}
	}
	for _, want := range []string{"could not be DKIM-signed", "selector=broken", fmt.Sprintf("outbox=%d", stored[0].ID), "err=", "will retry"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	keyring.Store(good)
	now = now.Add(2 * time.Minute) // past the first backoff
	if n, err := snd.Flush(context.Background()); err != nil || n != len(stored) {
		t.Fatalf("Flush with a working key: %d sent, %v; want %d", n, err, len(stored))
	}
	for _, m := range stored {
		if err := verifyOne(d.delivered(t, m), lookup); err != nil {
			t.Errorf("mail to %s: %v", m.Rcpt, err)
		}
	}
}
