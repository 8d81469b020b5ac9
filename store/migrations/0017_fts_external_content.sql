-- The search index reads a statement's title and body from the statements table (FTS4 external content) instead of keeping a second copy of them.

-- statements_fts kept its own copy of every title and body (its %_content
-- table): a submission's text written twice, two or three pages more per
-- new statement inside the write lock. Search only matches (it reads no
-- column of statements_fts), and FTS4 reads the text back from the
-- statements row only to remove a statement's words from the index. So
-- the index is made anew with content="statements" and filled from the
-- statements ('rebuild'); its rowid is the statement's id, its columns the
-- statement's title and body.
--
-- FTS4 finds the words to remove by reading the row as it still is: the
-- index entry of a changed or deleted statement goes BEFORE the change,
-- the new one is added after it (https://sqlite.org/fts3.html#_external_content_fts4_tables_).
-- statements_fts_ins (AFTER INSERT) stays as 0014 made it.
DROP TRIGGER statements_fts_upd;
DROP TRIGGER statements_fts_del;
DROP TABLE statements_fts;
CREATE VIRTUAL TABLE statements_fts USING fts4(
	content="statements",
	title, body,
	matchinfo=fts3,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO statements_fts (statements_fts) VALUES ('rebuild');

CREATE TRIGGER statements_fts_upd_before BEFORE UPDATE OF title, body ON statements BEGIN
	DELETE FROM statements_fts WHERE rowid = OLD.id;
END;
CREATE TRIGGER statements_fts_upd AFTER UPDATE OF title, body ON statements BEGIN
	INSERT INTO statements_fts (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
CREATE TRIGGER statements_fts_del BEFORE DELETE ON statements BEGIN
	DELETE FROM statements_fts WHERE rowid = OLD.id;
	DELETE FROM parties_fts WHERE rowid = OLD.id;
END;
