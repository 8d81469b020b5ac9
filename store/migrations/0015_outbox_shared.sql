-- The copies of one mail (a dozen per notification) differ in a few values:
-- the recipient, its reply address, the Message-ID. Their bytes were stored
-- a dozen times, most of what a new statement wrote to the WAL inside the
-- write lock. The bytes they share are now stored once, in outbox_shared;
-- a copy's outbox_raw row names them and holds only its own values
-- (store.SharedParts says how they fit together). A mail not made that
-- way keeps its bytes whole in raw, as before, with no shared_id.
CREATE TABLE outbox_shared (
	id    INTEGER PRIMARY KEY,
	parts BLOB NOT NULL
);
ALTER TABLE outbox_raw ADD COLUMN shared_id INTEGER REFERENCES outbox_shared(id);
