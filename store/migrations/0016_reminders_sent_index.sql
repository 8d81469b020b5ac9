-- outbox_kind (kind, state) served one query, the count of reminders sent
-- for /metrics (liaisond_reminders_sent_total), and cost an entry for every
-- mail: a dozen per new statement inside the write lock, and a move within
-- it each time the sender changes a mail's state (sending, then sent). A
-- partial index holds the reminders alone (Tx.RemindersSent names its
-- condition literally, so that SQLite uses it).
DROP INDEX outbox_kind;
CREATE INDEX outbox_reminders ON outbox(state) WHERE kind = 'tickler';
