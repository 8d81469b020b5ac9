package parse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseFields checks the invariants callers rely on: no panic, values
// in their normalized forms, lowercase addresses, and valid UTF-8 out for
// valid UTF-8 in.
func FuzzParseFields(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "fields", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		buf, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(buf))
	}
	// The text of the HTML submissions, as ParseFields gets it.
	htmlFiles, err := filepath.Glob(filepath.Join("testdata", "submissions", "*.eml"))
	if err != nil || len(htmlFiles) == 0 {
		f.Fatalf("no HTML submission fixtures: %v", err)
	}
	for _, file := range htmlFiles {
		buf, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		m, err := ParseMessage(buf)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Text)
	}
	for _, s := range []string{
		"",
		"\uFEFF",
		"From: a\n\nTo: b\n\n\nX Y: z\n\nPurpose: info\n\nbody",
		"From: a\n\n\n\nTo: b\n \nTo: c\n\tTitle: d\n\n",
		"From:\n \n",
		"Deadline: 01/02/2027\nPurpose: x\nCc: a@b; c\n",
		"To: ;,;\nTitle:\n\tx\ny\nFrom: z\n",
		"Technical-Contact: \"a@b\"@c, =?utf-8?q?=C3=A9?= <É@X.example>\n",
		"In-Response-To: [LS-9223372036854775807]\n",
		"Purpose: In Response to COM15-LS123\n3GPP-Ref: S2-1\n",
		"In-Response-To: CCAMP LS \"OAM for OTN\" of 2026-03-02\n",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, text string) {
		s, problems := ParseFields(text)
		Check(&s, text, SubjectRef(text), 0)
		CleanSubject(text)

		switch s.Purpose {
		case "", PurposeInformation, PurposeComment, PurposeAction, PurposeResponse:
		default:
			t.Errorf("purpose %q", s.Purpose)
		}
		if s.Deadline != "" {
			if d, err := time.Parse("2006-01-02", s.Deadline); err != nil || d.Format("2006-01-02") != s.Deadline {
				t.Errorf("deadline %q: %v", s.Deadline, err)
			}
		}
		if s.InResponseTo < 0 {
			t.Errorf("in-response-to %d", s.InResponseTo)
		}
		if s.InResponseTo != 0 && s.InResponseToWords != "" {
			t.Errorf("in-response-to both LS-%d and %q", s.InResponseTo, s.InResponseToWords)
		}
		if s.InResponseToWords != strings.TrimSpace(s.InResponseToWords) {
			t.Errorf("in-response-to words %q not trimmed", s.InResponseToWords)
		}
		for _, l := range [][]Address{s.ResponseContacts, s.TechnicalContacts, s.Cc} {
			seen := map[string]bool{}
			for _, a := range l {
				if !strings.Contains(a.Addr, "@") || strings.ToLower(a.Addr) != a.Addr {
					t.Errorf("address %q", a.Addr)
				}
				if seen[a.Addr] {
					t.Errorf("duplicate address %q", a.Addr)
				}
				seen[a.Addr] = true
			}
		}
		for _, u := range s.URLs {
			lu := strings.ToLower(u)
			if !strings.HasPrefix(lu, "http://") && !strings.HasPrefix(lu, "https://") {
				t.Errorf("url %q", u)
			}
		}
		for _, p := range problems {
			if p.Message == "" || p.Fix == "" {
				t.Errorf("incomplete problem %#v", p)
			}
		}
		if !s.HasFields && (s.From != "" || len(s.To) != 0 || len(s.Other) != 0 || len(problems) != 0) {
			t.Errorf("values without fields: %#v, %v", s, problems)
		}
		if strings.Contains(s.Body, "\r") {
			t.Errorf("body with CR: %q", s.Body)
		}
		if utf8.ValidString(text) {
			for _, v := range []string{s.Body, s.From, s.Title} {
				if !utf8.ValidString(v) {
					t.Errorf("invalid UTF-8 out of valid UTF-8 in: %q", v)
				}
			}
		}
	})
}
