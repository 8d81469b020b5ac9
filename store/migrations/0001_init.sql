-- Every received message, byte for byte, before anything is done with it (DESIGN 5.1).
CREATE TABLE messages (
	id          INTEGER PRIMARY KEY,
	received_at TEXT NOT NULL,
	source      TEXT NOT NULL,              -- smtp, lmtp, imap, pipe
	mail_from   TEXT NOT NULL DEFAULT '',   -- envelope sender as received
	rcpt_to     TEXT NOT NULL DEFAULT '[]', -- JSON array of envelope recipients
	message_id  TEXT NOT NULL DEFAULT '',   -- Message-ID header, without brackets
	identity    TEXT NOT NULL UNIQUE,       -- what makes a re-delivery the same message
	sha256      TEXT NOT NULL,              -- of raw
	size        INTEGER NOT NULL,
	raw         BLOB NOT NULL,
	class       TEXT NOT NULL DEFAULT '',   -- submission, command, bounce, auto, loop, unknown
	state       TEXT NOT NULL DEFAULT 'received', -- received, processed, rejected, ignored, held, failed
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_state ON messages(state);

CREATE TABLE statements (
	id           INTEGER PRIMARY KEY,       -- the n of LS-n
	message_id   INTEGER REFERENCES messages(id),
	direction    TEXT NOT NULL,             -- incoming, outgoing
	state        TEXT NOT NULL,             -- open, closed, pending, held
	from_body    TEXT NOT NULL DEFAULT '',  -- directory id, '' for a body not in the directory
	from_name    TEXT NOT NULL,
	title        TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	deadline     TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD or ''
	submitter    TEXT NOT NULL,
	assignee     TEXT NOT NULL,
	received_at  TEXT NOT NULL,
	replied_at   TEXT,
	closed_at    TEXT,
	body         TEXT NOT NULL DEFAULT '',
	thread_id    TEXT NOT NULL DEFAULT '',  -- Message-ID the statement's mails thread under
	status_line  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX statements_state ON statements(state, received_at);

-- Addressed bodies, in the order the submission named them.
CREATE TABLE statement_to (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,
	body_id      TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL,
	PRIMARY KEY (statement_id, pos)
);

CREATE TABLE contacts (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	role         TEXT NOT NULL,             -- response, technical, cc
	pos          INTEGER NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	addr         TEXT NOT NULL,
	PRIMARY KEY (statement_id, role, pos)
);

-- Envelope fields kept as written: Attachment-URL values and unknown fields.
CREATE TABLE fields (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,
	name         TEXT NOT NULL,             -- 'url' or the unknown field's name
	value        TEXT NOT NULL,
	PRIMARY KEY (statement_id, pos)
);

-- Attachment content, addressed by its SHA-256 so that one file sent twice is kept once.
CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	size   INTEGER NOT NULL,
	data   BLOB NOT NULL
);

CREATE TABLE attachments (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,          -- 1-based; the N of /ls/42/att/N
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL REFERENCES blobs(sha256),
	PRIMARY KEY (statement_id, pos)
);

-- Every change to a statement, and every decision about a message without one.
CREATE TABLE events (
	id           INTEGER PRIMARY KEY,
	statement_id INTEGER REFERENCES statements(id),
	message_id   INTEGER REFERENCES messages(id),
	at           TEXT NOT NULL,
	type         TEXT NOT NULL,
	by           TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL DEFAULT '',
	data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_statement ON events(statement_id, id);

-- from_id <relation> to_id, e.g. 43 replies-to 17; the inverse is derived when read.
CREATE TABLE relations (
	from_id  INTEGER NOT NULL REFERENCES statements(id),
	to_id    INTEGER NOT NULL REFERENCES statements(id),
	relation TEXT NOT NULL,
	PRIMARY KEY (from_id, to_id, relation)
);
CREATE INDEX relations_to ON relations(to_id);

-- Outgoing mail: one row per envelope recipient (a personal copy each), rendered whole.
CREATE TABLE outbox (
	id            INTEGER PRIMARY KEY,
	statement_id  INTEGER REFERENCES statements(id),
	event_id      INTEGER REFERENCES events(id),
	kind          TEXT NOT NULL,
	envelope_from TEXT NOT NULL,
	rcpt          TEXT NOT NULL,
	from_addr     TEXT NOT NULL,
	to_addrs      TEXT NOT NULL DEFAULT '[]',
	cc_addrs      TEXT NOT NULL DEFAULT '[]',
	subject       TEXT NOT NULL,
	message_id    TEXT NOT NULL,
	raw           BLOB NOT NULL,
	state         TEXT NOT NULL DEFAULT 'queued', -- queued, sending, sent, failed
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_attempt  TEXT NOT NULL,
	last_error    TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	sent_at       TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_statement ON outbox(statement_id);
