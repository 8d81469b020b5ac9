-- Large contents (a received message's raw bytes, an attachment's content)
-- are kept in pieces of 1 MB: SQLite copies a bound value twice (the
-- binding, the record), and an UPDATE rewrites a whole row, so a 24 MB
-- message in one column made the daemon hold several copies of it. The row
-- (messages.raw, blobs.data) is then empty and its size says how much to
-- read back. key is "msg:<id>" for a message, the SHA-256 for a blob.
CREATE TABLE pieces (
	key  TEXT NOT NULL,
	n    INTEGER NOT NULL,
	data BLOB NOT NULL,
	UNIQUE (key, n)
);
