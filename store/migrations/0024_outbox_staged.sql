-- The copies of a notification are staged here when they are queued, as one
-- row for all of them, and the sender moves them into outbox before it
-- looks for due mail (store.Tx.moveStaged). Queued straight into outbox, a
-- dozen copies were a dozen rows of eighteen values, each with an entry in
-- four indexes and three foreign keys checked: the largest part of a
-- received statement's work inside the write lock. Here they are one row;
-- the move does the rest later, for many notifications at once and off the
-- path of the 250. The row is the mails, as durable as outbox rows (the
-- sender only sends from outbox, and moves before it looks; the readers of
-- the outbox read this table too).
--
-- id is the first copy's outbox id and last_id the last one's: ids are
-- given from one sequence over both tables, so that a copy keeps its id
-- when it moves. mails holds each copy's columns (store.encodeStaged).
CREATE TABLE outbox_staged (
	id         INTEGER PRIMARY KEY,
	last_id    INTEGER NOT NULL,
	copies     INTEGER NOT NULL,
	next_attempt TEXT NOT NULL, -- the earliest of the copies'
	mails      BLOB NOT NULL
);
