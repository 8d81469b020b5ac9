package ingest

// Real mail's shapes (DESIGN 4 and 5, issue 10): statements relayed by
// automatic senders, addressees the directory does not know, statements
// answered that this system never recorded, attachments past the cap, and
// Message-IDs reused for other content.

import (
	"fmt"
	"strings"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/store"
)

// InResponseToField is the name of the identifier that keeps an In
// Response named in words (DESIGN 4), among the statement's other fields.
const InResponseToField = "In-Response-To"

// CarriesStatement reports whether text begins with the fields of a
// statement: a sending and an addressed body at least. Such a message is a
// statement whoever sent it (DESIGN 5.2): an SDO's document system or a list
// relay marks its mail automatic, an out-of-office reply has no fields.
func CarriesStatement(text string) bool {
	sub, _ := parse.ParseFields(text)
	return sub.HasFields && sub.From != "" && len(sub.To) > 0
}

// UnknownAddressee is an addressee that matches no body in the directory,
// with the names closest to it.
type UnknownAddressee struct {
	Name        string   `json:"name"`
	Suggestions []string `json:"suggestions,omitempty"` // "ccamp (IETF CCAMP Working Group)"
}

// unknownAddressees are the addressees kept by name only: never dropped,
// but shown and told with the closest names (DESIGN 4).
func unknownAddressees(dir *directory.Directory, to []store.BodyRef) []UnknownAddressee {
	var out []UnknownAddressee
	for _, ref := range to {
		if ref.ID != "" {
			continue
		}
		u := UnknownAddressee{Name: ref.Name}
		for _, b := range dir.Suggest(ref.Name) {
			u.Suggestions = append(u.Suggestions, b.ID+" ("+b.Name+")")
		}
		out = append(out, u)
	}
	return out
}

// Text says what is unknown and what might have been meant.
func (u UnknownAddressee) Text() string {
	s := fmt.Sprintf("%q matches no body in our directory", u.Name)
	if len(u.Suggestions) > 0 {
		s += "; the closest names are " + strings.Join(u.Suggestions, ", ")
	} else {
		s += "; no name there is close to it"
	}
	return s
}

// Warning is the receipt's line about it.
func (u UnknownAddressee) Warning() string {
	return "the addressee " + u.Text() + ". It is kept on the statement, and the IETF Secretariat has been told"
}

// noIETFBodyWarning says why a statement went to the secretariat (DESIGN 2).
func noIETFBodyWarning(dir *directory.Directory, to []store.BodyRef) string {
	var known []string
	for _, ref := range to {
		if b := dir.Body(ref.ID); b != nil {
			known = append(known, b.Name)
		}
	}
	why := "none of the addressed bodies is in our directory"
	if len(known) > 0 {
		why = "none of the addressed bodies is an IETF body in our directory (" + strings.Join(known, ", ") + " is not one)"
	}
	return "the statement is assigned to the IETF Secretariat because " + why + "; the Secretariat will direct it to the right IETF body"
}

// maxOmittedListed is how many omitted attachments the receipt names.
const maxOmittedListed = 20

func omittedWarning(names []string) string {
	list := names
	more := ""
	if len(list) > maxOmittedListed {
		list, more = list[:maxOmittedListed], fmt.Sprintf(" and %d more", len(names)-maxOmittedListed)
	}
	return fmt.Sprintf("the mail has more attachments than the %d a statement keeps; these were not made attachments of the statement (the stored mail keeps them, ask the Secretariat for them): %s%s",
		parse.MaxAttachments, strings.Join(list, ", "), more)
}

// SubmittedData is the Data of a "submitted" event: what the receipt and
// the notification say besides the statement itself (notify.SubmittedData
// reads it).
type SubmittedData struct {
	Warnings []string `json:"warnings,omitempty"`
	// UnknownTo are the addressees that match no body.
	UnknownTo []UnknownAddressee `json:"unknown_to,omitempty"`
	// NoIETFBody is set when the statement went to the secretariat because
	// no addressee is an IETF body we know.
	NoIETFBody bool `json:"no_ietf_body,omitempty"`
	// OmittedAttachments are the attachments past the cap.
	OmittedAttachments []string `json:"omitted_attachments,omitempty"`
	// SameMessageID are earlier statements whose mail had this one's
	// Message-ID with other content.
	SameMessageID []int64 `json:"same_message_id,omitempty"`
	// Automatic is why the sender is automatic; AutomaticSender its
	// address, to which nothing is sent (DESIGN 5.2).
	Automatic       string `json:"automatic,omitempty"`
	AutomaticSender string `json:"automatic_sender,omitempty"`
}

// realMailEvents records on the history what a submission's shape made
// happen: unknown addressees, omitted attachments, a reused Message-ID (on
// both statements), an automatic sender.
func (p *Processor) realMailEvents(tx *store.Tx, st *store.Statement, msg *store.Message, sd SubmittedData) error {
	now := p.Now()
	add := func(id int64, typ, text string) error {
		return tx.InsertEvent(&store.Event{StatementID: id, MessageID: msg.ID, At: now, Type: typ, By: "liaisond", Text: text})
	}
	for _, u := range sd.UnknownTo {
		if err := add(st.ID, store.EventUnknownAddressee, "the addressee "+u.Text()); err != nil {
			return err
		}
	}
	if n := len(sd.OmittedAttachments); n > 0 {
		if err := add(st.ID, store.EventAttachmentsOmitted, clip(fmt.Sprintf("%d attachments past the cap of %d are not attachments of the statement; the stored mail (message %d) keeps them: %s",
			n, parse.MaxAttachments, msg.ID, strings.Join(sd.OmittedAttachments, ", ")), 8000)); err != nil {
			return err
		}
	}
	for _, other := range sd.SameMessageID {
		if err := add(st.ID, store.EventMessageIDReused, fmt.Sprintf("the mail has the Message-ID <%s> of LS-%d, with other content; both are kept: the liaison manager should check whether one replaces the other", msg.MessageID, other)); err != nil {
			return err
		}
		if err := add(other, store.EventMessageIDReused, fmt.Sprintf("%s arrived with this statement's Message-ID <%s> and other content; both are kept: the liaison manager should check whether one replaces the other", st.Ref(), msg.MessageID)); err != nil {
			return err
		}
	}
	if sd.Automatic != "" {
		if err := add(st.ID, store.EventAutomaticSender, fmt.Sprintf("sent by an automatic sender (%s); nothing is sent back to %s", sd.Automatic, firstNonEmpty(sd.AutomaticSender, "it"))); err != nil {
			return err
		}
	}
	return nil
}

// arrivalData is the Data of the statement's first "submitted" event: what
// its arrival found, for the mails of a held statement released later.
func arrivalData(st *store.Statement) []byte {
	for _, ev := range st.Events {
		if ev.Type == store.EventSubmitted {
			return ev.Data
		}
	}
	return nil
}
