-- Index statements by the message that made them (each submission looks up earlier statements from its Message-ID)
-- Without it that look-up (DESIGN 5.1) read every statement, inside the write lock.
CREATE INDEX IF NOT EXISTS statements_message_id ON statements(message_id);
