-- The index statements_received (received_at) goes: the submission rate counts the recent statements of each state through statements_state (state, received_at), one index entry fewer per new statement.

-- It served two queries: the count of the statements received in the
-- last hour that were not held (the submission rate, DESIGN 7, in every
-- submission's transaction) and `liaisond list`'s order of all statements.
-- The count now finds the states there are (a few seeks in
-- statements_state) and counts each one's recent statements in the same
-- index (store.recentStatementsQuery); the operator's full list sorts.
DROP INDEX statements_received;
