-- One search index (search_fts, FTS3) for a statement's title, body and parties instead of two FTS4 tables: one index flushed per transaction, no document totals rewritten.

-- Each FTS table costs every transaction that indexes a statement a few
-- pages of its own, whatever the text: its new segment's row in %_segdir
-- and that table's index, and for FTS4 the document totals in %_stat.
-- With statements_fts (title, body) and parties_fts (bodies, contacts)
-- that was 7 of the ~73 WAL frames of a submission. One table holding the
-- four columns, FTS3 (no %_stat: only ranking reads it, and search only
-- matches), writes about 2 pages fewer, and one segment per transaction.
-- Search is the same: a term matches when it is in any of the columns.
--
-- The view search_text says what is indexed; InsertStatement indexes a new
-- statement once, after its addressees and contacts are in (as 0014 did
-- for the parties). Triggers re-index a statement whenever one of the
-- indexed values changes, whoever changes it; an addressee or contact
-- added to a statement not indexed yet (InsertStatement's own) does not.
DROP TRIGGER statements_fts_ins;
DROP TRIGGER statements_fts_upd;
DROP TRIGGER parties_fts_upd;
DROP TRIGGER statements_fts_del;
DROP TRIGGER parties_fts_to_ins;
DROP TRIGGER parties_fts_to_upd;
DROP TRIGGER parties_fts_to_del;
DROP TRIGGER parties_fts_contacts_ins;
DROP TRIGGER parties_fts_contacts_upd;
DROP TRIGGER parties_fts_contacts_del;
DROP TABLE statements_fts;
DROP TABLE parties_fts;
DROP VIEW parties_fts_text;

CREATE VIEW search_text AS
SELECT s.id AS id, s.title AS title, s.body AS body,
	s.from_name || ' ' || s.from_body || ' ' ||
		coalesce((SELECT group_concat(t.name || ' ' || t.body_id, ' ') FROM statement_to t WHERE t.statement_id = s.id), '') AS bodies,
	s.submitter || ' ' || s.assignee || ' ' ||
		coalesce((SELECT group_concat(c.name || ' ' || c.addr, ' ') FROM contacts c WHERE c.statement_id = s.id), '') AS contacts
FROM statements s;

CREATE VIRTUAL TABLE search_fts USING fts3(
	title, body, bodies, contacts,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text;

CREATE TRIGGER search_fts_upd AFTER UPDATE OF title, body, from_name, from_body, submitter, assignee ON statements BEGIN
	DELETE FROM search_fts WHERE rowid = OLD.id;
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id = NEW.id;
END;
CREATE TRIGGER search_fts_del AFTER DELETE ON statements BEGIN
	DELETE FROM search_fts WHERE rowid = OLD.id;
END;

CREATE TRIGGER search_fts_to_ins AFTER INSERT ON statement_to
WHEN EXISTS (SELECT 1 FROM search_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM search_fts WHERE rowid = NEW.statement_id;
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id = NEW.statement_id;
END;
CREATE TRIGGER search_fts_to_upd AFTER UPDATE ON statement_to BEGIN
	DELETE FROM search_fts WHERE rowid IN (OLD.statement_id, NEW.statement_id);
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id IN (OLD.statement_id, NEW.statement_id);
END;
CREATE TRIGGER search_fts_to_del AFTER DELETE ON statement_to BEGIN
	DELETE FROM search_fts WHERE rowid = OLD.statement_id;
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id = OLD.statement_id;
END;
CREATE TRIGGER search_fts_contacts_ins AFTER INSERT ON contacts
WHEN EXISTS (SELECT 1 FROM search_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM search_fts WHERE rowid = NEW.statement_id;
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id = NEW.statement_id;
END;
CREATE TRIGGER search_fts_contacts_upd AFTER UPDATE ON contacts BEGIN
	DELETE FROM search_fts WHERE rowid IN (OLD.statement_id, NEW.statement_id);
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id IN (OLD.statement_id, NEW.statement_id);
END;
CREATE TRIGGER search_fts_contacts_del AFTER DELETE ON contacts BEGIN
	DELETE FROM search_fts WHERE rowid = OLD.statement_id;
	INSERT INTO search_fts (rowid, title, body, bodies, contacts) SELECT id, title, body, bodies, contacts FROM search_text WHERE id = OLD.statement_id;
END;
