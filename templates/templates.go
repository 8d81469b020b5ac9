// Package templates holds the texts liaisond sends and shows: mail bodies
// (text/template) and, later, web pages (html/template). The embedded set can
// be overridden file by file from a directory named in the configuration.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
)

//go:embed mail/*.txt
var embedded embed.FS

// Set is a parsed set of templates.
type Set struct {
	mail *template.Template
	// verbatim caches PrintsVerbatim, slots SlotCalls and MailSlotted's
	// clones: the set does not change once loaded.
	verbatim, slots sync.Map
	// sentinel begins the text that stands for a slot's output
	// (SlotSentinel), random for each Set.
	sentinel string
}

var funcs = template.FuncMap{
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"indent": func(prefix, s string) string {
		return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
	},
}

// Load parses the embedded templates, then any file of the same name found
// in overrideDir/mail ("" for none). An override that does not parse is an
// error naming the file, so `liaisond check` can report it.
func Load(overrideDir string) (*Set, error) {
	t := template.New("mail").Funcs(funcs).Option("missingkey=error")
	names, _ := fs.Glob(embedded, "mail/*.txt")
	for _, name := range names {
		data, err := embedded.ReadFile(name)
		src := "embedded " + name
		if overrideDir != "" {
			path := filepath.Join(overrideDir, name)
			if od, oerr := os.ReadFile(path); oerr == nil {
				data, src = od, path
			} else if !errors.Is(oerr, fs.ErrNotExist) {
				return nil, fmt.Errorf("template %s: %w", path, oerr)
			}
		}
		if err != nil {
			return nil, err
		}
		if _, err := t.New(filepath.Base(name)).Parse(string(data)); err != nil {
			return nil, fmt.Errorf("template %s: %w", src, err)
		}
	}
	return &Set{mail: t, sentinel: newSentinel()}, nil
}

// Mail renders mail template name ("notification.txt"). The template's first
// line is "Subject: ...", then a blank line, then the body.
func (s *Set) Mail(name string, data any) (subject, body string, err error) {
	return mailFrom(s.mail, name, data)
}

func mailFrom(t *template.Template, name string, data any) (subject, body string, err error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", "", fmt.Errorf("render %s: %w", name, err)
	}
	text := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	head, rest, _ := strings.Cut(text, "\n")
	subj, ok := strings.CutPrefix(head, "Subject:")
	if !ok {
		return "", "", fmt.Errorf("render %s: the first line must be \"Subject: ...\"", name)
	}
	return strings.TrimSpace(subj), strings.TrimLeft(rest, "\n"), nil
}
