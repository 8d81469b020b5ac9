package parse

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFieldsFixture(t testing.TB, name string) string {
	t.Helper()
	buf, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fields", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return string(buf)
}

// problemFields returns the Field of each problem, for compact expectations.
func problemFields(l []Problem) []string {
	var r []string
	for _, p := range l {
		r = append(r, p.Field)
	}
	return r
}

func TestParseFieldsFixtures(t *testing.T) {
	tests := []struct {
		file     string
		want     Submission
		problems []string // Field of each expected problem, in order
	}{
		{
			file: "design_example.txt",
			want: Submission{
				From:              "ITU-T Study Group 15",
				To:                []string{"IETF CCAMP Working Group"},
				Title:             "Response to LS on OTN control",
				Purpose:           "action",
				PurposeRaw:        "For Action",
				Deadline:          "2027-01-31",
				DeadlineRaw:       "2027-01-31",
				ResponseContacts:  []Address{{"", "rapporteur@itu.example"}},
				TechnicalContacts: []Address{{"", "expert1@vendor.example"}, {"Expert Two", "expert2@op.example"}},
				Cc:                []Address{{"", "ccamp-interest@ietf.example"}},
				URLs:              []string{"https://www.itu.example/md/T25-SG15-LS-123.pdf"},
				Body:              "Dear CCAMP colleagues,\n\nITU-T Study Group 15 thanks you for your liaison statement on OTN control.\n\n    Indented text stays indented.\n\nBest regards,\nRapporteur Q14/15",
				HasFields:         true,
			},
		},
		{
			file: "bom_crlf.txt",
			want: Submission{
				From:       "3GPP TSG SA WG2",
				To:         []string{"IETF DMM Working Group", "IETF Routing Area"},
				Title:      "LS on session continuity",
				Purpose:    "information",
				PurposeRaw: "For Information",
				Body:       "Dear colleagues,\n\nPlease find the attached LS.",
				HasFields:  true,
			},
		},
		{
			file: "continuation_lines.txt",
			want: Submission{
				From:        "IEEE 802.1 Working Group",
				To:          []string{"IETF DetNet Working Group", "IETF TSN Liaison Interest"},
				Title:       "Liaison on time-sensitive networking and deterministic networking alignment",
				Purpose:     "comment",
				PurposeRaw:  "For Comment",
				Deadline:    "2027-03-15",
				DeadlineRaw: "15 March 2027",
				TechnicalContacts: []Address{
					{"Alice Example", "alice@ieee.example"},
					{"", "bob@ieee.example"},
					{"Carol, Editor", "carol@ieee.example"},
				},
				Body:      "IEEE 802.1 would welcome comments on the attached draft.",
				HasFields: true,
			},
		},
		{
			file: "spelling_variants.txt",
			want: Submission{
				From:              "ITU-T SG13",
				To:                []string{"IETF OPSAWG"},
				Title:             "LS on network slicing",
				Purpose:           "comment",
				PurposeRaw:        "for  comment.",
				Deadline:          "2027-12-31",
				DeadlineRaw:       "Friday, 31 December 2027",
				ResponseContacts:  []Address{{"Rapporteur", "rapp@itu.example"}, {"", "second@itu.example"}},
				TechnicalContacts: []Address{{"Tech Person", "tech@itu.example"}},
				Cc:                []Address{{"", "list@ietf.example"}},
				URLs:              []string{"https://itu.example/a.pdf", "https://itu.example/b.docx", "http://itu.example/c.txt"},
				Body:              "Comments welcome.",
				HasFields:         true,
			},
		},
		{
			file: "unknown_fields.txt",
			want: Submission{
				From:       "ETSI ISG NFV",
				To:         []string{"IETF NFVRG"},
				Title:      "NFV release status",
				Purpose:    "information",
				PurposeRaw: "information",
				Other: []Field{
					{"Source", "ETSI ISG NFV chair"},
					{"For-Meeting", "IETF 130"},
					{"X_Internal_Ref", "NFV(27)000123"},
				},
				Body:      "Status update attached.",
				HasFields: true,
			},
		},
		{
			file: "in_response_words.txt",
			want: Submission{
				From:              "ITU-T SG15",
				To:                []string{"IETF CCAMP WG"},
				Title:             "Reply LS on OAM for OTN",
				Purpose:           "response",
				PurposeRaw:        "In Response",
				InResponseToRaw:   `CCAMP LS "OAM for OTN" of 2026-03-02`,
				InResponseToWords: `CCAMP LS "OAM for OTN" of 2026-03-02`,
				Other: []Field{
					{"ITU-T-Ref", "COM15-LS123"},
					{"3GPP-Ref", "S2-2601234"},
				},
				Body:      "Dear CCAMP colleagues, thank you for your LS of March 2026.",
				HasFields: true,
			},
		},
		{
			file: "no_fields_letter.txt",
			want: Submission{
				Body: "Dear IETF colleagues:\n\nWe would like to inform you about our new work item.\nFrom: this is not a field line here because the first line is not one.\n\nRegards,\nThe Broadband Forum",
			},
		},
		{
			file: "url_first_line.txt",
			want: Submission{
				Body: "https://www.itu.example/md/T25-SG15-LS-123.pdf\n\nPlease see the liaison statement at the link above.",
			},
		},
		{
			file: "greeting_with_colon.txt",
			want: Submission{
				Body: "Dear colleagues:\n\nPlease find our statement attached.",
			},
		},
		{
			file: "leading_blank_lines.txt",
			want: Submission{
				From:            "Broadband Forum",
				To:              []string{"IETF Operations and Management Area Working Group"},
				Purpose:         "response",
				PurposeRaw:      "In Response",
				InResponseTo:    17,
				InResponseToRaw: "ls17",
				Body:            "Thank you for your LS.",
				HasFields:       true,
			},
		},
		{
			file: "wrapped_without_indent.txt",
			want: Submission{
				From:        "ITU-T Study Group 15",
				To:          []string{"IETF CCAMP Working Group"},
				Title:       "Reply to LS on the framework for control of optical transport networks with G.709 extensions and beyond",
				Purpose:     "action",
				PurposeRaw:  "For Action",
				Deadline:    "2027-01-31",
				DeadlineRaw: "January 31, 2027",
				Body:        "Text.",
				HasFields:   true,
			},
		},
		{
			file: "missing_blank_line.txt",
			want: Submission{
				From:       "ITU-T Study Group 15",
				To:         []string{"IETF CCAMP Working Group"},
				Purpose:    "information",
				PurposeRaw: "For Information",
				Body:       "Dear colleagues,\nwe inform you of the approval of G.8080.\n\nRegards",
				HasFields:  true,
			},
		},
		{
			file: "bad_values.txt",
			want: Submission{
				From:             "Some SDO",
				To:               []string{"IETF"},
				Title:            "Bad values",
				PurposeRaw:       "urgent",
				DeadlineRaw:      "next week",
				ResponseContacts: []Address{{"", "good@sdo.example"}},
				InResponseToRaw:  "COM15-LS123",
				// Another SDO's reference: a statement named in words.
				InResponseToWords: "COM15-LS123",
				URLs:              []string{"https://sdo.example/ls.pdf"},
				Body:              "Body.",
				HasFields:         true,
			},
			problems: []string{"Purpose", "Deadline", "Response-Contact", "Attachment-URL"},
		},
		{
			file: "fields_only_url.txt",
			want: Submission{
				From:       "ITU-T Study Group 15",
				To:         []string{"IETF CCAMP Working Group"},
				Title:      "LS on OTN control",
				Purpose:    "information",
				PurposeRaw: "For Information",
				URLs:       []string{"https://www.itu.example/md/T25-SG15-LS-124.pdf"},
				HasFields:  true,
			},
		},
		{
			file: "response_in_subject_field.txt",
			want: Submission{
				From:            "IETF CCAMP Working Group",
				To:              []string{"ITU-T Study Group 15"},
				Title:           "LS on OTN control",
				Purpose:         "response",
				PurposeRaw:      "In response",
				InResponseTo:    42,
				InResponseToRaw: "LS 42",
				Body:            "Dear SG15 colleagues,\n\n> quoted earlier text\n> stays in the body\n\n-- \nCCAMP chairs",
				HasFields:       true,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, problems := ParseFields(readFieldsFixture(t, tc.file))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseFields:\ngot  %#v\nwant %#v", got, tc.want)
			}
			if pf := problemFields(problems); !reflect.DeepEqual(pf, tc.problems) {
				t.Errorf("problems: got %v, want fields %v", problems, tc.problems)
			}
		})
	}
}

