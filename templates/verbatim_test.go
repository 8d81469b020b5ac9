package templates

import (
	"testing"
	"text/template"
)

func TestPrintsVerbatim(t *testing.T) {
	tests := []struct {
		name, text string
		want       bool
	}{
		{"bare", `Subject: x{{"\n"}}Write to {{.ReplyAddress}} or {{.Recipient}}.`, true},
		{"unused", `Subject: {{.Title}}`, true},
		{"dot printed", `{{range .List}}{{.}}{{end}} {{.ReplyAddress}}`, true},
		{"through a called template", `{{template "sub" .}}`, true},
		{"condition", `{{if .ReplyAddress}}reply{{end}}`, false},
		{"with", `{{with .Recipient}}{{.}}{{end}}`, false},
		{"function", `{{upper .Recipient}}`, false},
		{"pipeline", `{{.Recipient | printf "%q"}}`, false},
		{"variable", `{{$r := .Recipient}}{{$r}}`, false},
		{"root variable", `{{$.Recipient}}`, false},
		{"comparison", `{{if eq .Recipient "a@b"}}x{{end}}`, false},
		{"dot as argument", `{{printf "%v" .}}`, false},
		{"range over it", `{{range .Recipient}}x{{end}}`, false},
		{"in a called template", `{{template "bad" .}}`, false},
		{"unknown template", `{{template "none" .}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := template.New("mail").Funcs(funcs)
			template.Must(m.New("t.txt").Parse(tt.text))
			template.Must(m.New("sub").Parse(`{{define "sub"}}At {{.ReplyAddress}}{{end}}`))
			template.Must(m.New("bad").Parse(`{{define "bad"}}{{len .Recipient}}{{end}}`))
			s := &Set{mail: m}
			if got := s.PrintsVerbatim("t.txt", "Recipient", "ReplyAddress"); got != tt.want {
				t.Errorf("PrintsVerbatim(%s) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// The embedded notification, the mail with the most copies, can be
// rendered once for all its copies; approval.txt tests its reply address.
func TestPrintsVerbatimEmbedded(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"notification.txt": true, "tickler.txt": true, "approval.txt": false, "nonexistent.txt": false} {
		if got := s.PrintsVerbatim(name, "Recipient", "ReplyAddress"); got != want {
			t.Errorf("PrintsVerbatim(%s) = %v, want %v", name, got, want)
		}
	}
}
