-- The copies of one mail keep their From, To, Cc and Subject once: in the first copy's outbox row, which the others name (headers_of).

-- A notification's dozen personal copies have the same headers but for
-- the recipient and the Message-ID; their To and Cc (a few hundred bytes of
-- JSON) and Subject were stored a dozen times, a page of outbox rows per
-- new statement inside the write lock. A row whose headers_of is set has
-- empty header columns and reads them from that row (store.outboxColumns);
-- a row without (every row stored before) holds its own, as before.
-- Header columns are never changed once queued.
ALTER TABLE outbox ADD COLUMN headers_of INTEGER REFERENCES outbox(id);