// TestParseFieldsNames checks that each spelling of each field name lands
// in the right place.
func TestParseFieldsNames(t *testing.T) {
	tests := []struct {
		line  string
		check func(s Submission) bool
	}{
		{"From: X", func(s Submission) bool { return s.From == "X" }},
		{"FROM: X", func(s Submission) bool { return s.From == "X" }},
		{"from : X", func(s Submission) bool { return s.From == "X" }},
		{"To: X", func(s Submission) bool { return reflect.DeepEqual(s.To, []string{"X"}) }},
		{"tO: X", func(s Submission) bool { return reflect.DeepEqual(s.To, []string{"X"}) }},
		{"Title: X", func(s Submission) bool { return s.Title == "X" }},
		{"TITLE: X", func(s Submission) bool { return s.Title == "X" }},
		{"Subject: Fwd: X", func(s Submission) bool { return s.Title == "X" }},
		{"Purpose: info", func(s Submission) bool { return s.Purpose == "information" }},
		{"purposes: info", func(s Submission) bool { return s.Purpose == "information" }},
		{"Deadline: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"Response Deadline: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"Response-Deadline: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"Reply By: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"reply-by: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"Respond By: 2027-01-31", func(s Submission) bool { return s.Deadline == "2027-01-31" }},
		{"Response-Contact: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"Response_Contact: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"Response Contacts: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"RESPONSE-CONTACTS: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"Contact: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"Contacts: a@x.example", func(s Submission) bool { return len(s.ResponseContacts) == 1 }},
		{"Technical-Contact: a@x.example", func(s Submission) bool { return len(s.TechnicalContacts) == 1 }},
		{"technical_contact: a@x.example", func(s Submission) bool { return len(s.TechnicalContacts) == 1 }},
		{"Technical Contacts: a@x.example", func(s Submission) bool { return len(s.TechnicalContacts) == 1 }},
		{"Tech-Contact: a@x.example", func(s Submission) bool { return len(s.TechnicalContacts) == 1 }},
		{"Cc: a@x.example", func(s Submission) bool { return len(s.Cc) == 1 }},
		{"CC: a@x.example", func(s Submission) bool { return len(s.Cc) == 1 }},
		{"Attachment-URL: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"Attachment URLs: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"attachment_url: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"Attachment-Links: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"URL: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"URLs: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"Link: https://x.example/a", func(s Submission) bool { return len(s.URLs) == 1 }},
		{"In-Response-To: LS-3", func(s Submission) bool { return s.InResponseTo == 3 }},
		{"In Response To: LS-3", func(s Submission) bool { return s.InResponseTo == 3 }},
		{"in_response_to: LS-3", func(s Submission) bool { return s.InResponseTo == 3 }},
		{"In-Reply-To: LS-3", func(s Submission) bool { return s.InResponseTo == 3 }},
		{"Response To: LS-3", func(s Submission) bool { return s.InResponseTo == 3 }},
	}
	for _, tc := range tests {
		s, problems := ParseFields(tc.line + "\n\nbody")
		if !s.HasFields || !tc.check(s) || len(problems) != 0 || s.Body != "body" || len(s.Other) != 0 {
			t.Errorf("%q: got %#v, problems %v", tc.line, s, problems)
		}
	}
}

func TestParseFieldsTitleSubject(t *testing.T) {
	// A Title wins over a Subject, in either order; the Subject is kept.
	for _, text := range []string{
		"Title: The title\nSubject: The subject\n",
		"Subject: The subject\nTitle: The title\n",
	} {
		s, problems := ParseFields(text)
		if s.Title != "The title" || len(problems) != 0 || !reflect.DeepEqual(s.Other, []Field{{"Subject", "The subject"}}) {
			t.Errorf("%q: got title %q, other %v, problems %v", text, s.Title, s.Other, problems)
		}
	}
}

func TestParseFieldsLines(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Submission
	}{
		{
			"crlf and trailing spaces",
			"From: A  \r\nTo: B\t\r\n\r\nline 1  \r\n\r\nline 2\r\n",
			Submission{From: "A", To: []string{"B"}, Body: "line 1  \n\nline 2", HasFields: true},
		},
		{
			"bom before leading blank lines",
			"\uFEFF\n  \n\t\nFrom: A\n\nbody",
			Submission{From: "A", Body: "body", HasFields: true},
		},
		{
			"continuation with tab and spaces",
			"Title: a\n\tb\n   c\nFrom: A\n\n",
			Submission{Title: "a b c", From: "A", HasFields: true},
		},
		{
			"continuation of empty value",
			"Title:\n  long title\n",
			Submission{Title: "long title", HasFields: true},
		},
		{
			"blank line with non-breaking space ends fields",
			"From: A\n\u00a0\nbody",
			Submission{From: "A", Body: "body", HasFields: true},
		},
		{
			"old mac line ends",
			"From: A\rTo: B\r\rbody",
			Submission{From: "A", To: []string{"B"}, Body: "body", HasFields: true},
		},
		{
			"time is not a field",
			"10:30 meeting\n\nFrom: A",
			Submission{Body: "10:30 meeting\n\nFrom: A"},
		},
		{
			"mailto is not a field",
			"mailto:a@x.example\n\nFrom: A",
			Submission{Body: "mailto:a@x.example\n\nFrom: A"},
		},
		{
			"name too long is not a field",
			"This is a long sentence that ends with a colon:\nFrom: A",
			Submission{Body: "This is a long sentence that ends with a colon:\nFrom: A"},
		},
		{
			"only unknown fields are no envelope",
			"Hello: world\nRe: foo\n\ntext",
			Submission{Body: "Hello: world\nRe: foo\n\ntext"},
		},
		{
			"empty",
			"",
			Submission{},
		},
		{
			"empty field is absent",
			"From: A\nPurpose:\nDeadline:  \n\nx",
			Submission{From: "A", Body: "x", HasFields: true},
		},
		{
			"body keeps colons",
			"From: A\n\nNote: this is body\n",
			Submission{From: "A", Body: "Note: this is body", HasFields: true},
		},
		{
			"to split and deduplicated",
			"To: IETF CCAMP WG ; ;IETF   MPLS WG, ietf ccamp wg,\n",
			Submission{To: []string{"IETF CCAMP WG", "IETF MPLS WG"}, HasFields: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := ParseFields(tc.text)
			if !reflect.DeepEqual(got, tc.want) || len(problems) != 0 {
				t.Errorf("got %#v, problems %v\nwant %#v", got, problems, tc.want)
			}
		})
	}
}

func TestParseFieldsDuplicates(t *testing.T) {
	// The same value twice, in different words, is fine.
	s, problems := ParseFields("Deadline: 2027-01-31\nReply By: 31 Jan 2027\nPurpose: action\nPurpose: For Action\n")
	if len(problems) != 0 || s.Deadline != "2027-01-31" || s.Purpose != "action" {
		t.Errorf("same values: got %#v, %v", s, problems)
	}
	// Different values are a problem; the first counts.
	s, problems = ParseFields("From: A\nPurpose: action\nDeadline: 2027-01-31\nFrom: B\nPurpose: comment\nReply By: 2027-02-01\n")
	if s.From != "A" || s.Purpose != "action" || s.Deadline != "2027-01-31" {
		t.Errorf("different values: got %#v", s)
	}
	if got, want := problemFields(problems), []string{"From", "Purpose", "Reply By"}; !reflect.DeepEqual(got, want) {
		t.Errorf("different values: problems %v, want fields %v", problems, want)
	}
	// An unparseable first value does not hide a good second one.
	s, problems = ParseFields("Purpose: soon\nPurpose: action\n")
	if s.Purpose != "action" || s.PurposeRaw != "soon" || len(problems) != 1 {
		t.Errorf("bad then good: got %#v, %v", s, problems)
	}
}

func TestParseFieldsPurpose(t *testing.T) {
	tests := []struct{ in, want string }{
		{"For Information", "information"},
		{"for information", "information"},
		{"FOR INFORMATION", "information"},
		{"For   Information", "information"},
		{"For Information.", "information"},
		{"For-Information", "information"},
		{"information", "information"},
		{"Informational", "information"},
		{"info", "information"},
		{"For Info", "information"},
		{"For Comment", "comment"},
		{"for comments", "comment"},
		{"Comment", "comment"},
		{"COMMENTS", "comment"},
		{"For Action", "action"},
		{"action", "action"},
		{"In Response", "response"},
		{"in  response", "response"},
		{"Response", "response"},
		{"In Response to LS-17", "response"},
		{"in response to [LS 17].", "response"},
		// Not understood: a problem, no purpose.
		{"urgent", ""},
		{"reply", ""},
		{"For Action and Comment", ""},
		{"informationx", ""},
	}
	for _, tc := range tests {
		s, problems := ParseFields("Purpose: " + tc.in + "\n")
		if s.Purpose != tc.want || s.PurposeRaw != tc.in {
			t.Errorf("%q: got purpose %q, raw %q, want %q", tc.in, s.Purpose, s.PurposeRaw, tc.want)
		}
		if tc.want == "" {
			if len(problems) != 1 || problems[0].Field != "Purpose" || !strings.Contains(problems[0].Message, `"`+tc.in+`"`) || !strings.Contains(problems[0].Fix, "For Information") {
				t.Errorf("%q: problems %v", tc.in, problems)
			}
		} else if len(problems) != 0 {
			t.Errorf("%q: problems %v", tc.in, problems)
		}
	}
}

func TestParseFieldsPurposeRef(t *testing.T) {
	// The statement answered, written in the Purpose, counts as In-Response-To,
	// unless that is given too.
	tests := []struct {
		text string
		want int64
	}{
		{"Purpose: In Response to LS-17\n", 17},
		{"Purpose: In Response to LS-17\nIn-Response-To: LS-18\n", 18},
		{"In-Response-To: LS-18\nPurpose: In Response to LS-17\n", 18},
		{"In-Response-To: what\nPurpose: In Response to LS-17\n", 0},
	}
	for _, tc := range tests {
		s, _ := ParseFields(tc.text)
		if s.Purpose != "response" || s.InResponseTo != tc.want {
			t.Errorf("%q: got purpose %q, in-response-to %d, want %d", tc.text, s.Purpose, s.InResponseTo, tc.want)
		}
	}
}

func TestParseFieldsDeadline(t *testing.T) {
	tests := []struct {
		in, want string
		problem  string // part of the problem message when want is ""
	}{
		{"2027-01-31", "2027-01-31", ""},
		{"2027-1-5", "2027-01-05", ""},
		{"31 January 2027", "2027-01-31", ""},
		{"January 31, 2027", "2027-01-31", ""},
		{"january 31 2027", "2027-01-31", ""},
		{"31 Jan 2027", "2027-01-31", ""},
		{"Jan 31, 2027", "2027-01-31", ""},
		{"Jan. 31, 2027", "2027-01-31", ""},
		{"31-Jan-2027", "2027-01-31", ""},
		{"31 Sept 2027", "", "not a valid date"},
		{"30 Sept 2027", "2027-09-30", ""},
		{"1st March 2027", "2027-03-01", ""},
		{"2027/01/31", "2027-01-31", ""},
		{"2027.01.31", "2027-01-31", ""},
		{"2027 January 31", "2027-01-31", ""},
		{"Friday, 31 January 2027", "2027-01-31", ""},
		{"Fri 31 Jan 2027", "2027-01-31", ""},
		{"Sunday, January 31, 2027", "2027-01-31", ""},
		{"31/01/2027", "2027-01-31", ""}, // only one reading
		{"01/31/2027", "2027-01-31", ""}, // only one reading
		{"05/05/2027", "2027-05-05", ""}, // both readings agree
		{"31.01.2027", "2027-01-31", ""},
		{"2020-01-31", "2020-01-31", ""}, // past: the caller flags it
		{"2028-02-29", "2028-02-29", ""},
		{"01/02/2027", "", "ambiguous"},
		{"2027-02-30", "", "not a valid date"},
		{"2027-13-01", "", "not a valid date"},
		{"2027-02-29", "", "not a valid date"},
		{"32 January 2027", "", "not a valid date"},
		{"00/05/2027", "", "not a valid date"},
		{"31/31/2027", "", "not a valid date"},
		{"next week", "", "not a date"},
		{"31 Jan 27", "", "not a date"},
		{"2027-01-31 or later", "", "not a date"},
		{"Janvier 31, 2027", "", "not a date"},
		{"0999-01-01", "", "not a valid date"},
	}
	for _, tc := range tests {
		s, problems := ParseFields("Deadline: " + tc.in + "\n")
		if tc.problem == "" {
			if s.Deadline != tc.want || len(problems) != 0 {
				t.Errorf("%q: got %q, problems %v, want %q", tc.in, s.Deadline, problems, tc.want)
			}
			continue
		}
		if s.Deadline != "" || s.DeadlineRaw != tc.in || len(problems) != 1 {
			t.Errorf("%q: got %q (raw %q), problems %v, want a problem", tc.in, s.Deadline, s.DeadlineRaw, problems)
			continue
		}
		p := problems[0]
		if p.Field != "Deadline" || !strings.Contains(p.Message, tc.problem) || !strings.Contains(p.Message, `"`+tc.in+`"`) || !strings.Contains(p.Fix, "2027-01-31") {
			t.Errorf("%q: problem %#v, want message with %q", tc.in, p, tc.problem)
		}
	}
}

func TestParseFieldsContacts(t *testing.T) {
	tests := []struct {
		in       string
		want     []Address
		problems int
	}{
		{"a@x.example", []Address{{"", "a@x.example"}}, 0},
		{"A@X.Example", []Address{{"", "a@x.example"}}, 0},
		{"<a@x.example>", []Address{{"", "a@x.example"}}, 0},
		{"Alice Doe <Alice@X.example>", []Address{{"Alice Doe", "alice@x.example"}}, 0},
		{`"Doe, Alice" <a@x.example>`, []Address{{"Doe, Alice", "a@x.example"}}, 0},
		{"a@x.example (Alice Doe)", []Address{{"Alice Doe", "a@x.example"}}, 0},
		{"a@x.example, b@y.example", []Address{{"", "a@x.example"}, {"", "b@y.example"}}, 0},
		{"a@x.example; b@y.example;", []Address{{"", "a@x.example"}, {"", "b@y.example"}}, 0},
		{"a@x.example,,b@y.example", []Address{{"", "a@x.example"}, {"", "b@y.example"}}, 0},
		{"Doe, Alice <a@x.example>; b@y.example", []Address{{"Doe, Alice", "a@x.example"}, {"", "b@y.example"}}, 0},
		{"Dr. A. Doe (ITU) <a@x.example>; b@y.example", []Address{{"Dr. A. Doe", "a@x.example"}, {"", "b@y.example"}}, 0}, // (ITU) is an RFC 5322 comment
		{"mailto:a@x.example", []Address{{"", "a@x.example"}}, 0},
		{"Alice <mailto:a@x.example>", []Address{{"Alice", "a@x.example"}}, 0},
		{"Alice Doe a@x.example; b@y.example", []Address{{"Alice Doe", "a@x.example"}, {"", "b@y.example"}}, 0},
		{"a@x.example, Alice <A@x.example>", []Address{{"Alice", "a@x.example"}}, 0}, // deduplicated, name kept
		{"Alice <a@x.example>, a@x.example", []Address{{"Alice", "a@x.example"}}, 0},
		{"a at x dot example", nil, 1},
		{"a@x.example, nobody, b@", []Address{{"", "a@x.example"}}, 2},
		{"Alice <a@x.example", nil, 1},
	}
	for _, field := range []string{"Response-Contact", "Technical-Contact", "Cc"} {
		for _, tc := range tests {
			s, problems := ParseFields(field + ": " + tc.in + "\n")
			var got []Address
			switch field {
			case "Response-Contact":
				got = s.ResponseContacts
			case "Technical-Contact":
				got = s.TechnicalContacts
			case "Cc":
				got = s.Cc
			}
			if !reflect.DeepEqual(got, tc.want) || len(problems) != tc.problems {
				t.Errorf("%s: %q: got %v, problems %v; want %v, %d problems", field, tc.in, got, problems, tc.want, tc.problems)
			}
			for _, p := range problems {
				if p.Field != field || !strings.Contains(p.Message, "not an email address") || !strings.Contains(p.Fix, "name@example.org") {
					t.Errorf("%s: %q: problem %#v", field, tc.in, p)
				}
			}
		}
	}
}

func TestParseFieldsInResponseTo(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"LS-17", 17},
		{"LS 17", 17},
		{"ls17", 17},
		{"Ls-017", 17},
		{"17", 17},
		{"#17", 17},
		{"[LS-17]", 17},
		{"LS-17.", 17},
		{"LS-0", 0},
		{"LS-17, LS-18", 0},
		{"LS-99999999999999999999", 0},
		// A statement this system never recorded, named in words
		// (DESIGN 4): kept as written, no problem.
		{"COM15-LS123", -1},
		{"seventeen", -1},
		{`CCAMP LS "OAM for OTN" of 2026-03-02`, -1},
	}
	for _, tc := range tests {
		s, problems := ParseFields("In-Response-To: " + tc.in + "\n")
		if tc.want == -1 {
			if s.InResponseTo != 0 || s.InResponseToWords != tc.in || len(problems) != 0 {
				t.Errorf("%q: got %d, words %q, problems %v; want the words kept", tc.in, s.InResponseTo, s.InResponseToWords, problems)
			}
			continue
		}
		if s.InResponseTo != tc.want || s.InResponseToRaw != tc.in || s.InResponseToWords != "" {
			t.Errorf("%q: got %d (raw %q, words %q), want %d", tc.in, s.InResponseTo, s.InResponseToRaw, s.InResponseToWords, tc.want)
		}
		if wantProblems := tc.want == 0; wantProblems != (len(problems) == 1) || len(problems) > 1 {
			t.Errorf("%q: problems %v", tc.in, problems)
		} else if wantProblems && (problems[0].Field != "In-Response-To" || !strings.Contains(problems[0].Fix, "LS-17")) {
			t.Errorf("%q: problem %#v", tc.in, problems[0])
		}
	}
}

