package parse

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchMessage is shaped like cmd/liaisond's benchSubmission: the fields
// and 40 lines of text in a text/plain part, then an attachment of
// attachSize random bytes in base64 with 76-character CRLF lines.
func benchMessage(attachSize int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	pdf := make([]byte, attachSize)
	for i := range pdf {
		pdf[i] = byte(rng.IntN(256))
	}
	copy(pdf, "%PDF-1.4\n")
	var b strings.Builder
	b.WriteString("From: Rapporteur <rapp1@itu.example>\r\nTo: statements@liaison.example\r\nSubject: Bench LS 1\r\n")
	b.WriteString("Message-ID: <bench-1@itu.example>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("From: ITU-T SG15\r\nTo: IETF CCAMP WG, MPLS WG\r\nTitle: Benchmark statement\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\n")
	b.WriteString("Technical-Contact: expert@vendor.example\r\n\r\n")
	for range 40 {
		b.WriteString("Dear colleagues, this paragraph stands for the text of a liaison statement of ordinary length.\r\n")
	}
	b.WriteString("--xx\r\nContent-Type: application/pdf; name=\"ls.pdf\"\r\nContent-Disposition: attachment; filename=\"ls.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(pdf)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--xx--\r\n")
	return []byte(b.String())
}

// BenchmarkParseMessage: a submission with a 36 KB attachment (the shape
// of BenchmarkVersusMailpit's messages) and one with 1 MB.
func BenchmarkParseMessage(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"36KB", 36 << 10}, {"1MB", 1 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			raw := benchMessage(c.size)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := ParseMessage(raw)
				if err != nil || len(m.Attachments) != 1 || len(m.Attachments[0].Data) != c.size || len(m.Problems) > 0 {
					b.Fatalf("parsed %+v, %v", m, err)
				}
			}
		})
	}
}
