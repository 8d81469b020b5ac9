package ingest

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"liaisond/ingest/parse"
	"liaisond/store"
)

// attachmentMail is a message with one base64 attachment whose body, as
// sent, is enc.
func attachmentMail(enc string) []byte {
	return []byte("From: a@itu.example\r\nTo: statements@liaison.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nText.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + enc + "\r\n--b--\r\n")
}

// lines is base64 of data in lines of 76 characters, each ending with eol.
func lines(data []byte, eol string) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 0 {
		l := min(76, len(s))
		b.WriteString(s[:l] + eol)
		s = s[l:]
	}
	return strings.TrimSuffix(b.String(), eol)
}

// Parsing with the store's decoder changes nothing but the spans it
// marks decoded; an attachment is a reference exactly when the store's
// decoder gives its bytes from its range of the message; one it refuses
// is stored as bytes, as the parser's tolerant decoding made them.
func TestStoredAttachments(t *testing.T) {
	pdf := bytes.Repeat([]byte("%PDF-1.4 liaison statement\n"), 100)
	half := pdf[:1000] // 1000 bytes: its base64 ends in padding
	cases := map[string]struct {
		raw   []byte
		want  []byte
		byRef bool
	}{
		"CRLF lines":                   {attachmentMail(lines(pdf, "\r\n")), pdf, true},
		"LF lines":                     {attachmentMail(lines(pdf, "\n")), pdf, true},
		"blanks at the end of lines":   {attachmentMail(lines(pdf, " \r\n")), pdf, true},
		"junk the parser skips":        {attachmentMail(strings.Replace(lines(pdf, "\r\n"), "\r\n", "\r\n*", 3)), pdf, false},
		"two padded blocks":            {attachmentMail(lines(half, "\r\n") + "\r\n" + lines(half, "\r\n")), append(bytes.Clone(half), half...), false},
		"a space inside a line":        {attachmentMail(strings.Replace(lines(pdf, "\r\n"), "\r\n", " \r\n", 1)[:200] + " " + strings.Replace(lines(pdf, "\r\n"), "\r\n", " \r\n", 1)[200:]), pdf, false},
		"a small attachment (not cut)": {attachmentMail(lines(pdf[:100], "\r\n")), pdf[:100], false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := parse.ParseMessageWith(tc.raw, store.DecodeTransfer)
			if err != nil || len(m.Attachments) != 1 {
				t.Fatalf("parse: %v, %d attachments", err, len(m.Attachments))
			}
			if !bytes.Equal(m.Attachments[0].Data, tc.want) {
				t.Fatalf("attachment: %d bytes, want the %d sent", len(m.Attachments[0].Data), len(tc.want))
			}
			atts := storedAttachments(tc.raw, m.Attachments)
			a := atts[0]
			if a.SHA256 != store.SHA256Hex(tc.want) || (a.Ref != nil) != tc.byRef {
				t.Fatalf("stored: sha256 %s, reference %+v; want by reference %v", a.SHA256, a.Ref, tc.byRef)
			}
			if a.Ref != nil {
				got, err := store.DecodeTransfer(a.Ref.Encoding, tc.raw[a.Ref.Offset:a.Ref.Offset+a.Ref.Length])
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Errorf("the reference decodes to %d bytes (%v), want the %d sent", len(got), err, len(tc.want))
				}
			}
		})
	}
}

// On the mail fixtures, parsing with the store's decoder gives what
// parsing without it gives, and every span it marks decoded decodes, with
// the store's decoder, to the attachment's bytes.
func TestParseWithStoreDecoderFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "mail", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v, %d", err, len(files))
	}
	decoded := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plain, err1 := parse.ParseMessage(raw)
		with, err2 := parse.ParseMessageWith(raw, store.DecodeTransfer)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s: errors %v, %v", f, err1, err2)
		}
		if err1 != nil {
			continue
		}
		for i := range with.Attachments {
			at := &with.Attachments[i].Encoded
			if at.Decoded {
				decoded++
				got, err := store.DecodeTransfer(at.Encoding, raw[at.Offset:at.Offset+at.Length])
				if err != nil || !bytes.Equal(got, with.Attachments[i].Data) {
					t.Errorf("%s: attachment %d: the span decodes otherwise (%v)", f, i, err)
				}
			}
			at.Decoded = false
		}
		if !reflect.DeepEqual(plain, with) {
			t.Errorf("%s: parsed otherwise with the store's decoder", filepath.Base(f))
		}
	}
	if decoded == 0 {
		t.Error("no fixture attachment was decoded by the store's decoder")
	}
}
