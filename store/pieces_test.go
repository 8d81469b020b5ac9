package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A large message and a large attachment are kept in pieces and read back
// whole; a change of the message's state keeps its bytes.
func TestLargeContentInPieces(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, size := range []int{pieceSize - 1, pieceSize, 3*pieceSize + 17} {
		raw := make([]byte, size)
		rand.Read(raw)
		pdf := append([]byte("%PDF"), raw[:size-100]...)
		var msgID, stID int64
		err := s.Update(ctx, func(tx *Tx) error {
			m := &Message{ReceivedAt: time.Now(), Source: "smtp", Identity: "id-" + string(rune('a'+size%26)) + time.Now().String(), SHA256: "s", Raw: raw}
			id, dup, err := tx.InsertMessage(m)
			if err != nil || dup {
				t.Fatalf("insert: %v dup=%v", err, dup)
			}
			msgID = id
			if err := tx.SetMessageState(id, "submission", MessageProcessed, ""); err != nil {
				return err
			}
			st := &Statement{MessageID: id, Direction: Incoming, State: StateOpen, Title: "t", ReceivedAt: time.Now(),
				Attachments: []Attachment{{Name: "a.pdf", ContentType: "application/pdf", Data: pdf}, {Name: "b.pdf", ContentType: "application/pdf", Data: pdf}}}
			if err := tx.InsertStatement(st); err != nil {
				return err
			}
			stID = st.ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s.View(ctx, func(tx *Tx) error {
			m, err := tx.Message(msgID)
			if err != nil || !bytes.Equal(m.Raw, raw) || m.State != MessageProcessed {
				t.Errorf("size %d: message read back: err %v, %d bytes, equal %v, state %s", size, err, len(m.Raw), bytes.Equal(m.Raw, raw), m.State)
			}
			for pos := 1; pos <= 2; pos++ {
				a, err := tx.AttachmentData(stID, pos)
				if err != nil || !bytes.Equal(a.Data, pdf) || a.Size != int64(len(pdf)) {
					t.Errorf("size %d: attachment %d read back: err %v", size, pos, err)
				}
			}
			var inRow int64
			tx.queryRow(`SELECT length(raw) FROM messages WHERE id = ?`, msgID).Scan(&inRow)
			if want := int64(size); size > messageInlineMax && inRow != 0 || size <= messageInlineMax && inRow != want {
				t.Errorf("size %d: %d bytes in the messages row", size, inRow)
			}
			return nil
		})
	}
}

// A mail of ordinary size is kept outside its messages row too (the row
// is updated at once, and an UPDATE copies the whole row), in message_raw
// (migration 0019); a small one stays inline. Both read back byte for byte after a change of state.
func TestMessageRawInlineOrPieces(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for i, size := range []int{0, 1, messageInlineMax, messageInlineMax + 1, 54 * 1024} {
		raw := make([]byte, size)
		rand.Read(raw)
		var id int64
		err := s.Update(ctx, func(tx *Tx) error {
			var err error
			id, _, err = tx.InsertMessage(&Message{ReceivedAt: t0, Source: "smtp", Identity: fmt.Sprintf("size-%d", i), SHA256: "s", Raw: raw})
			if err != nil {
				return err
			}
			return tx.SetMessageState(id, "submission", MessageProcessed, "")
		})
		if err != nil {
			t.Fatal(err)
		}
		var pieces int
		err = s.View(ctx, func(tx *Tx) error {
			m, err := tx.Message(id)
			if err != nil {
				return err
			}
			if !bytes.Equal(m.Raw, raw) || m.State != MessageProcessed {
				t.Errorf("size %d: read back %d bytes (equal %v), state %q", size, len(m.Raw), bytes.Equal(m.Raw, raw), m.State)
			}
			return tx.queryRow(`SELECT count(*) FROM message_raw WHERE id = ?`, id).Scan(&pieces)
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := size > messageInlineMax; (pieces > 0) != want {
			t.Errorf("size %d: %d rows in message_raw, want one %v", size, pieces, want)
		}
	}
}
