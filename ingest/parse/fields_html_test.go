package parse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLSubmissionFixtures: the field block of a submission is found in
// the text of HTML mail however the client lays out its lines (issue 10,
// DESIGN 4): each fixture of testdata/submissions carries the same
// statement, and must give its fields and body.
func TestHTMLSubmissionFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/submissions/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	good := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(raw)
			if err != nil {
				t.Fatal(err)
			}
			s, problems := ParseFields(m.Text)
			ok := true
			check := func(name, got, want string) {
				if got != want {
					ok = false
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			check("From", s.From, "ITU-T Study Group 15")
			check("To", strings.Join(s.To, "|"), "IETF CCAMP Working Group")
			check("Title", s.Title, "Response to LS on OTN control")
			check("Purpose", s.Purpose, PurposeAction)
			check("Deadline", s.Deadline, "2027-01-31")
			var rc, tc []string
			for _, a := range s.ResponseContacts {
				rc = append(rc, a.Addr)
			}
			for _, a := range s.TechnicalContacts {
				tc = append(tc, a.Addr)
			}
			check("Response-Contact", strings.Join(rc, ","), "rapporteur@itu.example")
			check("Technical-Contact", strings.Join(tc, ","), "expert1@vendor.example")
			if !strings.HasPrefix(s.Body, "Dear CCAMP colleagues,") || !strings.Contains(s.Body, "comments on the attached draft") {
				ok = false
				t.Errorf("body = %q", s.Body)
			}
			if len(problems) > 0 {
				ok = false
				t.Errorf("problems: %v", problems)
			}
			if strings.Contains(f, "other_identifier") {
				if len(s.Other) != 1 || s.Other[0].Value != "SG15-LS123" {
					ok = false
					t.Errorf("other = %+v, want the SDO Reference", s.Other)
				}
			}
			if ok {
				good++
			} else {
				t.Logf("text:\n%s", m.Text)
			}
		})
	}
	t.Logf("HTML submission fixtures parsed right: %d/%d", good, len(files))
}

// TestParseFieldsBlankLinesBetweenFields: blank lines between fields do not
// end the block while the next line is a field the block lacks; otherwise
// the first blank line ends it, as DESIGN 4 says.
func TestParseFieldsBlankLinesBetweenFields(t *testing.T) {
	tests := []struct {
		name, in   string
		from, to   string
		body       string
		nOther     int
		wantFields bool
	}{
		{"outlook text alternative", "From: SG15\n\nTo: CCAMP\n\nPurpose: info\n\n\nDear all,\n\ntext", "SG15", "CCAMP", "Dear all,\n\ntext", 0, true},
		{"two blank lines", "From: SG15\n\n\nTo: CCAMP\n\nbody", "SG15", "CCAMP", "body", 0, true},
		{"three blank lines end it", "From: SG15\n\n\n\nTo: CCAMP\n\nbody", "SG15", "", "To: CCAMP\n\nbody", 0, true},
		{"a field seen before starts the body", "From: SG15\nTo: CCAMP\n\nTo: whom it may concern\nbody", "SG15", "CCAMP", "To: whom it may concern\nbody", 0, true},
		{"prose with a colon starts the body", "From: SG15\nTo: CCAMP\n\nNote: we met\nbody", "SG15", "CCAMP", "Note: we met\nbody", 0, true},
		{"an unknown field before a new field continues", "From: SG15\n\nSDO Ref: 123\n\nTo: CCAMP\n\nbody", "SG15", "CCAMP", "body", 1, true},
		{"an unknown field followed by body ends it", "From: SG15\nTo: CCAMP\n\nNote: x\n\nbody", "SG15", "CCAMP", "Note: x\n\nbody", 0, true},
		{"indented field after a gap is not a field", "From: SG15\n\n  To: CCAMP\n\nbody", "SG15", "", "To: CCAMP\n\nbody", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := ParseFields(tt.in)
			if s.HasFields != tt.wantFields || s.From != tt.from || strings.Join(s.To, "|") != tt.to || strings.TrimSpace(s.Body) != strings.TrimSpace(tt.body) || len(s.Other) != tt.nOther {
				t.Errorf("ParseFields(%q) = from %q to %q other %v body %q", tt.in, s.From, s.To, s.Other, s.Body)
			}
		})
	}
}
