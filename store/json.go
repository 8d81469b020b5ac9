package store

import (
	"fmt"
	"time"
)

// The JSON shapes of DESIGN section 9, shared by the command line and the
// web API. Keys are stable: tests and users rely on them.

// BodyJSON names a body.
type BodyJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AttachmentJSON describes an attachment.
type AttachmentJSON struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// RelatedJSON links a related statement.
type RelatedJSON struct {
	Ref      string `json:"ref"`
	Relation string `json:"relation"`
}

// FieldJSON is one other identifier (DESIGN 4: a field the format does
// not know, kept as written).
type FieldJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EventJSON is one history entry.
type EventJSON struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"`
	By   string    `json:"by"`
	Text string    `json:"text"`
	// Private events (from mail that did not authenticate) are the
	// operator's: `show -json` marks them, the public API leaves them out.
	Private bool `json:"private,omitempty"`
}

// StatementJSON is `show -json`; `list -json` leaves Body and Events out.
type StatementJSON struct {
	ID                int64            `json:"id"`
	Ref               string           `json:"ref"`
	Direction         string           `json:"direction"`
	State             string           `json:"state"`
	From              BodyJSON         `json:"from"`
	To                []BodyJSON       `json:"to"`
	Title             string           `json:"title"`
	Purpose           string           `json:"purpose"`
	Deadline          *string          `json:"deadline"`
	Submitter         string           `json:"submitter"`
	ResponseContacts  []string         `json:"response_contacts"`
	TechnicalContacts []string         `json:"technical_contacts"`
	Cc                []string         `json:"cc"`
	Assignee          string           `json:"assignee"`
	ReceivedAt        time.Time        `json:"received_at"`
	RepliedAt         *time.Time       `json:"replied_at"`
	ClosedAt          *time.Time       `json:"closed_at"`
	StatusLine        string           `json:"status_line,omitempty"`
	Body              *string          `json:"body,omitempty"`
	URLs              []string         `json:"urls"`
	Other             []FieldJSON      `json:"other"`
	Attachments       []AttachmentJSON `json:"attachments"`
	Related           []RelatedJSON    `json:"related"`
	Events            []EventJSON      `json:"events,omitempty"`
}

// JSON returns the statement in the shape of DESIGN 9. full adds body and events.
func (s *Statement) JSON(full bool) StatementJSON {
	j := StatementJSON{
		ID: s.ID, Ref: s.Ref(), Direction: s.Direction, State: s.State,
		From:  BodyJSON{ID: s.From.ID, Name: s.From.Name},
		To:    []BodyJSON{},
		Title: s.Title, Purpose: s.Purpose, Submitter: s.Submitter,
		ResponseContacts:  addrs(s.ResponseContacts),
		TechnicalContacts: addrs(s.TechnicalContacts),
		Cc:                addrs(s.Cc),
		Assignee:          s.Assignee,
		ReceivedAt:        s.ReceivedAt.UTC(),
		RepliedAt:         utcPtr(s.RepliedAt),
		ClosedAt:          utcPtr(s.ClosedAt),
		StatusLine:        s.StatusLine,
		URLs:              nonNil(s.URLs),
		Other:             []FieldJSON{},
		Attachments:       []AttachmentJSON{},
		Related:           []RelatedJSON{},
	}
	if s.Deadline != "" {
		d := s.Deadline
		j.Deadline = &d
	}
	for _, b := range s.To {
		j.To = append(j.To, BodyJSON{ID: b.ID, Name: b.Name})
	}
	for _, f := range s.Other {
		j.Other = append(j.Other, FieldJSON{Name: f.Name, Value: f.Value})
	}
	for _, a := range s.Attachments {
		j.Attachments = append(j.Attachments, AttachmentJSON{Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256})
	}
	for _, r := range s.Related {
		j.Related = append(j.Related, RelatedJSON{Ref: fmt.Sprintf("LS-%d", r.Ref), Relation: r.Relation})
	}
	if full {
		body := s.Body
		j.Body = &body
		j.Events = []EventJSON{}
		for _, ev := range s.Events {
			j.Events = append(j.Events, EventJSON{At: ev.At.UTC(), Type: ev.Type, By: ev.By, Text: ev.Text, Private: ev.Private})
		}
	}
	return j
}

// OutboxJSON is one entry of `outbox -json`.
type OutboxJSON struct {
	ID        int64    `json:"id"`
	Ref       string   `json:"ref"`
	Kind      string   `json:"kind"`
	From      string   `json:"from"`
	To        []string `json:"to"`
	Cc        []string `json:"cc"`
	Rcpt      string   `json:"rcpt"`
	Subject   string   `json:"subject"`
	MessageID string   `json:"message_id"`
	State     string   `json:"state"`
	Attempts  int      `json:"attempts"`
	LastError string   `json:"last_error,omitempty"`
}

// JSON returns the outbox row in the shape of DESIGN 9.
func (m *OutboxMail) JSON() OutboxJSON {
	ref := ""
	if m.StatementID != 0 {
		ref = fmt.Sprintf("LS-%d", m.StatementID)
	}
	return OutboxJSON{ID: m.ID, Ref: ref, Kind: m.Kind, From: m.From, To: nonNil(m.To), Cc: nonNil(m.Cc), Rcpt: m.Rcpt,
		Subject: m.Subject, MessageID: m.MessageID, State: m.State, Attempts: m.Attempts, LastError: m.LastError}
}

func addrs(cs []Contact) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Addr)
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
