-- The answer rate's count of staged answers (0025) read each matching
-- staged row to check its kind, and answer_kind sits after the row's mails
-- (a column added to the table): every match followed the blob's overflow
-- pages, and a flood made the count six times dearer than outbox's own.
-- With the kind in the index, the count reads the index alone.
DROP INDEX outbox_staged_answers;
CREATE INDEX outbox_staged_answers ON outbox_staged(answer_rcpt, answer_at, answer_kind) WHERE answer_rcpt IS NOT NULL;
