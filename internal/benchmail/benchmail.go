// Package benchmail makes the submission mails liaisond's benchmarks send
// and parse, in one shape (BenchmarkVersusMailpit's): the statement's
// fields and 40 lines of text in a text/plain part, then an attachment in
// base64. Only tests and benchmarks use it.
package benchmail

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Submission is statement mail number i to statements@liaison.example with
// the given Message-ID (without brackets) and attachment as ls.pdf.
func Submission(i int, messageID string, attachment []byte) []byte {
	var b strings.Builder
	b.Grow(len(attachment)*4/3 + 8192)
	fmt.Fprintf(&b, "From: Rapporteur <rapp%d@itu.example>\r\nTo: statements@liaison.example\r\nSubject: Bench LS %d\r\n", i%50, i)
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n", messageID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("From: ITU-T SG15\r\nTo: IETF CCAMP WG, MPLS WG\r\nTitle: Benchmark statement\r\nPurpose: For Action\r\nDeadline: 2027-01-31\r\n")
	b.WriteString("Technical-Contact: expert@vendor.example\r\n\r\n")
	b.WriteString(Text())
	b.WriteString("--xx\r\nContent-Type: application/pdf; name=\"ls.pdf\"\r\nContent-Disposition: attachment; filename=\"ls.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(Base64Lines(attachment))
	b.WriteString("--xx--\r\n")
	return []byte(b.String())
}

// Text is the statement's text: 40 lines of ordinary length.
func Text() string {
	return strings.Repeat("Dear colleagues, this paragraph stands for the text of a liaison statement of ordinary length.\r\n", 40)
}

// Base64Lines is data in base64, in lines of 76 characters each ended by
// CRLF (RFC 2045 6.8).
func Base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

// PDF is size pseudo-random bytes that begin like a PDF, the same for the
// same seed.
func PDF(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	pdf := make([]byte, size)
	for i := range pdf {
		pdf[i] = byte(rng.IntN(256))
	}
	copy(pdf, "%PDF-1.4\n")
	return pdf
}
