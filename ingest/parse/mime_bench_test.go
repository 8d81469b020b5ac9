package parse

import (
	"testing"

	"liaisond/internal/benchmail"
)

// benchMessage is a submission of BenchmarkVersusMailpit's shape with an
// attachment of attachSize pseudo-random bytes.
func benchMessage(attachSize int) []byte {
	return benchmail.Submission(1, "bench-1@itu.example", benchmail.PDF(7, attachSize))
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
