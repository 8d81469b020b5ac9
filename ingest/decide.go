package ingest

import (
	"time"

	"liaisond/directory"
	"liaisond/ingest/parse"
	"liaisond/store"
)

// Decision is what a received message means, decided before the write
// transaction from its bytes, its envelope, the directory and the clock
// (DESIGN 10): data, not closures, so it is table-tested without a database
// and computed in parallel outside the write lock. Applying it (Processor.apply)
// is the only step inside the transaction.
type Decision struct {
	Now    time.Time
	Parsed *parse.Message // nil when the bytes are not a mail message
	Class  string         // ClassSubmission, ClassCommand, ClassBounce: applied; others: only stored
	// State and Why: the stored message's state and reason when there is
	// nothing to apply (ignored, failed).
	State, Why string
	Target     target
	// Automatic is why the sender is automatic (RFC 3834; "" for a person).
	Automatic  string
	Submission *SubmissionDecision // Class submission
}

// Decide parses a message and decides what it means: loop, bounce, automatic,
// command mail, submission, or nothing of ours (DESIGN 5).
func (p *Processor) Decide(env Envelope, raw []byte, dir *directory.Directory, now time.Time) *Decision {
	d := &Decision{Now: now}
	// Base64 bodies are decoded by the store's decoder, so that an
	// attachment can be stored as a reference into raw (attachments.go).
	parsed, err := parse.ParseMessageWith(raw, store.DecodeTransfer)
	if err != nil {
		// Not a mail at all: no header to answer to. Keep it for the operator.
		d.Class, d.State, d.Why = ClassUnknown, store.MessageFailed, "not a mail message: "+err.Error()
		return d
	}
	d.Parsed = parsed
	// Automatic mail never gets an answer of any kind (DESIGN 5.2, RFC 3834).
	if parse.IsOwnLoop(parsed.Header, p.Config.Domain) {
		d.Class, d.State, d.Why = ClassLoop, store.MessageIgnored, "sent by this liaisond (loop marker)"
		return d
	}
	if parse.IsBounce(parsed.Header) {
		d.Class = ClassBounce
		return d
	}
	t := p.route(env, parsed)
	if t.kind == "other" && !(env.Known && len(env.Rcpt) > 0) {
		// A pipe with nothing to go by: the MTA only pipes what is ours.
		t = target{kind: "statements", addr: p.Config.StatementsLocal + "@" + p.Config.Domain}
	}
	d.Target = t
	d.Automatic = parse.AutoReason(parsed.Header, env.MailFrom, env.Known)
	if d.Automatic != "" && !(t.kind == "statements" && CarriesStatement(parsed.Text)) {
		d.Class, d.State, d.Why = ClassAuto, store.MessageIgnored, "automatic mail: "+d.Automatic
		return d
	}
	switch t.kind {
	case "token", "commands":
		d.Class = ClassCommand
	case "other":
		d.Class, d.State, d.Why = ClassUnknown, store.MessageIgnored, "not addressed to a liaisond address"
	default:
		d.Class = ClassSubmission
		d.Submission = p.decideSubmission(dir, now, env, raw, parsed, d.Automatic)
	}
	return d
}
