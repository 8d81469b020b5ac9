-- A copy made of shared parts (0015) keeps its own values, a few hundred
-- bytes, in its outbox row instead of a row of outbox_raw: a notification's
-- dozen copies were a dozen more rows and a few more pages written inside
-- the write lock. shared_id names the parts, fill holds the copy's values
-- (store.encodeParts). A row without shared_id keeps its bytes in
-- outbox_raw as before: a mail kept whole, and every copy queued before
-- this migration (whose outbox_raw row names its parts).
ALTER TABLE outbox ADD COLUMN shared_id INTEGER REFERENCES outbox_shared(id);
ALTER TABLE outbox ADD COLUMN fill BLOB;
