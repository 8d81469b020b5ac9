package ingest

import (
	"context"
	"fmt"

	"liaisond/ingest/parse"
	"liaisond/store"
)

// link plans "link LS-17" on st: st answers LS-17 (DESIGN 4: an In Response
// that named its statement in words, before or outside this system, is
// linked later by the liaison manager or the secretariat). Both record it;
// the answered statement is replied, as when a response names it by
// reference; the words stay on st as its identifier.
func (pl *planner) link(s step, c parse.Command, st *store.Statement) (step, string, error) {
	target, ok := parse.ParseRef(c.Arg)
	if !ok {
		return s, fmt.Sprintf("%q is not a statement reference; write \"link LS-17\" with the statement %s answers", c.Arg, st.Ref()), nil
	}
	if target == st.ID {
		return s, st.Ref() + " cannot answer itself", nil
	}
	other, err := pl.statement(target)
	if err != nil {
		return s, "", fmt.Errorf("reading LS-%d: %w", target, err)
	}
	if other == nil {
		return s, fmt.Sprintf("LS-%d does not exist", target), nil
	}
	for _, r := range st.Related {
		if r.Ref == target && r.Relation == store.RelRepliesTo {
			return s, fmt.Sprintf("%s is linked to %s already", st.Ref(), other.Ref()), nil
		}
	}
	tx, now, by := pl.tx, pl.tx.Now(), pl.sender
	s.run = func(ctx context.Context) (string, error) {
		if err := tx.AddRelation(st.ID, other.ID, store.RelRepliesTo); err != nil {
			return "", err
		}
		if other.RepliedAt == nil {
			if err := tx.SetReplied(other.ID, now); err != nil {
				return "", err
			}
		}
		for _, ev := range []*store.Event{
			{StatementID: st.ID, Type: store.EventLinked, Text: fmt.Sprintf("linked as the answer to %s", other.Ref())},
			{StatementID: other.ID, Type: store.EventLinked, Text: fmt.Sprintf("answered by %s (linked)", st.Ref())},
		} {
			ev.MessageID, ev.At, ev.By = pl.msgID, now, by
			if err := tx.InsertEvent(ev); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("%s is linked as the answer to %s, which counts as answered", st.Ref(), other.Ref()), nil
	}
	return s, "", nil
}
