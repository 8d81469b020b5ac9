package notify

import "sync/atomic"

// DKIMKeyring holds the signer in use. The operator rotates the key
// (SIGHUP) while the outbox sender signs on another goroutine: the signer
// is swapped whole through an atomic pointer, so each mail is signed by one
// consistent selector and key, the old or the new.
type DKIMKeyring struct {
	current atomic.Pointer[DKIMSigner]
}

// NewDKIMKeyring starts with s (nil: unsigned until a signer is stored).
func NewDKIMKeyring(s *DKIMSigner) *DKIMKeyring {
	k := &DKIMKeyring{}
	k.current.Store(s)
	return k
}

// Store makes s the signer of every mail sent from now on, queued before
// or not.
func (k *DKIMKeyring) Store(s *DKIMSigner) { k.current.Store(s) }

// Current is the signer in use (nil: mail goes out unsigned).
func (k *DKIMKeyring) Current() *DKIMSigner { return k.current.Load() }

// Sign signs raw with the current signer, or returns it as it is when
// there is none.
func (k *DKIMKeyring) Sign(raw []byte) ([]byte, error) {
	s := k.current.Load()
	if s == nil {
		return raw, nil
	}
	return s.Sign(raw)
}
