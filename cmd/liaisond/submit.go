package main

import (
	"fmt"
	"strings"

	"liaisond/ingest"
	"liaisond/ingest/parse"
	"liaisond/store"
	"liaisond/web"
)

// checkSubmission is the check of /submit: ingest's own parser and rules
// over a pasted draft, against the current directory; nothing is stored.
func (a *app) checkSubmission(text, subject string) web.SubmitCheck {
	d := ingest.ReadDraft(a.dir.Load(), text, subject)
	c := web.SubmitCheck{Direction: d.Direction, Assignee: d.Assignee, Warnings: d.Warnings}
	for _, p := range d.Problems {
		c.Problems = append(c.Problems, p.String())
	}
	add := func(name, value string) {
		if strings.TrimSpace(value) != "" {
			c.Fields = append(c.Fields, web.SubmitField{Name: name, Value: value})
		}
	}
	body := func(name string, ref store.BodyRef) {
		f := web.SubmitField{Name: name, Value: ref.Name, BodyID: ref.ID}
		if ref.ID == "" {
			f.Note = "(not in our directory)"
		}
		c.Fields = append(c.Fields, f)
	}
	if d.From.Name != "" {
		body("From", d.From)
	}
	for _, ref := range d.To {
		body("To", ref)
	}
	s := d.Sub
	add("Title", s.Title)
	add("Purpose", s.Purpose)
	add("Deadline", s.Deadline)
	addrs := func(name string, as []parse.Address) {
		var out []string
		for _, x := range as {
			out = append(out, x.Addr)
		}
		add(name, strings.Join(out, ", "))
	}
	addrs("Response contacts", s.ResponseContacts)
	addrs("Technical contacts", s.TechnicalContacts)
	addrs("Cc", s.Cc)
	if s.InResponseTo != 0 {
		add("In response to", fmt.Sprintf("LS-%d", s.InResponseTo))
	}
	for _, u := range s.URLs {
		add("Attachment URL", u)
	}
	for _, f := range s.Other {
		add(f.Name+" (kept as an identifier)", f.Value)
	}
	add("Text", fmt.Sprintf("%d characters", len(strings.TrimSpace(s.Body))))
	return c
}

// liaisonManagers names the IETF's liaison managers for an SDO (RFC 4053 3.1.2).
func (a *app) liaisonManagers(bodyID string) []string {
	b := a.dir.Load().Body(bodyID)
	if b == nil {
		return nil
	}
	var out []string
	for _, p := range b.LiaisonManagers {
		if p.Name == "" {
			out = append(out, p.Addr)
		} else {
			out = append(out, p.Name+" <"+p.Addr+">")
		}
	}
	return out
}
