package store

import (
	"context"
	"strings"
	"testing"
)

func findRefs(t *testing.T, s *Store, q Query) string {
	t.Helper()
	var out []string
	err := s.View(context.Background(), func(tx *Tx) error {
		list, total, err := tx.Find(q)
		if err != nil {
			return err
		}
		if total < len(list) {
			t.Errorf("total %d < %d listed", total, len(list))
		}
		for _, st := range list {
			out = append(out, st.Ref())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// TestFTSFollowsChanges: the full-text index is kept in step by triggers,
// whoever changes a statement, its addressees or its contacts.
func TestFTSFollowsChanges(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	st := &Statement{Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"},
		To: []BodyRef{{ID: "ccamp", Name: "CCAMP"}}, Title: "Optical control", Purpose: "action", Submitter: "a@itu.example",
		Assignee: "alice@ccamp.example", ReceivedAt: t0, Body: "wavelength switching",
		TechnicalContacts: []Contact{{Name: "Zoltan", Addr: "z@op.example"}}}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.InsertStatement(st) }); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"optical": "LS-1", "wavelength": "LS-1", "zoltan": "LS-1", "ccamp": "LS-1", "sg15": "LS-1", "quantum": ""} {
		if got := findRefs(t, s, Query{Text: q}); got != want {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE statements SET title = 'Quantum control', assignee = 'bob@x.example' WHERE id = 1`); err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE statement_to SET name = 'MPLS', body_id = 'mpls' WHERE statement_id = 1`); err != nil {
			return err
		}
		_, err := tx.exec(`DELETE FROM contacts WHERE statement_id = 1`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"optical": "", "quantum": "LS-1", "wavelength": "LS-1", "zoltan": "", "ccamp": "", "mpls": "LS-1", "bob": "LS-1"} {
		if got := findRefs(t, s, Query{Text: q}); got != want {
			t.Errorf("after the change, search %q = %q, want %q", q, got, want)
		}
	}
}

func TestFTSTerms(t *testing.T) {
	for in, want := range map[string]string{
		"otn control":         `"otn" "control*"`,
		`"a" OR b NEAR(c)`:    `"a" "OR" "b" "NEAR" "c*"`,
		"---":                 "",
		"alice@ccamp.example": `"alice" "ccamp" "example*"`,
	} {
		if got := strings.Join(ftsTerms(in), " "); got != want {
			t.Errorf("ftsTerms(%q) = %q, want %q", in, got, want)
		}
	}
}
