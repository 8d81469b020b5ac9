-- Real mail (issue 10): a sender that reuses a Message-ID for other content
-- is found by that Message-ID (DESIGN 5.1). Identities stored by earlier
-- versions stay as they are; ingest checks the old form too.
CREATE INDEX IF NOT EXISTS messages_message_id ON messages(message_id);
