-- Reminders (ticklers, DESIGN 5): per statement, the plan the reminders
-- follow and the latest due point handled, so that a due point is sent once.
CREATE TABLE reminder_plans (
	statement_id INTEGER PRIMARY KEY REFERENCES statements(id),
	deadline     TEXT NOT NULL,              -- the deadline the plan follows ('' for none)
	since        TEXT NOT NULL,              -- due points at or before this time are not sent
	last_due     TEXT NOT NULL DEFAULT '',   -- the latest due point handled (sent or skipped)
	last_key     TEXT NOT NULL DEFAULT ''
);

-- Every due point handled: sent, or skipped because a later one was due too.
CREATE TABLE reminders (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	due_key      TEXT NOT NULL,              -- e.g. 2027-01-31/-7 or open/+30
	due_at       TEXT NOT NULL,
	state        TEXT NOT NULL,              -- sent, skipped
	assignee     TEXT NOT NULL DEFAULT '',
	at           TEXT NOT NULL,              -- when the pass handled it
	event_id     INTEGER REFERENCES events(id),
	PRIMARY KEY (statement_id, due_key)
);

-- Small named values of the scheduler (the time of the last pass).
CREATE TABLE scheduler_state (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- The daily digest of overdue statements: once per recipient and day.
CREATE TABLE digests (
	rcpt TEXT NOT NULL,
	day  TEXT NOT NULL,
	at   TEXT NOT NULL,
	PRIMARY KEY (rcpt, day)
);

-- Mails to the secretariat about undeliverable mail: one per cause.
CREATE TABLE delivery_alerts (
	cause TEXT PRIMARY KEY,                  -- event:<id> or outbox:<id>
	at    TEXT NOT NULL
);

CREATE INDEX statements_open_incoming ON statements(direction, state);