func TestParseFieldsPurposeInResponseToWords(t *testing.T) {
	tests := []struct{ in, words string }{
		{"In Response to COM15-LS123", "COM15-LS123"},
		{"in response to: SG15 LS 123 (2025)", "SG15 LS 123 (2025)"},
		{"Response to   3GPP S2-2401234", "3GPP S2-2401234"},
	}
	for _, tc := range tests {
		s, problems := ParseFields("Purpose: " + tc.in + "\n")
		if s.Purpose != PurposeResponse || s.InResponseToWords != tc.words || s.InResponseTo != 0 || len(problems) != 0 {
			t.Errorf("%q: purpose %q, words %q, ref %d, problems %v", tc.in, s.Purpose, s.InResponseToWords, s.InResponseTo, problems)
		}
	}
	// Named in words, the response says which statement it answers.
	s, _ := ParseFields("From: ITU-T SG15\nTo: IETF CCAMP WG\nPurpose: In Response to COM15-LS123\n\nText.\n")
	if problems := Check(&s, "Reply LS", 0, 0); len(problems) != 0 {
		t.Errorf("Check: %v", problems)
	}
	// An In-Response-To line wins over the Purpose's words.
	s, _ = ParseFields("Purpose: In Response to SG15 LS 1\nIn-Response-To: LS-4\n")
	if s.InResponseTo != 4 || s.InResponseToWords != "" {
		t.Errorf("In-Response-To line: ref %d, words %q", s.InResponseTo, s.InResponseToWords)
	}
}

