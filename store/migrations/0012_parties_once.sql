-- Index a new statement's parties once (InsertStatement, after its addressees and contacts), not once per row inserted.
-- Before, the statements trigger and every INSERT into statement_to and
-- contacts deleted and re-indexed the statement's parties_fts row: a
-- statement with 2 addressees and 3 contacts was indexed 6 times inside
-- the write lock. Now a statement is indexed by InsertStatement once its
-- children are in; an addressee or contact added to a statement already
-- indexed (a redirect: ReplaceTo) still re-indexes it, as do every UPDATE
-- and DELETE (0002's triggers, unchanged).
DROP TRIGGER statements_fts_ins;
CREATE TRIGGER statements_fts_ins AFTER INSERT ON statements BEGIN
	INSERT INTO statements_fts (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

DROP TRIGGER parties_fts_to_ins;
CREATE TRIGGER parties_fts_to_ins AFTER INSERT ON statement_to
WHEN EXISTS (SELECT 1 FROM parties_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM parties_fts WHERE rowid = NEW.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.statement_id;
END;

DROP TRIGGER parties_fts_contacts_ins;
CREATE TRIGGER parties_fts_contacts_ins AFTER INSERT ON contacts
WHEN EXISTS (SELECT 1 FROM parties_fts WHERE rowid = NEW.statement_id) BEGIN
	DELETE FROM parties_fts WHERE rowid = NEW.statement_id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.statement_id;
END;
