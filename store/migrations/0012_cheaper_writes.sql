-- Cheaper writes per submission: parties indexed once per new statement, no FTS ranking tables, receipts-only recipient index.

-- 1. Index a new statement's parties once (InsertStatement, after its addressees and contacts), not once per row inserted.
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

-- 2. The search index without the tables FTS4 keeps for ranking (%_docsize,
-- %_stat: matchinfo's l, n and a), which no query uses (search only
-- matches): two pages fewer written per transaction, each. Both tables are
-- made anew and filled from the statements, as 0008 did; the triggers
-- refer to them by name.
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
