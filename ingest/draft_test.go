package ingest

import (
	"strings"
	"testing"

	"liaisond/directory"
)

func TestReadDraft(t *testing.T) {
	dir, err := directory.Parse(directory.Demo, "demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, subject string
		direction, assignee string
		problems, warnings  []string
	}{
		{name: "complete", text: "From: ITU-T SG15\nTo: IETF CCAMP WG\nTitle: T\nPurpose: For Action\nDeadline: 2027-01-31\n\nText.\n",
			direction: "incoming", assignee: "alice@ccamp.example"},
		{name: "action without deadline, unknown addressee", text: "From: Some Forum\nTo: IETF Teleportation WG\nPurpose: action\n\nText.\n", subject: "LS on teleportation",
			direction: "incoming", assignee: "statements@ietf.example",
			problems: []string{"Deadline: a statement for action needs a deadline"},
			warnings: []string{`"Some Forum" is not in our directory`, `"IETF Teleportation WG" matches no body in our directory`}},
		{name: "outgoing", text: "From: IETF CCAMP WG\nTo: ITU-T SG15\nTitle: T\nPurpose: For Information\n\nText.\n",
			direction: "outgoing", warnings: []string{"outgoing statement from IETF CCAMP Working Group"}},
		{name: "no fields", text: "Hello, please find our statement attached.\n",
			direction: "incoming", assignee: "statements@ietf.example", problems: []string{"does not start with the fields", "From: the sending body is missing", "To: the addressed body is missing",
				"Title: the statement has no title", "Purpose: the purpose is missing"}},
	}
	for _, tc := range tests {
		d := ReadDraft(dir, tc.text, tc.subject)
		if d.Direction != tc.direction || d.Assignee != tc.assignee {
			t.Errorf("%s: %s statement assigned to %q, want %s to %q", tc.name, d.Direction, d.Assignee, tc.direction, tc.assignee)
		}
		var problems []string
		for _, p := range d.Problems {
			problems = append(problems, p.String())
		}
		for _, list := range []struct {
			what      string
			got, want []string
		}{{"problems", problems, tc.problems}, {"warnings", d.Warnings, tc.warnings}} {
			if len(list.got) != len(list.want) {
				t.Errorf("%s: %s %q, want %d", tc.name, list.what, list.got, len(list.want))
				continue
			}
			for i, w := range list.want {
				if !strings.Contains(list.got[i], w) {
					t.Errorf("%s: %s[%d] = %q, want %q in it", tc.name, list.what, i, list.got[i], w)
				}
			}
		}
	}
}
