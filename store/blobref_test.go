package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDecodeTransfer(t *testing.T) {
	for _, tc := range []struct {
		name, encoding, in string
		want               string // when ok
		ok                 bool
	}{
		{"base64 CRLF lines", "base64", "SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n", "Hello, world!", true},
		{"base64 LF lines", "base64", "SGVsbG8s\nIHdvcmxk\nIQ==\n", "Hello, world!", true},
		{"base64 no padding", "base64", "SGVsbG8sIHdvcmxkIQ", "Hello, world!", true},
		{"base64 trailing white space on lines", "base64", "SGVsbG8s \r\nIHdvcmxk\t\r\nIQ== \r\n\r\n", "Hello, world!", true},
		{"base64 empty", "base64", "\r\n", "", true},
		{"base64 junk character", "base64", "SGVsbG8s\r\nIHdv*cmxk\r\nIQ==\r\n", "", false},
		{"base64 padding inside (concatenated blocks)", "base64", "SGk=\r\nSGk=\r\n", "", false},
		{"base64 one character quantum", "base64", "SGVsbG8sI\r\n", "", false},
		{"quoted-printable soft breaks", "quoted-printable", "Gen=C3=A8ve, a long li=\r\nne, one=\nmore", "Genève, a long line, onemore", true},
		{"quoted-printable hard breaks kept", "quoted-printable", "line one\r\nline two\nthree", "line one\r\nline two\nthree", true},
		{"quoted-printable trailing white space dropped", "quoted-printable", "word  \r\nnext\t\r\n", "word\r\nnext\r\n", true},
		{"quoted-printable equals sign", "quoted-printable", "a=3Db", "a=b", true},
		{"8bit as it is", "", "Z\xfcrich\r\n\x00binary\r\n", "Z\xfcrich\r\n\x00binary\r\n", true},
		{"unknown encoding", "uuencode", "begin 644 x", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeTransfer(tc.encoding, []byte(tc.in))
			if !tc.ok {
				if !errors.Is(err, ErrNotDecodable) {
					t.Errorf("DecodeTransfer = %q, %v; want ErrNotDecodable", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("DecodeTransfer = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// refMessage is a raw message with data attached in base64, and where the
// encoded bytes lie in it.
func refMessage(i int, data []byte) (raw []byte, at RawRange) {
	var enc strings.Builder
	b64 := base64.StdEncoding.EncodeToString(data)
	for len(b64) > 76 {
		enc.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	enc.WriteString(b64)
	head := fmt.Sprintf("Subject: %d\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n", i)
	raw = []byte(head + enc.String() + "\r\n--b--\r\n")
	return raw, RawRange{Offset: int64(len(head)), Length: int64(enc.Len()), Encoding: "base64"}
}

// insertRefStatement stores raw as a message and a statement with data
// attached by reference at at.
func insertRefStatement(t *testing.T, s *Store, i int, raw, data []byte, at RawRange) int64 {
	t.Helper()
	var stID int64
	err := s.Update(context.Background(), func(tx *Tx) error {
		msg := &Message{ReceivedAt: t0, Source: "smtp", Identity: fmt.Sprintf("ref-%d", i), SHA256: SHA256Hex(raw), Raw: raw}
		id, _, err := tx.InsertMessage(msg)
		if err != nil {
			return err
		}
		st := &Statement{MessageID: id, Direction: Incoming, State: StateOpen, From: BodyRef{Name: "x"}, Title: "T", Purpose: "action",
			Submitter: "s@x.example", Assignee: "a", ReceivedAt: t0,
			Attachments: []Attachment{{Name: "ls.pdf", ContentType: "application/pdf", Data: data, SHA256: SHA256Hex(data), Ref: &at}}}
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		stID = st.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return stID
}

// A blob kept as a reference is read back byte for byte, from a message
// in its row or in pieces; a second statement with the same content stores
// nothing more and reads the same bytes.
func TestBlobByReference(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	for _, size := range []int{40 << 10, 2 << 20} { // message_raw; pieces
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			raw1, at1 := refMessage(size, data)
			raw2, at2 := refMessage(size+1, data)
			st1 := insertRefStatement(t, s, size, raw1, data, at1)
			st2 := insertRefStatement(t, s, size+1, raw2, data, at2)
			err := s.View(ctx, func(tx *Tx) error {
				var stored, refs int
				if err := tx.queryRow(`SELECT count(*), count(ref_message) FROM blobs WHERE sha256 = ? AND length(data) = 0`, SHA256Hex(data)).Scan(&stored, &refs); err != nil {
					return err
				}
				if stored != 1 || refs != 1 {
					t.Errorf("%d blobs without bytes, %d references; want one reference", stored, refs)
				}
				var pieces int
				if err := tx.queryRow(`SELECT count(*) FROM pieces WHERE key = ?`, SHA256Hex(data)).Scan(&pieces); err != nil {
					return err
				}
				if pieces != 0 {
					t.Errorf("%d pieces of the attachment stored", pieces)
				}
				for _, id := range []int64{st1, st2} {
					a, err := tx.AttachmentData(id, 1)
					if err != nil || !bytes.Equal(a.Data, data) || a.SHA256 != SHA256Hex(data) || a.Size != int64(size) {
						t.Errorf("LS-%d attachment: %v; bytes equal %v", id, err, err == nil && bytes.Equal(a.Data, data))
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A reference that does not give the attachment's bytes (a range off by a
// byte) is an error when read, never other bytes.
func TestBlobByReferenceNeverWrongBytes(t *testing.T) {
	s := openTest(t)
	data := bytes.Repeat([]byte("liaison statement "), 100)
	for i, tc := range []struct {
		name  string
		shift func(*RawRange)
	}{
		{"range off by one", func(r *RawRange) { r.Offset++ }},
		{"range outside the message", func(r *RawRange) { r.Length += 1 << 20 }},
		{"wrong encoding", func(r *RawRange) { r.Encoding = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, at := refMessage(i, append(data, byte(i)))
			tc.shift(&at)
			id := insertRefStatement(t, s, i, raw, append(data, byte(i)), at)
			err := s.View(context.Background(), func(tx *Tx) error {
				a, err := tx.AttachmentData(id, 1)
				if err == nil {
					t.Errorf("read %d bytes through a wrong reference, want an error", len(a.Data))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Long base64 in lines of any length, with CRLF or LF, a CR inside a line
// or blanks at a line's end, decodes to the bytes encoded.
func TestDecodeTransferLongBase64(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{5}))
	for _, size := range []int{1, 2, 3, 3071, 3072, 3073, 40 << 10, 100003} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(data)
		for _, lineLen := range []int{76, 64, 73, 1, 4097} {
			for _, eol := range []string{"\r\n", "\n", " \r\n", "\t\n", "\r"} {
				var b strings.Builder
				for s := enc; len(s) > 0; {
					l := min(lineLen, len(s))
					b.WriteString(s[:l] + eol)
					s = s[l:]
				}
				got, err := DecodeTransfer("base64", []byte(b.String()))
				if err != nil || !bytes.Equal(got, data) || !DecodesTo("base64", []byte(b.String()), data) {
					t.Errorf("%d bytes in lines of %d ending %q: %v, equal %v", size, lineLen, eol, err, bytes.Equal(got, data))
				}
			}
		}
		// A character outside the alphabet past the first chunk.
		bad := []byte(enc)
		if len(bad) > 5000 {
			bad[5000] = '*'
			if _, err := DecodeTransfer("base64", bad); !errors.Is(err, ErrNotDecodable) {
				t.Errorf("%d bytes with a '*' at 5000: %v, want ErrNotDecodable", size, err)
			}
		}
	}
}

// DecodesTo says whether the encoded bytes decode to exactly the bytes
// given: none more, none fewer, none other.
func TestDecodesTo(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // past a chunk of the decoder
	enc := []byte(base64.StdEncoding.EncodeToString(data))
	other := bytes.Clone(data)
	other[10000] ^= 1
	for _, tc := range []struct {
		name, encoding string
		in, want       []byte
		ok             bool
	}{
		{"the same bytes", "base64", enc, data, true},
		{"one bit other", "base64", enc, other, false},
		{"one byte more", "base64", enc, append(bytes.Clone(data), 'x'), false},
		{"one byte fewer", "base64", enc, data[:len(data)-1], false},
		{"not decodable", "base64", append([]byte("*"), enc...), data, false},
		{"quoted-printable", "quoted-printable", []byte("Gen=C3=A8ve=\r\n!"), []byte("Genève!"), true},
		{"quoted-printable, other", "quoted-printable", []byte("Gen=C3=A8ve=\r\n!"), []byte("Geneve!"), false},
		{"8bit", "", data, data, true},
		{"8bit, other", "", data, other, false},
	} {
		if got := DecodesTo(tc.encoding, tc.in, tc.want); got != tc.ok {
			t.Errorf("%s: DecodesTo = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
