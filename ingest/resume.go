package ingest

import (
	"context"
	"fmt"

	"liaisond/store"
)

// Resume applies the messages an earlier liaisond kept in state held
// because it could not act on them yet (command mail before commands were
// handled): nothing received is lost across an upgrade. It returns how many
// it applied; the caller wakes the outbox sender afterwards.
func (p *Processor) Resume(ctx context.Context) (int, error) {
	var ids []int64
	if err := p.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		ids, err = tx.MessagesInState(store.MessageHeld, 10000)
		return err
	}); err != nil {
		return 0, fmt.Errorf("find held messages: %w", err)
	}
	done := 0
	for _, id := range ids {
		var res Result
		// The caller wakes the sender after Resume.
		err := p.Store.Update(ctx, func(tx *store.Tx) error {
			res = Result{MessageID: id}
			msg, err := tx.Message(id)
			if err != nil {
				return err
			}
			env := Envelope{Source: msg.Source, MailFrom: msg.MailFrom, Rcpt: msg.RcptTo, Known: len(msg.RcptTo) > 0}
			d, err := p.safeDecide(env, msg.Raw, p.Now())
			if err != nil {
				return err
			}
			return p.safeApply(ctx, tx, msg, env, d, &preparedUse{}, &res)
		})
		if err != nil {
			return done, fmt.Errorf("message %d: %w", id, err)
		}
		p.Log.Info("held message applied", "id", id, "class", res.Class, "state", res.State, "statement", res.Statement)
		done++
	}
	return done, nil
}
