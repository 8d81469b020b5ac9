-- Events caused by mail that did not authenticate (a refused command from a
-- stranger, a forged token) are kept for the operator and never shown on
-- the public pages, feeds or API (DESIGN 6).
ALTER TABLE events ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
