package store

import (
	"encoding/json"
	"fmt"
)

// The payloads of events, one Go type per kind of event, defined here once:
// ingest and notify write and read these, never their own copies, maps or
// hand-built JSON (DESIGN 10). The JSON field names are those of the rows
// already stored; change them only with a migration.

// EventData is implemented by the payload types below only.
type EventData interface{ eventData() }

// SetData stores v as ev's payload.
func (ev *Event) SetData(v EventData) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the data of a %s event: %w", ev.Type, err)
	}
	ev.Data = data
	return nil
}

// DecodeData reads ev's payload as a T. An event without data gives T's
// zero value.
func DecodeData[T EventData](ev *Event) (T, error) {
	var v T
	if len(ev.Data) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		return v, fmt.Errorf("decoding the data of %s event %d: %w", ev.Type, ev.ID, err)
	}
	return v, nil
}

// AnswerData is the payload of the events that answer a mail: rejected
// (a submission refused), command-refused and help. To is where the answer
// goes ("" for none: the per-address rate was spent).
type AnswerData struct {
	To        string   `json:"to,omitempty"`         // where the answer goes; "" for none
	Subject   string   `json:"subject,omitempty"`    // of the mail answered
	MessageID string   `json:"message_id,omitempty"` // of the mail answered, to thread the answer
	Rcpt      string   `json:"rcpt,omitempty"`       // the address it was sent to
	Problems  []string `json:"problems,omitempty"`
	Done      []string `json:"done,omitempty"`
}

// DoneData is the payload of a done event: the confirmation of the
// commands of one mail to whoever gave them (DESIGN 6).
type DoneData struct {
	AnswerData
	Statements []int64 `json:"statements,omitempty"` // the statements the commands changed
}

// UnknownAddressee is an addressee that matches no body in the directory,
// with the names closest to it.
type UnknownAddressee struct {
	Name        string   `json:"name"`
	Suggestions []string `json:"suggestions,omitempty"` // "ccamp (IETF CCAMP Working Group)"
}

// SubmittedData is the payload of a submitted event: what the receipt and
// the notification say besides the statement itself.
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

// HeldData is the payload of a held event: Tell is set for the first
// statement held in an hour, whose event tells the secretariat (DESIGN 7).
type HeldData struct {
	Tell bool `json:"tell"`
}

// ChangeData is the payload of reassigned, redirected and deadline-changed
// events. A redirect also keeps the bodies the statement was addressed to
// before and after (DESIGN 6: the history keeps the first addressee).
type ChangeData struct {
	Old   string    `json:"old"`
	New   string    `json:"new"`
	By    string    `json:"by"`
	OldTo []BodyRef `json:"old_to,omitempty"`
	NewTo []BodyRef `json:"new_to,omitempty"`
}

// ReasonData is the payload of closed, reopened and approval-rejected
// events: the reason given with the command, if any.
type ReasonData struct {
	Reason string `json:"reason,omitempty"`
}

// DeliveryFailedData is the payload of a delivery-failed event: the outbox
// row that could not be delivered.
type DeliveryFailedData struct {
	Outbox int64  `json:"outbox"`
	Rcpt   string `json:"rcpt"`
	Kind   string `json:"kind"`
}

// ReminderData is the payload of a reminder event: the due point sent and
// how many earlier ones were skipped.
type ReminderData struct {
	Due     string `json:"due"`
	Skipped int    `json:"skipped"`
}

// OversizeData is the payload of an oversize event: a mail too large to
// take in, recorded with its header only.
type OversizeData struct {
	Subject   string `json:"subject"`
	From      string `json:"from"`
	MessageID string `json:"message_id"`
	Size      int64  `json:"size"`
	Limit     int64  `json:"limit"`
	Where     string `json:"where"` // the mailbox and UID it sits at
}

func (AnswerData) eventData()         {}
func (DoneData) eventData()           {}
func (SubmittedData) eventData()      {}
func (HeldData) eventData()           {}
func (ChangeData) eventData()         {}
func (ReasonData) eventData()         {}
func (DeliveryFailedData) eventData() {}
func (ReminderData) eventData()       {}
func (OversizeData) eventData()       {}