func TestParseFieldsURLs(t *testing.T) {
	tests := []struct {
		in       string
		want     []string
		problems int
	}{
		{"https://x.example/a.pdf", []string{"https://x.example/a.pdf"}, 0},
		{"HTTP://x.example/a.pdf", []string{"HTTP://x.example/a.pdf"}, 0},
		{"https://x.example/a https://x.example/b", []string{"https://x.example/a", "https://x.example/b"}, 0},
		{"https://x.example/a,https://x.example/b, https://x.example/a", []string{"https://x.example/a", "https://x.example/b"}, 0},
		{"<https://x.example/a>", []string{"https://x.example/a"}, 0},
		{"ftp://x.example/a", nil, 1},
		{"www.x.example/a", nil, 1},
		{"https://", nil, 1},
		{"file:///etc/passwd https://x.example/a", []string{"https://x.example/a"}, 1},
		{"javascript:alert(1)", nil, 1},
	}
	for _, tc := range tests {
		s, problems := ParseFields("Attachment-URL: " + tc.in + "\n")
		if !reflect.DeepEqual(s.URLs, tc.want) || len(problems) != tc.problems {
			t.Errorf("%q: got %v, problems %v; want %v, %d problems", tc.in, s.URLs, problems, tc.want, tc.problems)
		}
		for _, p := range problems {
			if p.Field != "Attachment-URL" || !strings.Contains(p.Message, "not an http or https URL") {
				t.Errorf("%q: problem %#v", tc.in, p)
			}
		}
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"Deadline", `"next week" is not a date`, "write the date as 2027-01-31"}, `Deadline: "next week" is not a date; write the date as 2027-01-31`},
		{Problem{"", "the statement has no text", "write some"}, "the statement has no text; write some"},
		{Problem{"To", "missing", ""}, "To: missing"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	// The problems of the parser read as promised.
	_, problems := ParseFields("Deadline: next week\n")
	if len(problems) != 1 || problems[0].String() != `Deadline: "next week" is not a date; write the date as year-month-day, e.g. 2027-01-31` {
		t.Errorf("got %v", problems)
	}
}

