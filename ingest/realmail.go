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
type UnknownAddressee = store.UnknownAddressee

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

// addresseeText says what is unknown and what might have been meant.
func addresseeText(u UnknownAddressee) string {
	s := fmt.Sprintf("%q matches no body in our directory", u.Name)
	if len(u.Suggestions) > 0 {
		s += "; the closest names are " + strings.Join(u.Suggestions, ", ")
	} else {
		s += "; no name there is close to it"
	}
	return s
}

// addresseeWarning is the receipt's line about it.
func addresseeWarning(u UnknownAddressee) string {
	return "the addressee " + addresseeText(u) + ". It is kept on the statement, and the IETF Secretariat has been told"
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

// realMailEvents records on the history what a submission's shape made
// happen: unknown addressees, omitted attachments, a reused Message-ID (on
// both statements), an automatic sender.
func (p *Processor) realMailEvents(tx *store.Tx, st *store.Statement, msg *store.Message, sd store.SubmittedData) error {
	now := tx.Now()
	add := func(id int64, typ, text string) error {
		return tx.InsertEvent(&store.Event{StatementID: id, MessageID: msg.ID, At: now, Type: typ, By: "liaisond", Text: text})
	}
	for _, u := range sd.UnknownTo {
		if err := add(st.ID, store.EventUnknownAddressee, "the addressee "+addresseeText(u)); err != nil {
			return err
		}
	}
	if n := len(sd.OmittedAttachments); n > 0 {
		if err := add(st.ID, store.EventAttachmentsOmitted, parse.Clip(fmt.Sprintf("%d attachments past the cap of %d are not attachments of the statement; the stored mail (message %d) keeps them: %s",
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

// arrivalData is the payload of the statement's first "submitted" event:
// what its arrival found, for the mails of a held statement released later.
func arrivalData(st *store.Statement) (store.SubmittedData, error) {
	for i := range st.Events {
		if st.Events[i].Type == store.EventSubmitted {
			return store.DecodeData[store.SubmittedData](&st.Events[i])
		}
	}
	return store.SubmittedData{}, nil
}
