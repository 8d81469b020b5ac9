-- A blob may be kept as a reference into the raw bytes of the message that brought it (its transfer-encoded range), with data empty, instead of a second copy of the attachment's bytes.

-- ref_message is the message, ref_offset and ref_length the range of its
-- raw bytes, ref_encoding the Content-Transfer-Encoding to undo
-- ("base64", "quoted-printable", "" for the bytes as they are);
-- store.Tx.AttachmentData decodes them (store.DecodeTransfer) and checks
-- the result against size and sha256. NULL ref_message: the bytes are in
-- data, or in pieces when larger than a piece, as before (every blob
-- stored before this migration).
ALTER TABLE blobs ADD COLUMN ref_message INTEGER REFERENCES messages(id);
ALTER TABLE blobs ADD COLUMN ref_offset INTEGER;
ALTER TABLE blobs ADD COLUMN ref_length INTEGER;
ALTER TABLE blobs ADD COLUMN ref_encoding TEXT;
