-- Full-text search moves to FTS4 (compiled into every go-sqlite3 build; FTS5
-- needs a build tag). A database made by an FTS5 build had its FTS5 tables
-- removed before this runs (store.dropOrphanFTS5); here both tables are made anew
-- and filled from the statements. Triggers refer to the tables by name and
-- keep working. On a database 0002 already made with FTS4 this rebuilds the
-- same index.
DROP TABLE IF EXISTS statements_fts;
DROP TABLE IF EXISTS parties_fts;
CREATE VIRTUAL TABLE statements_fts USING fts4(
	title, body,
	tokenize=unicode61 "remove_diacritics=2"
);
CREATE VIRTUAL TABLE parties_fts USING fts4(
	bodies, contacts,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO statements_fts (rowid, title, body) SELECT id, title, body FROM statements;
INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text;
