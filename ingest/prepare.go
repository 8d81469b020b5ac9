package ingest

import (
	"context"
	"slices"

	"liaisond/store"
)

// MailPreparer is a Composer that can also render the mails of a new
// incoming statement before its transaction (notify.Composer is one).
// Rendering a dozen personal copies is most of the work a submission
// causes; done outside the write lock, it runs in parallel with other
// messages instead of holding up every one of them (DESIGN 10).
type MailPreparer interface {
	// SubmittedMails renders what Compose would queue for the
	// EventSubmitted event of st (st.ID already chosen), without the
	// database.
	SubmittedMails(st *store.Statement, data store.SubmittedData) ([]*store.OutboxMail, error)
	// QueuePrepared queues them for ev inside the transaction, with the
	// checks that need the database.
	QueuePrepared(tx *store.Tx, ev *store.Event, mails []*store.OutboxMail) error
}

// prepared is a submission's notification and receipt, rendered before its
// transaction under a statement id reserved for it. The transaction uses
// them only if what they were rendered from still holds when it applies the
// decision: the id is still free, the statement is not held, no earlier
// statement came with its Message-ID. Otherwise Compose renders the mails
// inside the transaction as it would have without them (and an id not used
// is given back).
type prepared struct {
	id    int64               // the reserved statement id
	data  store.SubmittedData // what the mails were rendered from
	mails []*store.OutboxMail
}

// prepare renders the mails of a submission that will become a new incoming
// statement, before its transaction; nil when the decision is anything else
// or an id cannot be reserved (the transaction then composes as usual).
// Only what the decision fixes goes into the mails, and nothing is read
// from the database here: the facts the mails also depend on are read in
// the transaction, which uses the mails only if they are as assumed.
func (p *Processor) prepare(ctx context.Context, msg *store.Message, d *Decision) *prepared {
	mp, ok := p.Composer.(MailPreparer)
	if !ok || d.Class != ClassSubmission || d.Submission == nil || d.Parsed == nil {
		return nil
	}
	sub := d.Submission
	if len(sub.Problems) > 0 || sub.Statement.Direction != store.Incoming || sub.Statement.ThreadID == "" {
		// Rejections and outgoing statements are rarer and cause fewer
		// mails; a thread id made from the message's row id needs the
		// transaction.
		return nil
	}
	id, err := p.Store.ReserveStatementID(ctx)
	if err != nil {
		return nil
	}
	st := sub.Statement // a copy: the decision stays as decided
	st.ID, st.ReceivedAt = id, msg.ReceivedAt
	st.Attachments = slices.Clone(st.Attachments)
	for i := range st.Attachments {
		a := &st.Attachments[i]
		a.Pos, a.Size = i+1, int64(len(a.Data)) // as InsertStatement sets them
	}
	// Rendered for the common case: no earlier statement with this
	// Message-ID. The transaction looks (as it must anyway) and composes
	// the mails itself when there is one, or when the statement this one
	// answers does not exist (a rejection).
	data := submittedData(sub, d.Parsed.OmittedAttachments, nil)
	mails, err := mp.SubmittedMails(&st, data)
	if err != nil {
		p.Store.ReleaseStatementID(id)
		return nil // composed in the transaction, where an error aborts
	}
	return &prepared{id: id, data: data, mails: mails}
}

// submittedData is the payload of a submission's EventSubmitted event.
func submittedData(sub *SubmissionDecision, omitted []string, reused []int64) store.SubmittedData {
	sd := store.SubmittedData{Warnings: sub.Warnings, UnknownTo: sub.UnknownTo, NoIETFBody: sub.NoIETFBody,
		OmittedAttachments: omitted, SameMessageID: reused}
	if sub.Automatic != "" {
		sd.Automatic, sd.AutomaticSender = sub.Automatic, sub.Sender
	}
	return sd
}
