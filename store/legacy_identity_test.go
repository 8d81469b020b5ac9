package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestLegacyIdentityPossible: a database that holds no identity of the
// earlier form says so, and ingest skips computing one; storing one, or
// opening a database that holds one, says it may (each prefix of the old
// form, and none of the present one).
func TestLegacyIdentityPossible(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		identity string
		legacy   bool
	}{
		{"mid2:aa", false},
		{"hdr2:bb", false},
		{"mid:cc", true},
		{"raw:dd", true},
	} {
		path := filepath.Join(t.TempDir(), "l.db")
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if s.LegacyIdentityPossible() {
			t.Fatalf("a new database may hold legacy identities")
		}
		err = s.Update(ctx, func(tx *Tx) error {
			_, _, err := tx.InsertMessage(&Message{ReceivedAt: t0, Source: "smtp", Identity: tc.identity, SHA256: "x", Raw: []byte("m")})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LegacyIdentityPossible(); got != tc.legacy {
			t.Errorf("after storing %s: LegacyIdentityPossible = %v, want %v", tc.identity, got, tc.legacy)
		}
		s.Close()
		if s, err = Open(ctx, path); err != nil {
			t.Fatal(err)
		}
		if got := s.LegacyIdentityPossible(); got != tc.legacy {
			t.Errorf("opened holding %s: LegacyIdentityPossible = %v, want %v", tc.identity, got, tc.legacy)
		}
		s.Close()
	}
}
