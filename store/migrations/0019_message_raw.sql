-- A received message's raw bytes, when more than fit in its row and no more than one piece (1 MB), are kept in message_raw under the message's id: one b-tree written per message instead of two (pieces and its index on key, n).

-- Every submission's raw message (most are tens of KB) went to pieces,
-- whose UNIQUE (key, n) index took one more page per message inside the
-- write lock. Here the message's id is the row's key: nothing else to
-- index. A message larger than a piece still goes to pieces (0009), as do
-- the messages stored before this migration, which stay where they are
-- (store.Tx.Message reads both).
CREATE TABLE message_raw (
	id   INTEGER PRIMARY KEY REFERENCES messages(id),
	data BLOB NOT NULL
);
