package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
)

// An attachment of a received statement is already in the store once, in
// its message's raw bytes, transfer-encoded. Storing its decoded bytes
// again in blobs was a sixth of a submission's WAL frames and, with the
// hashing, a tenth of a millisecond of the single writer's time. Such an
// attachment's blob is kept as a reference instead (migration 0022): the
// message, the range of its raw bytes and their encoding, decoded by
// DecodeTransfer when the attachment is read.
//
// The store never serves wrong bytes: the caller (ingest, outside the write
// lock) makes a reference only after decoding the range of the raw message
// it stores with DecodeTransfer gave exactly the attachment's bytes, and a
// read checks the decoded bytes against the blob's size and sha256 before
// serving them.

// RawRange is where an attachment's content lies in the raw bytes of the
// message its statement came with (Statement.MessageID), and the
// Content-Transfer-Encoding to undo (DecodeTransfer).
type RawRange struct {
	Offset, Length int64
	Encoding       string // "base64", "quoted-printable", "" (bytes as they are)
}

// ErrNotDecodable is returned by DecodeTransfer for an encoding it does not
// decode exactly or input that is not clean in that encoding.
var ErrNotDecodable = errors.New("not decodable exactly")

// DecodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 6) strictly:
// it is the decoder of blobs kept by reference, so it decodes clean input
// and refuses the rest rather than guess (the tolerant decoding of damaged
// mail is the parser's; such an attachment is stored as bytes).
//   - "" (7bit, 8bit, binary): b as it is.
//   - "base64": the alphabet in lines; CR, LF, spaces and tabs are ignored,
//     padding only at the end (RFC 2045 6.8).
//   - "quoted-printable": mime/quotedprintable (soft line breaks, trailing
//     white space removed; RFC 2045 6.7).
func DecodeTransfer(encoding string, b []byte) ([]byte, error) {
	switch encoding {
	case "":
		return b, nil
	case "base64":
		end := len(b)
		for end > 0 && bytes.IndexByte([]byte("=\r\n \t"), b[end-1]) >= 0 {
			end--
		}
		b = b[:end]
		if bytes.ContainsAny(b, " \t") {
			b = bytes.Map(func(r rune) rune {
				if r == ' ' || r == '\t' {
					return -1
				}
				return r
			}, b)
		}
		// RawStdEncoding skips CR and LF; anything else outside the
		// alphabet, "=" included, is an error.
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
		n, err := base64.RawStdEncoding.Decode(out, b)
		if err != nil {
			return nil, fmt.Errorf("base64: %w (%v)", ErrNotDecodable, err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			return nil, fmt.Errorf("quoted-printable: %w (%v)", ErrNotDecodable, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("encoding %q: %w", encoding, ErrNotDecodable)
}

// SHA256Hex is the hex sha256 of data, as blobs are keyed.
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// readBlobRef reads a blob kept as a reference: the range of message
// msgID's raw bytes, decoded, checked against the blob's size and sha256.
func (t *Tx) readBlobRef(sum string, size, msgID int64, r RawRange) ([]byte, error) {
	m, err := t.Message(msgID)
	if err != nil {
		return nil, fmt.Errorf("reading the message blob %s refers to: %w", sum, err)
	}
	if r.Offset < 0 || r.Length < 0 || r.Offset+r.Length > int64(len(m.Raw)) {
		return nil, fmt.Errorf("blob %s: range %d+%d outside message %d (%d bytes)", sum, r.Offset, r.Length, msgID, len(m.Raw))
	}
	data, err := DecodeTransfer(r.Encoding, m.Raw[r.Offset:r.Offset+r.Length])
	if err != nil {
		return nil, fmt.Errorf("blob %s from message %d: %w", sum, msgID, err)
	}
	if int64(len(data)) != size || SHA256Hex(data) != sum {
		return nil, fmt.Errorf("blob %s from message %d: the decoded bytes are not the attachment's", sum, msgID)
	}
	if r.Encoding == "" {
		data = bytes.Clone(data) // not a slice of the whole message
	}
	return data, nil
}
