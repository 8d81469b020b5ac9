-- A queued mail's bytes move out of its outbox row. The sender changes a
-- mail's row twice (sending, then sent), and SQLite writes a changed row
-- whole, the mail's bytes included (its overflow pages): a dozen copies of
-- every notification went through the WAL three times. Kept apart, they are
-- written once, and a state change writes a row of a hundred bytes.
CREATE TABLE outbox_raw (
	id  INTEGER PRIMARY KEY REFERENCES outbox(id),
	raw BLOB NOT NULL
);
INSERT INTO outbox_raw (id, raw) SELECT id, raw FROM outbox;
ALTER TABLE outbox DROP COLUMN raw;
