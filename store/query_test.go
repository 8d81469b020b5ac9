package store

import (
	"context"
	"strings"
	"testing"
)

func findRefs(t *testing.T, s *Store, q Query) string {
	t.Helper()
	// As every search does: what is pending is indexed first (0026).
	if q.Text != "" {
		if err := s.IndexPending(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
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

// TestFTSPartiesOnce: a statement's parties are indexed once by
// InsertStatement (migration 0014), and searching by an addressee or a
// contact stays right after the insert, a redirect (ReplaceTo), a contact
// added later and an update, for statements with ids of their own and
// ids SQLite picks.
func TestFTSPartiesOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mk := func(id int64, to, contact string) *Statement {
		return &Statement{ID: id, Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"},
			To: []BodyRef{{ID: to, Name: strings.ToUpper(to)}, {ID: "opsawg", Name: "OPSAWG"}}, Title: "Optical control", Purpose: "action",
			Submitter: "a@itu.example", Assignee: "alice@ietf.example", ReceivedAt: t0, Body: "wavelength switching",
			ResponseContacts:  []Contact{{Name: "Rapporteur", Addr: "rapp@itu.example"}},
			TechnicalContacts: []Contact{{Name: contact, Addr: strings.ToLower(contact) + "@op.example"}}}
	}
	picked, own := mk(0, "ccamp", "Zoltan"), mk(40, "pce", "Yolanda")
	if err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.InsertStatement(picked); err != nil {
			return err
		}
		return tx.InsertStatement(own)
	}); err != nil {
		t.Fatal(err)
	}
	if picked.ID != 1 || own.ID != 40 {
		t.Fatalf("ids = %d, %d; want 1 (picked) and 40 (given)", picked.ID, own.ID)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		for q, w := range want {
			if got := findRefs(t, s, Query{Text: q}); got != w {
				t.Errorf("%s: search %q = %q, want %q", when, q, got, w)
			}
		}
	}
	check("after insert", map[string]string{"ccamp": "LS-1", "pce": "LS-40", "opsawg": "LS-40 LS-1", "zoltan": "LS-1",
		"yolanda": "LS-40", "rapporteur": "LS-40 LS-1", "rapp itu": "LS-40 LS-1", "sg15": "LS-40 LS-1", "optical": "LS-40 LS-1"})
	var parties int
	if err := s.View(ctx, func(tx *Tx) error {
		return tx.queryRow(`SELECT count(*) FROM search_fts`).Scan(&parties)
	}); err != nil || parties != 2 {
		t.Errorf("search_fts holds %d rows (%v), want one per statement", parties, err)
	}

	// A redirect replaces the addressees of a statement already indexed.
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.ReplaceTo(1, []BodyRef{{ID: "mpls", Name: "MPLS"}, {ID: "teas", Name: "TEAS"}})
	}); err != nil {
		t.Fatal(err)
	}
	check("after the redirect", map[string]string{"ccamp": "", "mpls": "LS-1", "teas": "LS-1", "opsawg": "LS-40", "zoltan": "LS-1"})

	// A contact added to, and one changed in, statements already indexed;
	// the assignee changed.
	if err := s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`INSERT INTO contacts (statement_id, role, pos, name, addr) VALUES (40, 'cc', 1, 'Xavier', 'x@op.example')`); err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE contacts SET name = 'Walter', addr = 'w@op.example' WHERE statement_id = 1 AND role = 'technical'`); err != nil {
			return err
		}
		return tx.SetAssignee(40, "bob@pce.example")
	}); err != nil {
		t.Fatal(err)
	}
	check("after the update", map[string]string{"xavier": "LS-40", "yolanda": "LS-40", "zoltan": "", "walter": "LS-1",
		"alice": "LS-1", "bob": "LS-40", "mpls": "LS-1", "pce": "LS-40"})
}
