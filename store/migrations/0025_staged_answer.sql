-- A submission's receipt is staged with its notification's copies (0024),
-- in the same row, instead of being a row of outbox of its own (with its
-- four index entries and its bytes in outbox_raw). The answer rate
-- (DESIGN 7) counts the mails of store.AnswerKinds queued for an address in
-- the last hour: a staged row names the one answer it holds, and this
-- index lets the count find it as it finds those of outbox (outbox_rcpt).
ALTER TABLE outbox_staged ADD COLUMN answer_rcpt TEXT;
ALTER TABLE outbox_staged ADD COLUMN answer_kind TEXT;
ALTER TABLE outbox_staged ADD COLUMN answer_at TEXT;
CREATE INDEX outbox_staged_answers ON outbox_staged(answer_rcpt, answer_at) WHERE answer_rcpt IS NOT NULL;
