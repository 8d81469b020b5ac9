package ingest

import (
	"errors"
	"fmt"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/store"
)

// Draft is what liaisond reads from a pasted submission, for the check on
// /submit (DESIGN 8): the same parser and rules as a mailed statement, with
// nothing stored and nothing sent.
type Draft struct {
	Sub       parse.Submission
	From      store.BodyRef
	To        []store.BodyRef
	Direction string
	Assignee  string // who it would be assigned to
	Problems  []parse.Problem
	Warnings  []string
}

// resolveBodies finds the From and To bodies a submission names (DESIGN 2):
// a name no body goes by is kept as written, with no id; an ambiguous one
// is a problem the sender resolves, never a guess.
func resolveBodies(dir *directory.Directory, sub *parse.Submission) (fromBody *directory.Body, from store.BodyRef, to []store.BodyRef, problems []parse.Problem) {
	if sub.From != "" {
		b, err := dir.Match(sub.From)
		var amb *directory.AmbiguousError
		switch {
		case err == nil:
			fromBody = b
			from = store.BodyRef{ID: b.ID, Name: b.Name}
		case errors.As(err, &amb):
			problems = append(problems, parse.Problem{Field: "From", Message: amb.Error(), Fix: "write the body's full name"})
		default:
			from = store.BodyRef{Name: sub.From}
		}
	}
	for _, name := range sub.To {
		b, err := dir.Match(name)
		var amb *directory.AmbiguousError
		switch {
		case err == nil:
			to = append(to, store.BodyRef{ID: b.ID, Name: b.Name})
		case errors.As(err, &amb):
			problems = append(problems, parse.Problem{Field: "To", Message: amb.Error(), Fix: "write the body's full name"})
		default:
			to = append(to, store.BodyRef{Name: name})
		}
	}
	return fromBody, from, to, problems
}

// ReadDraft parses text as the first text part of a submission mail with
// the given Subject, and checks it against the directory. It is a pure
// function: what an error reply would list is in Problems.
func ReadDraft(dir *directory.Directory, text, subject string) Draft {
	sub, problems := parse.ParseFields(text)
	problems = append(problems, parse.Check(&sub, subject, parse.SubjectRef(subject), 0)...)
	if sub.Title == "" {
		sub.Title = parse.CleanSubject(subject)
	}
	d := Draft{Sub: sub, Direction: store.Incoming}
	fromBody, from, to, matchProblems := resolveBodies(dir, &sub)
	problems = append(problems, matchProblems...)
	d.From, d.To = from, to
	if from.Name != "" && from.ID == "" {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%q is not in our directory of organizations; the statement would be accepted all the same", sub.From))
	}
	if fromBody != nil && fromBody.IsIETF() {
		d.Direction = store.Outgoing
		d.Warnings = append(d.Warnings, fmt.Sprintf("this is an outgoing statement from %s: only its chairs, its ADs or the secretariat may send it, and it is sent on after confirmation and approval", fromBody.Name))
	}
	if d.Direction == store.Incoming {
		// Named as the receipt and the secretariat would name them.
		for _, u := range unknownAddressees(dir, d.To) {
			d.Warnings = append(d.Warnings, addresseeText(u)+"; the statement would be kept with this addressee and the secretariat would direct it")
		}
	}
	for _, ref := range d.To {
		if b := dir.Body(ref.ID); b != nil && b.IsIETF() {
			if a, ok := dir.Assignee(b); ok {
				d.Assignee = a.Addr
				break
			}
		}
	}
	if d.Assignee == "" && d.Direction == store.Incoming {
		d.Assignee = dir.Secretariat.Addr
	}
	d.Problems = problems
	return d
}
