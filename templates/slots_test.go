package templates

import (
	"slices"
	"strings"
	"testing"
	"text/template"
)

func TestSlotCalls(t *testing.T) {
	tests := []struct {
		name, text string
		slots      []string // nil: not ok
	}{
		{"in a called template", `Hello {{template "offer" .}} bye`, []string{"offer"}},
		{"called twice, listed once", `{{template "offer" .}}{{template "offer" .}}`, []string{"offer"}},
		{"two slots", `{{template "assign" .}} {{.Title}} {{template "offer" .}}`, []string{"assign", "offer"}},
		{"inside an if on other fields", `{{if .Title}}{{template "offer" .}}{{end}}`, []string{"offer"}},
		{"a template without them is no slot", `{{template "plain" .}}{{template "offer" .}}`, []string{"offer"}},
		{"not used at all", `{{.Title}}`, []string{}},
		{"dot inside range is not the data", `{{range .List}}{{.}} {{.Role}}{{end}}{{template "offer" .}}`, []string{"offer"}},
		{"a condition", `{{if eq .Role "a"}}x{{end}}`, nil},
		{"printed", `{{.Role}}`, nil},
		{"the data printed", `{{.}}`, nil},
		{"the data to a function", `{{printf "%v" .}}`, nil},
		{"root variable inside range", `{{range .List}}{{$.Role}}{{end}}`, nil},
		{"the root variable itself", `{{printf "%v" $}}`, nil},
		{"a slot inside range", `{{range .List}}{{template "offer" .}}{{end}}`, nil},
		{"a slot inside with", `{{with .Title}}{{template "offer" .}}{{end}}`, nil},
		{"called with another argument", `{{template "offer" .Original}}`, nil},
		{"a variable from it", `{{$r := .Role}}{{template "offer" .}}`, nil},
		{"unknown template", `{{template "none" .}}`, nil},
		{"recursion counts as a use", `{{template "loop" .}}`, []string{"loop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := template.New("mail").Funcs(funcs)
			template.Must(m.New("t.txt").Parse(tt.text))
			template.Must(m.New("offer").Parse(`{{define "offer"}}{{if .MayRedirect}}redirect{{end}} {{.Recipient}}{{end}}`))
			template.Must(m.New("assign").Parse(`{{define "assign"}}{{if eq .Role "x"}}yours{{end}}{{end}}`))
			template.Must(m.New("plain").Parse(`{{define "plain"}}{{.Title}}{{end}}`))
			template.Must(m.New("loop").Parse(`{{define "loop"}}{{if .Title}}{{template "loop" .Next}}{{end}}{{end}}`))
			s := &Set{mail: m, sentinel: newSentinel()}
			slots, ok := s.SlotCalls("t.txt", "Role", "MayRedirect")
			if tt.slots == nil {
				if ok {
					t.Errorf("SlotCalls(%s) = %v, true; want not ok", tt.text, slots)
				}
				return
			}
			if !ok || !slices.Equal(slots, tt.slots) && !(len(slots) == 0 && len(tt.slots) == 0) {
				t.Errorf("SlotCalls(%s) = %v, %v; want %v", tt.text, slots, ok, tt.slots)
			}
		})
	}
}

// The embedded notification keeps what differs by reader in its slots, and
// MailSlotted leaves a sentinel where each slot's text goes, which is the
// text Part renders for it.
func TestSlotsEmbedded(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	slots, ok := s.SlotCalls("notification.txt", "Role", "MayRedirect", "Attention")
	if want := []string{"assignment", "attention", "offer"}; !ok || !slices.Equal(slots, want) {
		t.Fatalf("SlotCalls(notification.txt) = %v, %v; want %v", slots, ok, want)
	}
	if _, ok := s.SlotCalls("closed.txt", "Role"); ok {
		t.Error("closed.txt tests Role outside a named template, yet has slots")
	}
	data := map[string]any{
		"Ref": "LS-1", "Title": "T", "URL": "u", "PurposeText": "p", "FromName": "f", "ToNames": "t", "Submitter": "s",
		"Deadline": "", "ReplyBy": "", "DeadlinePast": false, "Assignee": "a@x", "ResponseContacts": []string{}, "TechnicalContacts": []string{},
		"Other": []string{}, "Attention": []string{"look"}, "Attachments": []any{}, "URLs": []string{}, "Body": "text",
		"Role": "actor", "RoleText": "a chair", "ReplyAddress": "r@x", "Recipient": "c@x", "MayRedirect": true, "Sender": "S",
	}
	subject, whole, err := s.Mail("notification.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	subject2, marked, err := s.MailSlotted("notification.txt", slots, data)
	if err != nil || subject2 != subject {
		t.Fatalf("MailSlotted: %q, %v; want subject %q", subject2, err, subject)
	}
	for i, slot := range slots {
		text, err := s.Part(slot, data)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(marked, s.SlotSentinel(i)) != 1 {
			t.Fatalf("slot %s: %d sentinels in %q", slot, strings.Count(marked, s.SlotSentinel(i)), marked)
		}
		marked = strings.Replace(marked, s.SlotSentinel(i), text, 1)
	}
	if marked != whole {
		t.Errorf("slots put back differ from the mail rendered whole:\n--- got\n%s\n--- want\n%s", marked, whole)
	}
}