func TestCheck(t *testing.T) {
	const fields = "From: ITU-T Study Group 15\nTo: IETF CCAMP Working Group\nTitle: T\n"
	tests := []struct {
		name        string
		text        string
		subject     string
		attachments int
		want        []string // Field of each problem, in order
	}{
		{"complete action", fields + "Purpose: For Action\nDeadline: 2027-01-31\n\nbody", "", 0, nil},
		{"past deadline accepted", fields + "Purpose: For Action\nDeadline: 2001-01-31\n\nbody", "", 0, nil},
		{"information without deadline", fields + "Purpose: For Information\n\nbody", "", 0, nil},
		{"missing from", "To: IETF CCAMP WG\nTitle: T\nPurpose: info\n\nbody", "", 0, []string{"From"}},
		{"missing to", "From: SG15\nTitle: T\nPurpose: info\n\nbody", "", 0, []string{"To"}},
		{"missing purpose", fields + "\nbody", "", 0, []string{"Purpose"}},
		{"unknown purpose reported once", fields + "Purpose: urgent\n\nbody", "", 0, nil},
		{"action without deadline", fields + "Purpose: For Action\n\nbody", "", 0, []string{"Deadline"}},
		{"comment without deadline", fields + "Purpose: For Comment\n\nbody", "", 0, []string{"Deadline"}},
		{"action with bad deadline reported once", fields + "Purpose: For Action\nDeadline: soon\n\nbody", "", 0, nil},
		{"response without reference", fields + "Purpose: In Response\n\nbody", "", 0, []string{"In-Response-To"}},
		{"response with subject ref", fields + "Purpose: In Response\n\nbody", "Re: [LS-17] LS on OTN", 0, nil},
		{"response with field", fields + "Purpose: In Response\nIn-Response-To: LS-17\n\nbody", "", 0, nil},
		{"response with bad field reported once", fields + "Purpose: In Response\nIn-Response-To: COM15\n\nbody", "", 0, nil},
		{"no body, no attachment", fields + "Purpose: For Information\n", "", 0, []string{""}},
		{"no body, an attachment", fields + "Purpose: For Information\n", "", 1, nil},
		{"no body, an attachment URL", fields + "Purpose: For Information\nAttachment-URL: https://x.example/a.pdf\n", "", 0, nil},
		{"no title, subject", "From: A\nTo: B\nPurpose: info\n\nbody", "Fwd: LS on X", 0, nil},
		{"no title, no subject", "From: A\nTo: B\nPurpose: info\n\nbody", "", 0, []string{"Title"}},
		{"no title, empty subject", "From: A\nTo: B\nPurpose: info\n\nbody", "Re: [LS-3]", 0, []string{"Title"}},
		{"no fields", "Dear colleagues,\n\nplease see attached.", "LS on X", 1, []string{"", "From", "To", "Purpose"}},
		{"nothing", "", "", 0, []string{"", "From", "To", "Title", "Purpose", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := ParseFields(tc.text)
			problems := Check(&s, tc.subject, SubjectRef(tc.subject), tc.attachments)
			if got := problemFields(problems); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want fields %v", problems, tc.want)
			}
			for _, p := range problems {
				if p.Message == "" || p.Fix == "" {
					t.Errorf("incomplete problem %#v", p)
				}
			}
		})
	}

	// The fixes say exactly what to write.
	s, _ := ParseFields("From: A\nPurpose: For Comment\n\nbody")
	problems := Check(&s, "T", 0, 0)
	if len(problems) != 2 {
		t.Fatalf("got %v", problems)
	}
	if want := `add a line "To: <IETF body>", e.g. "To: IETF CCAMP Working Group"`; problems[0].Fix != want {
		t.Errorf("To fix: got %q, want %q", problems[0].Fix, want)
	}
	if !strings.Contains(problems[1].Message, "comment") || !strings.Contains(problems[1].Message, "2.2.1.1.7") || !strings.Contains(problems[1].Fix, `"Deadline: 2027-01-31"`) {
		t.Errorf("Deadline problem: %#v", problems[1])
	}
	s, _ = ParseFields("From: A\nTo: B\n\nbody")
	problems = Check(&s, "T", 0, 0)
	for _, purpose := range []string{"For Information", "For Comment", "For Action", "In Response"} {
		if len(problems) != 1 || !strings.Contains(problems[0].Fix, purpose) {
			t.Errorf("Purpose fix %v lacks %q", problems, purpose)
		}
	}
}

func TestCleanSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"LS on OTN control", "LS on OTN control"},
		{"  LS on   OTN control  ", "LS on OTN control"},
		{"Re: LS on OTN control", "LS on OTN control"},
		{"RE: LS on OTN control", "LS on OTN control"},
		{"re:LS on OTN control", "LS on OTN control"},
		{"Fwd: LS on OTN control", "LS on OTN control"},
		{"FW: LS on OTN control", "LS on OTN control"},
		{"Fw: LS on OTN control", "LS on OTN control"},
		{"AW: LS on OTN control", "LS on OTN control"},
		{"WG: LS on OTN control", "LS on OTN control"},
		{"TR: LS on OTN control", "LS on OTN control"},
		{"SV: LS on OTN control", "LS on OTN control"},
		{"Antw: LS on OTN control", "LS on OTN control"},
		{"Re: Re: Fwd: RE: LS on OTN control", "LS on OTN control"},
		{"Re[2]: LS on OTN control", "LS on OTN control"},
		{"RE : LS on OTN control", "LS on OTN control"},
		{"[ccamp] LS on OTN control", "LS on OTN control"},
		{"[ccamp] Re: LS on OTN control", "LS on OTN control"},
		{"Re: [ccamp] Re: [mpls] Fwd: LS on OTN control", "LS on OTN control"},
		{"[LS-17] LS on OTN control", "LS on OTN control"},
		{"Re: [LS-17] LS on OTN control", "LS on OTN control"},
		{"LS on OTN control [LS 17]", "LS on OTN control"},
		{"Re: LS on OTN control [draft]", "LS on OTN control [draft]"},
		{"Reply to LS on OTN", "Reply to LS on OTN"},
		{"Return: of the LS", "Return: of the LS"},
		{"Treaty: LS", "Treaty: LS"},
		{"LS: Re: OTN", "LS: Re: OTN"},
		{"Re:", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := CleanSubject(tc.in); got != tc.want {
			t.Errorf("CleanSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSubjectRef(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"[LS-17] LS on OTN", 17},
		{"Re: [ls-17] LS on OTN", 17},
		{"Re: [LS 17] LS on OTN", 17},
		{"Re: [ LS-17 ] LS on OTN", 17},
		{"[ccamp] Re: LS on OTN [LS-42]", 42},
		{"[LS-17] and [LS-18]", 17},
		{"LS-17 without brackets", 0},
		{"[LS-x]", 0},
		{"[LS-99999999999999999999]", 0},
		{"", 0},
	}
	for _, tc := range tests {
		if got := SubjectRef(tc.in); got != tc.want {
			t.Errorf("SubjectRef(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestParseFieldsLongInputs guards against quadratic behaviour: each of these
// took seconds to minutes before values, prefixes and deduplication were made
// linear, and takes milliseconds now. The bound is far above that (a
// quadratic pass over 100,000 items takes minutes), so that a busy machine
// or the race detector (7 s for one of them) does not fail it.
func TestParseFieldsLongInputs(t *testing.T) {
	const n = 100000
	uniq := func(format string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	tests := map[string]string{
		"reply prefixes":       strings.Repeat("Re: [ccamp] ", n),
		"continuation lines":   "Title: a\n" + strings.Repeat(" x\n", n),
		"wrapped lines":        "Title: a\n" + strings.Repeat("x\n", n) + "To: b\n",
		"fields":               strings.Repeat("From: a\nX: y\n", n),
		"to":                   "To: " + uniq("body %d, "),
		"addresses":            "Cc: " + uniq("a%d@x.example, "),
		"addresses, fallback":  "Cc: " + uniq("a%d@x.example; "),
		"names with commas":    "Cc: a, " + strings.Repeat("<b>, ", n),
		"urls":                 "URL: " + uniq("https://x.example/%d "),
		"in-response-to":       "In-Response-To: " + strings.Repeat("LS-1 ", n),
		"dates":                "Deadline: " + strings.Repeat("31 Jan ", n),
		"unclosed angle addrs": "Cc: " + strings.Repeat("<a, ", n),
	}
	for name, text := range tests {
		start := time.Now()
		s, _ := ParseFields(text)
		Check(&s, text, SubjectRef(text), 0)
		CleanSubject(text)
		if d := time.Since(start); d > time.Minute {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

// An SDO's own reference whose name starts with digits ("3GPP-Document") is
// a field, kept as another identifier; times and dates are not.
func TestParseFieldsDigitFirstNames(t *testing.T) {
	s, problems := ParseFields("From: 3GPP SA2\nTo: IETF CCAMP WG\nResponse-Contact: r@3gpp.example\n3GPP-Document: S2-2601234\n\nText.\n")
	if len(problems) != 0 || len(s.ResponseContacts) != 1 || len(s.Other) != 1 || s.Other[0] != (Field{"3GPP-Document", "S2-2601234"}) {
		t.Errorf("other %+v, contacts %+v, problems %v", s.Other, s.ResponseContacts, problems)
	}
	for _, line := range []string{"10:30 the meeting starts", "2027-01-31: deadline"} {
		if _, _, ok := splitField(line); ok {
			t.Errorf("%q read as a field", line)
		}
	}
}
