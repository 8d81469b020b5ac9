-- Cheaper writes per submission: parties indexed once per new statement, no FTS ranking tables, receipts-only recipient index, child rows without rowid.

-- 1. A new statement's parties are indexed once, by InsertStatement after
-- its addressees and contacts are in, no longer once per row: before, the
-- statements trigger and every INSERT into statement_to and contacts
-- deleted and re-indexed the statement's parties_fts row, 4-6 times per
-- submission inside the write lock. An addressee or contact added to a
-- statement already indexed (a redirect: ReplaceTo) still re-indexes it
-- (the INSERT triggers of part 4), as do every UPDATE and DELETE.
DROP TRIGGER statements_fts_ins;
CREATE TRIGGER statements_fts_ins AFTER INSERT ON statements BEGIN
	INSERT INTO statements_fts (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

-- 2. The search index without the table FTS4 keeps for ranking
-- (%_docsize: matchinfo's l), which no query uses (search only matches):
-- a page fewer written per transaction, each. Both tables are made anew
-- and filled from the statements, as 0008 did; the triggers refer to them
-- by name.
DROP TABLE statements_fts;
DROP TABLE parties_fts;
CREATE VIRTUAL TABLE statements_fts USING fts4(
	title, body,
	matchinfo=fts3,
	tokenize=unicode61 "remove_diacritics=2"
);
CREATE VIRTUAL TABLE parties_fts USING fts4(
	bodies, contacts,
	matchinfo=fts3,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO statements_fts (rowid, title, body) SELECT id, title, body FROM statements;
INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text;

-- 3. The per-address answer rate (DESIGN 7, Tx.RepliesSince) counts only
-- the answer kinds; the dozen personal copies of each notification need no
-- entry in that index, whose entries for a dozen recipients fall on a
-- dozen different pages. The list is store.AnswerKinds, in its order:
-- RepliesSince writes the same literal list so that SQLite uses the index.
DROP INDEX outbox_rcpt;
CREATE INDEX outbox_rcpt ON outbox(rcpt, created_at) WHERE kind IN ('error', 'help', 'receipt', 'confirm', 'done');

-- 4. A statement's addressees, contacts, fields and attachments are kept
-- in the order of their primary key (WITHOUT ROWID): one b-tree each
-- instead of a table and its primary-key index, so a page fewer written
-- per table and statement. The tables are made anew under their names (no
-- RENAME: the view parties_fts_text and the triggers name them), with the
-- triggers and index they had.
CREATE TEMP TABLE old_statement_to AS SELECT statement_id, pos, body_id, name FROM statement_to;
CREATE TEMP TABLE old_contacts AS SELECT statement_id, role, pos, name, addr FROM contacts;
CREATE TEMP TABLE old_fields AS SELECT statement_id, pos, name, value FROM fields;
CREATE TEMP TABLE old_attachments AS SELECT statement_id, pos, name, content_type, size, sha256 FROM attachments;
DROP TABLE statement_to;
DROP TABLE contacts;
DROP TABLE fields;
DROP TABLE attachments;

CREATE TABLE statement_to (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,
	body_id      TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL,
	PRIMARY KEY (statement_id, pos)
) WITHOUT ROWID;
CREATE TABLE contacts (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	role         TEXT NOT NULL,             -- response, technical, cc
	pos          INTEGER NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	addr         TEXT NOT NULL,
	PRIMARY KEY (statement_id, role, pos)
) WITHOUT ROWID;
CREATE TABLE fields (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,
	name         TEXT NOT NULL,             -- 'url' or the unknown field's name
	value        TEXT NOT NULL,
	PRIMARY KEY (statement_id, pos)
) WITHOUT ROWID;
CREATE TABLE attachments (
	statement_id INTEGER NOT NULL REFERENCES statements(id),
	pos          INTEGER NOT NULL,          -- 1-based; the N of /ls/42/att/N
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       TEXT NOT NULL REFERENCES blobs(sha256),
	PRIMARY KEY (statement_id, pos)
) WITHOUT ROWID;
INSERT INTO statement_to SELECT * FROM old_statement_to;
INSERT INTO contacts SELECT * FROM old_contacts;
INSERT INTO fields SELECT * FROM old_fields;
INSERT INTO attachments SELECT * FROM old_attachments;
DROP TABLE old_statement_to;
DROP TABLE old_contacts;
DROP TABLE old_fields;
DROP TABLE old_attachments;
CREATE INDEX statement_to_body ON statement_to(body_id);

-- The INSERT triggers re-index only a statement already indexed (part 1);
-- UPDATE and DELETE as in 0002.
CREATE TRIGGER parties_fts_to_ins AFTER INSERT ON statement_to
WHEN EXISTS (SELECT 1 FROM parties_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM parties_fts WHERE rowid = NEW.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.statement_id;
END;
CREATE TRIGGER parties_fts_to_upd AFTER UPDATE ON statement_to BEGIN
	DELETE FROM parties_fts WHERE rowid IN (OLD.statement_id, NEW.statement_id);
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id IN (OLD.statement_id, NEW.statement_id);
END;
CREATE TRIGGER parties_fts_to_del AFTER DELETE ON statement_to BEGIN
	DELETE FROM parties_fts WHERE rowid = OLD.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = OLD.statement_id;
END;
CREATE TRIGGER parties_fts_contacts_ins AFTER INSERT ON contacts
WHEN EXISTS (SELECT 1 FROM parties_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM parties_fts WHERE rowid = NEW.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.statement_id;
END;
CREATE TRIGGER parties_fts_contacts_upd AFTER UPDATE ON contacts BEGIN
	DELETE FROM parties_fts WHERE rowid IN (OLD.statement_id, NEW.statement_id);
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id IN (OLD.statement_id, NEW.statement_id);
END;
CREATE TRIGGER parties_fts_contacts_del AFTER DELETE ON contacts BEGIN
	DELETE FROM parties_fts WHERE rowid = OLD.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = OLD.statement_id;
END;
