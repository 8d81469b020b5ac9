-- The public web display (DESIGN 8): full-text search and the indexes its lists use.

-- Full-text search over what a reader looks for: title and body (the text,
-- indexed once per statement) and the parties (the bodies, from and to, by
-- name and id; submitter, assignee and contacts), small and refreshed whenever
-- an addressee or contact changes. A search word may match either table.
-- FTS4, not FTS5: go-sqlite3 compiles FTS4 in by default and FTS5 only with a
-- build tag, so `go install` gives a binary that can search (0008 converts
-- databases an FTS5 build made). The tables keep their own copy of the text.
-- Triggers keep both in step with every change, whoever makes it.
CREATE VIRTUAL TABLE statements_fts USING fts4(
	title, body,
	tokenize=unicode61 "remove_diacritics=2"
);
CREATE VIRTUAL TABLE parties_fts USING fts4(
	bodies, contacts,
	tokenize=unicode61 "remove_diacritics=2"
);

-- parties_fts_text is the one place that says what a statement's parties are.
CREATE VIEW parties_fts_text AS
SELECT s.id AS id,
	s.from_name || ' ' || s.from_body || ' ' ||
		coalesce((SELECT group_concat(t.name || ' ' || t.body_id, ' ') FROM statement_to t WHERE t.statement_id = s.id), '') AS bodies,
	s.submitter || ' ' || s.assignee || ' ' ||
		coalesce((SELECT group_concat(c.name || ' ' || c.addr, ' ') FROM contacts c WHERE c.statement_id = s.id), '') AS contacts
FROM statements s;

INSERT INTO statements_fts (rowid, title, body) SELECT id, title, body FROM statements;
INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text;

CREATE TRIGGER statements_fts_ins AFTER INSERT ON statements BEGIN
	INSERT INTO statements_fts (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.id;
END;
CREATE TRIGGER statements_fts_upd AFTER UPDATE OF title, body ON statements BEGIN
	DELETE FROM statements_fts WHERE rowid = OLD.id;
	INSERT INTO statements_fts (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
CREATE TRIGGER parties_fts_upd AFTER UPDATE OF from_name, from_body, submitter, assignee ON statements BEGIN
	DELETE FROM parties_fts WHERE rowid = OLD.id;
	INSERT INTO parties_fts (rowid, bodies, contacts) SELECT id, bodies, contacts FROM parties_fts_text WHERE id = NEW.id;
END;
CREATE TRIGGER statements_fts_del AFTER DELETE ON statements BEGIN
	DELETE FROM statements_fts WHERE rowid = OLD.id;
	DELETE FROM parties_fts WHERE rowid = OLD.id;
END;

CREATE TRIGGER parties_fts_to_ins AFTER INSERT ON statement_to BEGIN
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
CREATE TRIGGER parties_fts_contacts_ins AFTER INSERT ON contacts BEGIN
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

-- Lists: by purpose and deadline (/outstanding, /deadlines.ics), by body.
CREATE INDEX statements_open ON statements(state, purpose, deadline);
CREATE INDEX statements_from ON statements(from_body);
CREATE INDEX statement_to_body ON statement_to(body_id);
CREATE INDEX outbox_kind ON outbox(kind, state);
