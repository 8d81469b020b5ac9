-- The parties' search index becomes an FTS3 table: FTS4 rewrote its %_stat row (the document totals, for ranking) in every transaction that indexed a statement, and no query ranks.

-- FTS4 keeps the number of documents and of tokens in parties_fts_stat and
-- updates it with every insert, a page each transaction inside the write
-- lock; only ranking (matchinfo) reads it, and search only matches. FTS3
-- has the same tokenizer, query syntax (phrases, prefixes) and triggers,
-- without that table. statements_fts stays FTS4: FTS3 has no external
-- content (0017). The table is made anew and filled from the statements,
-- as 0014 did; the triggers refer to it by name.
DROP TABLE parties_fts;
CREATE VIRTUAL TABLE parties_fts USING fts3(
	bodies, contacts,
	tokenize=unicode61 "remove_diacritics=2"
);
INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text;
