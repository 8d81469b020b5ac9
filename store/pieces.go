package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// pieceSize is the size of the pieces large contents are kept in (see
// migration 0009); smaller contents stay in their row.
const pieceSize = 1 << 20

// putPieces stores data under key in pieces of pieceSize, each bound and
// copied by SQLite on its own.
func (t *Tx) putPieces(key string, data []byte) error {
	for n, off := 0, 0; off < len(data); n, off = n+1, off+pieceSize {
		end := min(off+pieceSize, len(data))
		if _, err := t.exec(`INSERT INTO pieces (key, n, data) VALUES (?,?,?) ON CONFLICT(key, n) DO NOTHING`, key, n, data[off:end]); err != nil {
			return fmt.Errorf("store piece %d of %s: %w", n, key, err)
		}
	}
	return nil
}

// readPieces reads back the size bytes stored under key, into one buffer.
func (t *Tx) readPieces(key string, size int64) ([]byte, error) {
	rows, err := t.query(`SELECT data FROM pieces WHERE key = ? ORDER BY n`, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rows.Close()
	out := make([]byte, 0, size)
	for rows.Next() {
		var b sql.RawBytes
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		out = append(out, b...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("read %s: %d bytes stored of %d", key, len(out), size)
	}
	return out, nil
}

func messageKey(id int64) string { return "msg:" + strconv.FormatInt(id, 10) }

// putRaw stores the raw bytes of message id that do not stay in its row:
// up to a piece in message_raw, keyed by the id alone (0019), a larger
// message in pieces.
func (t *Tx) putRaw(id int64, raw []byte) error {
	if len(raw) > pieceSize {
		return t.putPieces(messageKey(id), raw)
	}
	if _, err := t.exec(`INSERT INTO message_raw (id, data) VALUES (?,?)`, id, raw); err != nil {
		return fmt.Errorf("store the bytes of message %d: %w", id, err)
	}
	return nil
}

// readRaw reads back the size bytes of message id that putRaw stored (or,
// for a message stored before 0019, that are in pieces).
func (t *Tx) readRaw(id int64, size int64) ([]byte, error) {
	if size <= pieceSize {
		var raw []byte
		err := t.queryRow(`SELECT data FROM message_raw WHERE id = ?`, id).Scan(&raw)
		if err == nil {
			if int64(len(raw)) != size {
				return nil, fmt.Errorf("read message %d: %d bytes stored of %d", id, len(raw), size)
			}
			return raw, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read message %d: %w", id, err)
		}
	}
	return t.readPieces(messageKey(id), size)
}
