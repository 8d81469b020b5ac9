package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// statementIDs hands out statement ids before the transactions that insert
// the statements, so that the mails of a new statement, which name it
// (LS-42, its page, the personal reply tokens), can be rendered before the
// write lock is taken (DESIGN 10). Every statement this process inserts
// takes its id from here or tells it what SQLite chose, so two reservations
// never meet; an id taken meanwhile by another process is found by the
// transaction (StatementExists), which then lets SQLite choose.
type statementIDs struct {
	mu   sync.Mutex
	next int64   // the next id never handed out; 0: not read from the database yet
	free []int64 // handed out and given back unused, ascending: handed out first
}

// ReserveStatementID hands out an id for a statement to be inserted later
// with InsertStatement (st.ID set). An id not used must be given back with
// ReleaseStatementID, so that LS numbers keep no gap.
func (s *Store) ReserveStatementID(ctx context.Context) (int64, error) {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	if len(s.ids.free) > 0 {
		id := s.ids.free[0]
		s.ids.free = s.ids.free[1:]
		return id, nil
	}
	if s.ids.next == 0 {
		var max int64
		if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM statements`).Scan(&max); err != nil {
			return 0, fmt.Errorf("reserving a statement id: %w", classify(err))
		}
		s.ids.next = max + 1
	}
	id := s.ids.next
	s.ids.next++
	return id, nil
}

// ReleaseStatementID gives back a reserved id that was not inserted.
func (s *Store) ReleaseStatementID(id int64) {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	if i, found := slices.BinarySearch(s.ids.free, id); !found {
		s.ids.free = slices.Insert(s.ids.free, i, id)
	}
}

// inserted tells the reservations that a statement took id, so that none
// hands it out.
func (ids *statementIDs) inserted(id int64) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if ids.next != 0 && id >= ids.next {
		ids.next = id + 1
	}
	if i, found := slices.BinarySearch(ids.free, id); found {
		ids.free = slices.Delete(ids.free, i, i+1)
	}
}
