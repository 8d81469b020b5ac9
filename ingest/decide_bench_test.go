package ingest

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"liaisond/directory"
)

// benchSubmission is shaped like cmd/liaisond's: the fields and 40 lines
// of text, then a 36 KB PDF in base64.
func benchSubmission() []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	pdf := make([]byte, 36<<10)
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

// BenchmarkDecide: the whole decision on a submission shaped like those
// of BenchmarkVersusMailpit, with the demo directory and no database.
func BenchmarkDecide(b *testing.B) {
	dir, err := directory.Parse(directory.Demo, "demo")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := &Processor{Config: Config{Domain: "liaison.example", StatementsLocal: "statements", CommandsLocal: "commands", TokenPrefix: "ls"}}
	env := Envelope{Source: "smtp", MailFrom: "rapp1@itu.example", Rcpt: []string{"statements@liaison.example"}, Known: true}
	raw := benchSubmission()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		d := p.Decide(env, raw, dir, now)
		if d.Class != ClassSubmission || len(d.Submission.Problems) > 0 || len(d.Submission.Statement.Attachments) != 1 {
			b.Fatalf("decision %+v", d)
		}
	}
}
