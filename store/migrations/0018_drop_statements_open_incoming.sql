-- The index statements_open_incoming (direction, state) goes: the reminder scans find open statements through statements_state, one index entry fewer per new statement.

-- Every new statement wrote an entry to each of the seven indexes of
-- statements, a page each inside the write lock. This one served only the
-- scheduler's scans of the open incoming statements (EachReminderCandidate,
-- OverdueStatements, PlanNewStatements), which run once per pass, outside
-- any submission: they now read the open statements through
-- statements_state (state, received_at) and keep the incoming ones.
DROP INDEX statements_open_incoming;
