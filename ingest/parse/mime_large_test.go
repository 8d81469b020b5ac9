package parse

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"mime/quotedprintable"
	"reflect"
	"strings"
	"testing"
)

// Large bodies are kept out of enmime (elide); what the parser finds must
// be what it finds when enmime reads everything.
func TestParseLargeBodiesSameAsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	bin := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	b64 := func(data []byte, nl string) string {
		enc := base64.StdEncoding.EncodeToString(data)
		var b strings.Builder
		for len(enc) > 76 {
			b.WriteString(enc[:76] + nl)
			enc = enc[76:]
		}
		b.WriteString(enc + nl)
		return b.String()
	}
	text := func(n int, nl string) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString("Une ligne de texte ordinaire, assez longue pour remplir une page. Fin." + nl)
		}
		return b.String()
	}
	qp := func(s string) string {
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	head := "From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: Large\r\nMessage-ID: <large@itu.example>\r\nMIME-Version: 1.0\r\n"
	fields := "From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: Large\r\n\r\nBody text.\r\n"
	pdf := bin(1500 << 10)
	cases := map[string]string{
		"base64 attachment": head + "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\n" + fields +
			"--xx\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(pdf, "\r\n") + "--xx--\r\n",
		"LF line ends, two attachments, preamble and epilogue": strings.ReplaceAll(head+"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n\r\n"+fields+
			"--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"+b64(pdf, "\r\n")+
			"--b1\r\nContent-Type: application/octet-stream; name=\"b.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"+b64(bin(1200<<10), "\r\n")+"--b1--\r\nepilogue\r\n", "\r\n", "\n"),
		"large text attachment, 8bit": head + "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\n" + fields +
			"--xx\r\nContent-Type: text/plain; charset=utf-8; name=\"minutes.txt\"\r\nContent-Disposition: attachment; filename=\"minutes.txt\"\r\n\r\n" + text(1200<<10, "\r\n") + "--xx--\r\n",
		"large quoted-printable body": head + "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			qp(strings.ReplaceAll(fields+text(1100<<10, "\r\n"), "ordinaire", "ordinaire é")) + "\r\n--xx--\r\n",
		"nested alternative with large HTML, last part unclosed": head + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\n" + fields +
			"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + text(1100<<10, "</p>\r\n<p>") + "</p></body></html>\r\n--inner--\r\n" +
			"--outer\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(pdf, "\r\n"),
		"single part":        head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + fields + text(1100<<10, "\r\n"),
		"single base64 part": head + "Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(pdf, "\r\n"),
		"attached message": head + "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\n\r\n" + fields +
			"--xx\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n" + text(1100<<10, "\r\n") + "--xx--\r\n",
		"damaged base64": head + "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\n\r\n" + fields +
			"--xx\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + strings.Replace(b64(pdf, "\r\n"), "A", "*", 50) + "--xx--\r\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if skeleton, cut := elide([]byte(raw)); len(cut) == 0 && name != "attached message" {
				t.Fatalf("nothing elided (%d bytes of %d)", len(skeleton), len(raw))
			}
			got, err := ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			want, err := parseMessage([]byte(raw), true)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d attachments, text %d bytes, problems %q", len(got.Attachments), len(got.Text), got.Problems)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parsed differently:\ngot  text %d bytes, %d attachments, problems %q\nwant text %d bytes, %d attachments, problems %q",
					len(got.Text), len(got.Attachments), got.Problems, len(want.Text), len(want.Attachments), want.Problems)
				for i := range min(len(got.Attachments), len(want.Attachments)) {
					g, w := got.Attachments[i], want.Attachments[i]
					if g.Name != w.Name || g.ContentType != w.ContentType || !bytes.Equal(g.Data, w.Data) {
						t.Errorf("attachment %d: got %s %s %d bytes, want %s %s %d bytes", i, g.Name, g.ContentType, len(g.Data), w.Name, w.ContentType, len(w.Data))
					}
				}
			}
		})
	}
}
