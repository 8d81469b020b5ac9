-- IMAP input (issue 3): where each polled mailbox stands, and what the
-- source did with each message it handed over.

-- One row per polled mailbox (key: user@host:port/mailbox). last_uid is the
-- highest UID below which every message of this UIDVALIDITY is stored;
-- a UIDVALIDITY change resets it to 0 (the rescan stores nothing twice:
-- messages.identity). The other columns are the poller's last known state,
-- shown by `liaisond status` and /healthz.
CREATE TABLE imap_state (
	mailbox     TEXT PRIMARY KEY,
	uidvalidity INTEGER NOT NULL DEFAULT 0,
	last_uid    INTEGER NOT NULL DEFAULT 0,
	connected   INTEGER NOT NULL DEFAULT 0,
	backlog     INTEGER NOT NULL DEFAULT 0,   -- messages above last_uid at the last look
	last_error  TEXT NOT NULL DEFAULT '',
	updated_at  TEXT NOT NULL
);

-- What the source did with a stored message after the commit, e.g.
-- "imap INBOX uid 42: moved to failed: not a mail message". The reason a
-- message failed stays in messages.error.
ALTER TABLE messages ADD COLUMN disposition TEXT NOT NULL DEFAULT '';
