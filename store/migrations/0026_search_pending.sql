-- A new statement is indexed for search (search_fts, 0017) after its
-- transaction, not in it: indexing wrote about four pages of a
-- submission's 47 inside the write lock (the FTS segment, its directory and
-- a copy of the text) and a fifth of its time there. InsertStatement now
-- names the statement here; the Store indexes what is named here in a
-- transaction of its own, many statements at once, when no message is
-- being taken in or at the latest a second later, and before any search
-- (store.IndexPending), so a search always finds every statement.
CREATE TABLE search_pending (
	id INTEGER PRIMARY KEY -- a statement not yet in search_fts
);
