-- Commands by mail (DESIGN 6, 7): bounces are matched to the mail they
-- answer by Message-ID; error and help replies are rate-limited per address;
-- new statements are rate-limited per sender.
CREATE INDEX outbox_message_id ON outbox(message_id);
CREATE INDEX outbox_rcpt ON outbox(rcpt, created_at);
CREATE INDEX statements_submitter ON statements(submitter, received_at);
CREATE INDEX statements_received ON statements(received_at);
