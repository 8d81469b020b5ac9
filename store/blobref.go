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
//   - "base64": the alphabet in lines, padding only at the end (RFC 2045
//     6.8); CR, LF, and spaces and tabs at the end of a line are ignored.
//   - "quoted-printable": mime/quotedprintable (soft line breaks, trailing
//     white space removed; RFC 2045 6.7).
func DecodeTransfer(encoding string, b []byte) ([]byte, error) {
	if encoding == "" {
		return b, nil
	}
	out := make([]byte, 0, base64.StdEncoding.DecodedLen(len(b)))
	err := decodeTransfer(encoding, b, func(p []byte) error {
		out = append(out, p...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodesTo reports whether DecodeTransfer(encoding, b) gives exactly want,
// without holding the decoded bytes: what ingest checks, before the write
// transaction, for a reference to be stored (a 24 MB attachment would
// otherwise be held a second time).
func DecodesTo(encoding string, b, want []byte) bool {
	if encoding == "" {
		return bytes.Equal(b, want)
	}
	errDiffers := errors.New("differs")
	pos := 0
	err := decodeTransfer(encoding, b, func(p []byte) error {
		if len(p) > len(want)-pos || !bytes.Equal(p, want[pos:pos+len(p)]) {
			return errDiffers
		}
		pos += len(p)
		return nil
	})
	return err == nil && pos == len(want)
}

// decodeTransfer decodes b (encoding "base64" or "quoted-printable") and
// hands the decoded bytes to emit a piece at a time, in order: the one
// decoder of DecodeTransfer and DecodesTo.
func decodeTransfer(encoding string, b []byte, emit func([]byte) error) error {
	switch encoding {
	case "base64":
		end := len(b)
		for end > 0 && bytes.IndexByte([]byte("=\r\n \t"), b[end-1]) >= 0 {
			end--
		}
		if err := decodeBase64Lines(b[:end], emit); err != nil {
			return fmt.Errorf("base64: %w (%v)", ErrNotDecodable, err)
		}
		return nil
	case "quoted-printable":
		r := quotedprintable.NewReader(bytes.NewReader(b))
		var buf [32 << 10]byte
		for {
			n, err := r.Read(buf[:])
			if n > 0 {
				if err := emit(buf[:n]); err != nil {
					return err
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("quoted-printable: %w (%v)", ErrNotDecodable, err)
			}
		}
	}
	return fmt.Errorf("encoding %q: %w", encoding, ErrNotDecodable)
}

// decodeBase64Lines decodes base64 written in lines, its padding trimmed,
// handing emit the bytes of 4096 characters at a time: CR, LF, and spaces
// and tabs at the end of a line are skipped; anything else outside the
// alphabet is an error, as is a last quantum of one character. The
// characters of a chunk, a multiple of 4, decode alike alone or with the
// rest.
func decodeBase64Lines(b []byte, emit func([]byte) error) error {
	var chunk [4096]byte
	var out [3072]byte
	k := 0
	flush := func(final bool) error {
		m := k
		if !final {
			m = k &^ 3
		}
		d, err := base64.RawStdEncoding.Decode(out[:], chunk[:m])
		if err != nil {
			return err
		}
		k = copy(chunk[:], chunk[m:k])
		if d == 0 {
			return nil
		}
		return emit(out[:d])
	}
	put := func(seg []byte) error {
		for len(seg) > 0 {
			c := copy(chunk[k:], seg)
			k += c
			seg = seg[c:]
			if k == len(chunk) {
				if err := flush(false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		for len(line) > 0 && (line[len(line)-1] == '\r' || line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
			line = line[:len(line)-1]
		}
		// A CR inside a line: Decode would skip it, but it would count in
		// the chunk's multiple of 4.
		for {
			i := bytes.IndexByte(line, '\r')
			if i < 0 {
				break
			}
			if err := put(line[:i]); err != nil {
				return err
			}
			line = line[i+1:]
		}
		if err := put(line); err != nil {
			return err
		}
	}
	return flush(true)
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
