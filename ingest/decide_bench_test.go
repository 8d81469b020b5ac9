package ingest

import (
	"testing"

	"liaisond/internal/benchmail"
)

// benchSubmission is a submission of BenchmarkVersusMailpit's shape.
func benchSubmission() []byte {
	return benchmail.Submission(1, "bench-1@itu.example", benchmail.PDF(7, 36<<10))
}

// BenchmarkDecide: the whole decision on a submission shaped like those
// of BenchmarkVersusMailpit, with the demo directory and no database.
func BenchmarkDecide(b *testing.B) {
	p, dir, now := decideSetup(b)
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
