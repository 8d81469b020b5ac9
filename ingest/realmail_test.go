package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/ingest/parse"
	"liaisond/store"
)

// TestCarriesStatement: automatic mail is a statement when it has a
// statement's fields (DESIGN 5.2), not otherwise.
func TestCarriesStatement(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"From: 3GPP SA2\nTo: IETF CCAMP WG\nPurpose: For Information\n\nText.", true},
		{"From: ITU-T SG15\nTo: Somebody\n\nText.", true},
		{"I am out of the office until Monday.", false},
		{"Subject: Out of office\n\nI am away.", false},
		{"From: Alice\n\nI am away.", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := CarriesStatement(tc.text); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestOmittedAttachments: attachments past the cap are named (DESIGN 4).
func TestOmittedAttachments(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "realmail", "many-attachments.eml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parse.ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != parse.MaxAttachments || fmt.Sprint(m.OmittedAttachments) != "[C101.txt C102.txt C103.txt]" {
		t.Errorf("%d attachments, omitted %v", len(m.Attachments), m.OmittedAttachments)
	}
	w := omittedWarning(m.OmittedAttachments)
	if !strings.Contains(w, "C101.txt, C102.txt, C103.txt") {
		t.Errorf("warning %q", w)
	}
	var many []string
	for i := 0; i < 30; i++ {
		many = append(many, fmt.Sprintf("f%d.pdf", i))
	}
	if w := omittedWarning(many); !strings.Contains(w, "f19.pdf and 10 more") || strings.Contains(w, "f20.pdf") {
		t.Errorf("long warning %q", w)
	}
}

// TestLegacyIdentityStillKnown: a message stored by a version that
// computed identities from the raw bytes is still recognized when it is
// delivered again after the upgrade (no second statement).
func TestLegacyIdentityStillKnown(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p, s, _, _ := newTestProcessor(t, Config{}, func() time.Time { return now })
	raw := []byte("From: a@itu.example\r\nTo: statements@liaison.example\r\nSubject: LS\r\nMessage-ID: <old-1@itu.example>\r\n\r\n" +
		"From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nPurpose: For Information\r\n\r\nText.\r\n")
	sum := sha256.Sum256(raw)
	err := s.Update(ctx, func(tx *store.Tx) error {
		_, _, err := tx.InsertMessage(&store.Message{ReceivedAt: now, Source: "smtp", MessageID: "old-1@itu.example",
			Identity: parse.LegacyIdentity(raw, hex.EncodeToString(sum[:])), SHA256: hex.EncodeToString(sum[:]), Raw: raw, State: store.MessageProcessed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Receive(ctx, Envelope{Source: "smtp", MailFrom: "a@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true}, raw)
	if err != nil || !res.Duplicate || res.Statement != 0 {
		t.Errorf("re-delivery after upgrade: %+v, %v", res, err)
	}
}

// TestReleasedKeepsArrivalData: a held statement released by "reopen" is
// notified with what its arrival found (unknown addressees, warnings), as
// it would have been on arrival.
func TestReleasedKeepsArrivalData(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p, s, keys, _ := newTestProcessor(t, Config{SubmitPerSenderPerHour: 1}, func() time.Time { return now })
	receive := func(n int, from, to, body string) Result {
		t.Helper()
		raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: s\r\nMessage-ID: <r%d@test>\r\n\r\n%s\r\n", from, to, n, body)
		res, err := p.Receive(ctx, Envelope{Source: "test", MailFrom: from, Rcpt: []string{to}, Known: true}, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	const fields = "From: ITU-T SG15\r\nTo: IETF CCAMP WG, IETF Foo WG\r\nPurpose: For Information\r\n\r\nText."
	receive(1, "a@itu.example", "statements@liaison.example", fields)
	held := receive(2, "a@itu.example", "statements@liaison.example", fields).Statement
	addr := keys.Address("ls", "liaison.example", held, "statements@ietf.example")
	receive(3, "statements@ietf.example", addr, "reopen")
	st, err := viewStatement(s, held)
	if err != nil {
		t.Fatal(err)
	}
	var released *store.Event
	for i := range st.Events {
		if st.Events[i].Type == store.EventSubmitted && strings.HasPrefix(st.Events[i].Text, "released") {
			released = &st.Events[i]
		}
	}
	if st.State != store.StateOpen || released == nil || !strings.Contains(string(released.Data), `"IETF Foo WG"`) {
		t.Errorf("state %s, release event %+v", st.State, released)
	}
}
