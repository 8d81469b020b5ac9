package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"path/filepath"
	"strings"
	"testing"

	"liaisond/internal/benchmail"
)

// attrefMail is a submission from sender with one attached part: its
// header lines (Content-Type and the rest) and its body as sent.
func attrefMail(sender, title, partHeader, partBody string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Rapporteur <%s>\r\nTo: statements@liaison.example\r\nSubject: %s\r\n", sender, title)
	fmt.Fprintf(&b, "Message-ID: <%s@itu.example>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n", strings.ReplaceAll(title, " ", "-"))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: %s\r\nPurpose: For Information\r\n\r\nPlease find the document attached.\r\n", title)
	b.WriteString("--xx\r\n" + partHeader + "\r\n\r\n" + partBody + "\r\n--xx--\r\n")
	return b.String()
}

// TestAttachmentByReferenceEndToEnd: attachments sent over SMTP come back
// from their page byte for byte, with the sha256 `show -json` gives, whether
// the store kept them as a reference into the stored message (base64,
// quoted-printable, 8bit; with liaisond's Authentication-Results prepended
// to what it stores) or as bytes (an encoding the parser tolerates but the
// store's strict decoder does not, an attached message); a second
// statement with the same PDF stores it no second time.
func TestAttachmentByReferenceEndToEnd(t *testing.T) {
	world := newDKIMWorld(t) // no DKIM records: the Authentication-Results say none, the test never asks the network
	d := startDaemon(t, "", "[trust]\nauthserv_id = \""+ourAuthserv+"\"\nrelays = []\nverify_dkim = true\n",
		func(ctx context.Context) context.Context { return withLookupTXT(ctx, world.lookupTXT) })
	rng := rand.New(rand.NewChaCha8([32]byte{11}))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	pdf := append([]byte("%PDF-1.7\n"), random(40<<10)...)
	text := []byte(strings.Repeat("Commentaires de Genève sur la Recommandation G.709, ligne assez longue pour être coupée par l'encodage.\r\n", 30))
	half := append([]byte("%PDF-1.4\n"), random(3001)...) // 3010 bytes: each block ends in padding
	blocks := benchmail.Base64Lines(half) + benchmail.Base64Lines(half)
	if !strings.Contains(blocks, "=\r\n") {
		t.Fatal("the first base64 block ends in no padding")
	}
	var qp bytes.Buffer
	qw := quotedprintable.NewWriter(&qp)
	qw.Write(text)
	qw.Close()
	inner := "From: chair@itu.example\r\nSubject: the earlier LS\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"in\"\r\n\r\n" +
		"--in\r\nContent-Type: text/plain\r\n\r\nThe earlier statement.\r\n--in\r\nContent-Type: application/pdf; name=\"old.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		benchmail.Base64Lines(pdf[:2000]) + "--in--\r\n"

	for i, tc := range []struct {
		name       string
		partHeader string
		partBody   string
		want       []byte
		byRef      bool
		encoding   string
	}{
		{"PDF in base64", "Content-Type: application/pdf; name=\"ls.pdf\"\r\nContent-Transfer-Encoding: base64",
			strings.TrimSuffix(benchmail.Base64Lines(pdf), "\r\n"), pdf, true, "base64"},
		{"text in quoted-printable", "Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\nContent-Transfer-Encoding: quoted-printable",
			qp.String(), text, true, "quoted-printable"},
		{"text in 8bit", "Content-Type: text/plain; charset=utf-8; name=\"notes8.txt\"\r\nContent-Disposition: attachment; filename=\"notes8.txt\"\r\nContent-Transfer-Encoding: 8bit",
			strings.TrimSuffix(string(text), "\r\n"), bytes.TrimSuffix(text, []byte("\r\n")), true, ""},
		{"base64 in two padded blocks", "Content-Type: application/pdf; name=\"blocks.pdf\"\r\nContent-Transfer-Encoding: base64",
			strings.TrimSuffix(blocks, "\r\n"), append(append([]byte(nil), half...), half...), false, ""},
		{"attached message", "Content-Type: message/rfc822; name=\"earlier.eml\"\r\nContent-Disposition: attachment; filename=\"earlier.eml\"",
			strings.TrimSuffix(inner, "\r\n"), []byte(strings.TrimSuffix(inner, "\r\n")), false, ""},
		{"the same PDF again", "Content-Type: application/pdf; name=\"again.pdf\"\r\nContent-Transfer-Encoding: base64",
			strings.TrimSuffix(benchmail.Base64Lines(pdf), "\r\n"), pdf, true, "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := int64(i + 1)
			sender := fmt.Sprintf("rapp%d@itu.example", i)
			if err := sendSMTP(d.smtpAddr, sender, []string{"statements@liaison.example"},
				attrefMail(sender, fmt.Sprintf("LS attref %d", i), tc.partHeader, tc.partBody)); err != nil {
				t.Fatalf("submission refused: %v", err)
			}
			st := d.show(t, id)
			if len(st.Attachments) != 1 {
				t.Fatalf("LS-%d has attachments %+v, want 1", id, st.Attachments)
			}
			a := st.Attachments[0]
			sum := sha256.Sum256(tc.want)
			if a.SHA256 != hex.EncodeToString(sum[:]) || a.Size != int64(len(tc.want)) {
				t.Errorf("show -json: %d bytes, sha256 %s; want %d bytes, %x", a.Size, a.SHA256, len(tc.want), sum)
			}
			resp, body := httpGet(t, fmt.Sprintf("http://%s/ls/%d/att/1/%s", d.httpAddr, id, a.Name))
			got := sha256.Sum256([]byte(body))
			if resp.StatusCode != 200 || !bytes.Equal([]byte(body), tc.want) || got != sum {
				t.Errorf("download: %s, %d bytes, sha256 %x; want the %d bytes sent, %x", resp.Status, len(body), got, len(tc.want), sum)
			}

			db, err := sql.Open("sqlite3", "file:"+filepath.Join(d.dir, "data", "liaisond.db")+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var blobs, dataLen int
			var refMsg sql.NullInt64
			var refEncoding sql.NullString
			err = db.QueryRow(`SELECT count(*) OVER (), length(data), ref_message, ref_encoding FROM blobs WHERE sha256 = ?`, a.SHA256).
				Scan(&blobs, &dataLen, &refMsg, &refEncoding)
			if err != nil {
				t.Fatal(err)
			}
			if blobs != 1 || refMsg.Valid != tc.byRef || (tc.byRef && (dataLen != 0 || refEncoding.String != tc.encoding)) || (!tc.byRef && dataLen != len(tc.want)) {
				t.Errorf("stored: %d blobs, %d bytes, reference to message %v in %q; want by reference %v in %q",
					blobs, dataLen, refMsg, refEncoding.String, tc.byRef, tc.encoding)
			}
			if tc.byRef {
				var raw []byte
				if err := db.QueryRow(`SELECT data FROM message_raw WHERE id = ?`, refMsg.Int64).Scan(&raw); err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(raw, []byte("Authentication-Results: "+ourAuthserv)) {
					t.Errorf("the stored message does not start with liaisond's Authentication-Results: %.80q", raw)
				}
			}
		})
	}
}
