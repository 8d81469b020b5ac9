// Package token makes and checks the personal reply addresses of DESIGN
// section 3: ls+<id>.<token>@D, where token authenticates the pair
// (statement, recipient address).
package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Size is the token length in bytes: 80 bits (DESIGN 3).
const Size = 10

// Len is the token length in characters: 80 bits in base32 are exactly 16
// characters. Anything longer or shorter is no token (DESIGN 7), however it
// decodes: 17 characters decode to the same 80 bits with 5 bits to spare.
const Len = 16

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Keys holds the HMAC secrets by version; the highest version signs, all verify.
type Keys struct {
	current int
	secrets map[int][]byte
}

// NewKeys builds a key set from one secret (tests, benchmarks).
func NewKeys(version int, secret []byte) *Keys {
	return &Keys{current: version, secrets: map[int][]byte{version: secret}}
}

// LoadOrCreate reads the key file in dir ("secret": lines "version:hex"),
// creating it with one fresh 256-bit key on first start. The file is 0600;
// its content is never logged.
func LoadOrCreate(dir string) (*Keys, error) {
	path := filepath.Join(dir, "secret")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		line := "1:" + hex.EncodeToString(secret) + "\n"
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(line), 0o600); err != nil {
			return nil, fmt.Errorf("create token secret: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("create token secret: %w", err)
		}
		data = []byte(line)
	} else if err != nil {
		return nil, fmt.Errorf("read token secret: %w", err)
	}
	k := &Keys{secrets: map[int][]byte{}}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, h, ok := strings.Cut(line, ":")
		ver, err1 := strconv.Atoi(v)
		secret, err2 := hex.DecodeString(h)
		if !ok || err1 != nil || err2 != nil || ver <= 0 || len(secret) < 16 {
			return nil, fmt.Errorf("%s:%d: expected \"version:hex-secret\" with at least 16 bytes of secret", path, i+1)
		}
		k.secrets[ver] = secret
		k.current = max(k.current, ver)
	}
	if k.current == 0 {
		return nil, fmt.Errorf("%s: no key; delete the file to make a new one (old reply addresses stop working)", path)
	}
	return k, nil
}

func (k *Keys) mac(version int, statementID int64, addr string) []byte {
	h := hmac.New(sha256.New, k.secrets[version])
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(version))
	binary.BigEndian.PutUint64(b[8:], uint64(statementID))
	h.Write(b[:])
	h.Write([]byte(strings.ToLower(addr)))
	return h.Sum(nil)[:Size]
}

// Make returns the token for a statement and a recipient address.
func (k *Keys) Make(statementID int64, addr string) string {
	return encoding.EncodeToString(k.mac(k.current, statementID, addr))
}

// Verify reports whether tok was made for this statement and address by any key.
func (k *Keys) Verify(statementID int64, addr, tok string) bool {
	if len(tok) != Len {
		return false
	}
	raw, err := encoding.DecodeString(strings.ToLower(tok))
	if err != nil || len(raw) != Size {
		return false
	}
	for v := range k.secrets {
		if hmac.Equal(raw, k.mac(v, statementID, addr)) {
			return true
		}
	}
	return false
}

// Address returns the personal reply address ls+<id>.<token>@domain.
func (k *Keys) Address(localPrefix, domain string, statementID int64, addr string) string {
	return fmt.Sprintf("%s+%d.%s@%s", localPrefix, statementID, k.Make(statementID, addr), domain)
}

// ParseAddress splits a local part "ls+42.abcd" into statement id and token.
func ParseAddress(localPrefix, local string) (id int64, tok string, ok bool) {
	rest, found := strings.CutPrefix(strings.ToLower(local), strings.ToLower(localPrefix)+"+")
	if !found {
		return 0, "", false
	}
	idText, tok, found := strings.Cut(rest, ".")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !found || err != nil || id <= 0 || tok == "" {
		return 0, "", false
	}
	return id, tok, true
}

// pattern finds a personal reply address's token in any text: the local
// part <prefix>+<id>.<token>, whatever the prefix, and the token cut off at
// anything that is not base32 (an @, a space, a quote). It is deliberately
// wider than a valid token (8 characters and more) so that a mangled copy
// of a token is scrubbed too. The "+" may come escaped, as HTML templates
// (&#43;) and URLs (%2B) write it.
var pattern = regexp.MustCompile(`(?i)\b([a-z0-9_-]+(?:\+|&#43;|&#x2b;|%2b)\d+)\.[a-z2-7]{8,}`)

// Scrub replaces the token of every personal reply address in s by "…",
// keeping the statement reference readable ("ls+42.…@liaison.example").
// Tokens are secrets (DESIGN 7): every text that leaves for the public, or
// for anyone but the token's own recipient, passes through Scrub.
func Scrub(s string) string {
	if !strings.ContainsAny(s, separatorStarts) {
		return s // no "+", "&#43;", "&#x2b;" or "%2b": nothing pattern matches
	}
	return pattern.ReplaceAllString(s, "$1.…")
}

// ScrubBytes is Scrub over bytes (web responses).
func ScrubBytes(b []byte) []byte {
	if !bytes.ContainsAny(b, separatorStarts) {
		return b
	}
	return pattern.ReplaceAll(b, []byte("$1.…"))
}

// separatorStarts are the first characters of the separators pattern
// requires between prefix and id. Most text (a statement's body) has none,
// and the regular expression, which tries every word as a prefix, costs
// half a millisecond on a page of text.
const separatorStarts = "+&%"
