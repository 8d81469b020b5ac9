package parse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"os"
	"path/filepath"
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
			if skeleton, cut := elide([]byte(raw), scanBoundaries([]byte(raw)), largeBody); len(cut) == 0 && name != "attached message" {
				t.Fatalf("nothing elided (%d bytes of %d)", len(skeleton), len(raw))
			}
			got, err := ParseMessage([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			want, err := parseMessage([]byte(raw), -1)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d attachments, text %d bytes, problems %q", len(got.Attachments), len(got.Text), got.Problems)
			checkSpans(t, []byte(raw), got)
			if !reflect.DeepEqual(withoutSpans(got), want) {
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

// Every body is kept out of enmime when minElided is 0; what the parser
// finds must still be what it finds when enmime reads everything, on the
// mail fixtures and on delimiter-like lines where enmime and elide might
// draw the line differently.
func TestParseElidedSameAsWhole(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "mail", "*.eml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "submissions", "*.eml"))
	if len(files) == 0 || len(more) == 0 {
		t.Fatal("no fixtures")
	}
	cases := map[string]string{}
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(f)] = string(b)
	}
	head := "From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
	part := "--xx\r\nContent-Type: text/plain\r\n\r\n"
	att := "--xx\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	edge := map[string]string{
		"delimiter with trailing junk": head + part + "one\r\n--xx junk\r\nContent-Type: text/plain\r\n\r\ntwo\r\n--xx--\r\n",
		"delimiter after a space":      head + part + "one\r\n --xx\r\n\r\ntwo\r\n--xx--\r\n",
		"close delimiter with junk":    head + part + "one\r\n--xx--junk\r\nafter\r\n",
		"lone CR before delimiter":     head + part + "one\r\r\n--xx--\r\n",
		"blank line before delimiter":  head + part + "one\r\n\r\n--xx--\r\n",
		"body starts with delimiter":   head + part + "--xx\r\n\r\ntwo\r\n--xx--\r\n",
		"LF only":                      strings.ReplaceAll(head+part+"one\r\n"+att+"QUJD\r\n--xx--\r\n", "\r\n", "\n"),
		"unclosed, newline at end":     head + part + "one\r\n" + att + "QUJD\r\nQUJD\r\n",
		"unclosed, no newline at end":  head + part + "one\r\n" + att + "QUJD\r\nQUJD",
		"unclosed, short last line":    head + part + "one\r\n" + att + "QUJDQUJD\r\nQQ\r\n",
		"inner unclosed": head + "--xx\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\ntext\r\nmore\r\n" +
			"--xx\r\n\r\nafter\r\n--xx--\r\n",
		"unrelated boundary in a body": head + part + "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nnot a part\r\n\r\nstill text\r\n--zz--\r\n--xx--\r\n",
		"dashes in text":               head + part + "text\r\n-- \r\nsignature\r\n-----\r\n--x\r\n--xxx\r\n--xx--\r\n",
		"CR line ends":                 strings.ReplaceAll(head+part+"one\r\ntwo\r\n--xx--\r\n", "\r\n", "\r"),
		"empty bodies":                 head + part + "--xx\r\n\r\n\r\n--xx--\r\n",
		"single part":                  "Subject: x\r\n\r\nline\r\n--xx\r\nline\r\n",
	}
	// A last part not closed, longer than the 4 KB enmime checks at every
	// byte: whether enmime says so depends on the line breaks at its end.
	long := strings.TrimSuffix(strings.Repeat(strings.Repeat("A", 76)+"\r\n", 70), "\r\n")
	for _, tail := range []string{"", "\r\n", "QUJD", "\r\nQUJDQUJDQUJDQUJD"} {
		edge[fmt.Sprintf("long last part not closed, ending %q", tail)] = head + att + long + tail
		edge[fmt.Sprintf("long last inner part not closed, ending %q", tail)] = head + "--xx\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n" +
			"--in\r\n\r\n" + long + tail + "\r\n--xx--\r\n"
	}
	// Boundaries whose delimiter lines enmime may take for the other's.
	for _, inner := range []string{"xx y", "xx--y", "xx-"} {
		for _, tail := range []string{"", "\r\nQQ"} {
			edge[fmt.Sprintf("boundaries xx and %q, ending %q", inner, tail)] = head + "--xx\r\nContent-Type: multipart/alternative; boundary=\"" + inner + "\"\r\n\r\n" +
				"--" + inner + "\r\n\r\n" + long + tail + "\r\n--" + inner + "\r\n\r\n" + long + tail + "\r\n--" + inner + "--\r\n--xx--\r\n"
		}
	}
	// A delimiter inside a line, after a line that is the delimiter of
	// another boundary, 5 KB into a part: enmime checks there only while
	// it reads the first 4 KB of the part, and a part with its bodies cut
	// out is shorter.
	for _, n := range []int{10, 70} {
		edge[fmt.Sprintf("delimiter inside a line after %d lines", n)] = "From: a@b.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n" +
			"Content-Type: multipart/mixed; boundary=zz\r\nX: y\r\n--xx\r\nContent-Type: text/plain\r\n\r\n" +
			strings.Repeat(strings.Repeat("A", 76)+"\r\n", n) + "--zz\r\nfoo --xx bar\r\n\r\n" + strings.Repeat(strings.Repeat("B", 76)+"\r\n", 10) + "--xx--\r\n"
	}
	for name, raw := range edge {
		cases["edge: "+name] = raw
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := parseMessage([]byte(raw), -1)
			if err != nil {
				t.Fatal(err)
			}
			for _, min := range []int{0, elideFrom} {
				got, err := parseMessage([]byte(raw), min)
				if err != nil {
					t.Fatal(err)
				}
				checkSpans(t, []byte(raw), got)
				if !reflect.DeepEqual(withoutSpans(got), want) {
					t.Errorf("eliding from %d bytes: parsed differently:\ngot  %+v\nwant %+v", min, got, want)
				}
			}
		})
	}
}
