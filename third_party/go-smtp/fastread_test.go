package smtp

// Tests of the run-at-a-time dataReader and lineLimitReader (liaisond patch,
// see PATCHES.md) against the byte-at-a-time implementations of go-smtp
// v0.25.1, kept here verbatim as references.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// refDataReader is dataReader.Read of go-smtp v0.25.1.
type refDataReader struct {
	r     *bufio.Reader
	state int

	limited bool
	n       int64 // Maximum bytes remaining
}

func (r *refDataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}

	// Code below is taken from net/textproto with only one modification to
	// not rewrite CRLF -> LF.

	// Run data through a simple state machine to
	// elide leading dots and detect End-of-Data (<CR><LF>.<CR><LF>) line.
	const (
		stateBeginLine = iota // beginning of line; initial state; must be zero
		stateDot              // read . at beginning of line
		stateDotCR            // read .\r at beginning of line
		stateCR               // read \r (possibly at end of line)
		stateData             // reading data in middle of line
		stateEOF              // reached .\r\n end marker line
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}

	if r.limited {
		r.n -= int64(n)
	}
	return
}

// refLineLimitReader is lineLimitReader.Read of go-smtp v0.25.1.
type refLineLimitReader struct {
	R         io.Reader
	LineLimit int

	curLineLength int
}

func (r *refLineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}

	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}

	if r.LineLimit == 0 {
		return n, nil
	}

	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++

		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}

	return n, nil
}

// sizes is a deterministic sequence of sizes in [1, max] (xorshift64), so
// that the reference and the patched reader see the same read sizes and the
// same chunking of their input.
type sizes struct {
	x   uint64
	max int
}

func newSizes(seed uint64, max int) *sizes {
	return &sizes{x: seed | 1, max: max}
}

func (s *sizes) next() int {
	s.x ^= s.x << 13
	s.x ^= s.x >> 7
	s.x ^= s.x << 17
	if s.max <= 1 {
		return 1
	}
	// Mostly small, sometimes large: both 1-byte reads and whole buffers.
	if s.x&3 == 0 {
		return s.max
	}
	return 1 + int((s.x>>8)%uint64(s.max))
}

var errConnBroken = errors.New("connection broken")

// chunkReader gives data in chunks of varying size, then end (io.EOF or
// another error) for ever. With withLast, the last chunk comes with end.
type chunkReader struct {
	data     []byte
	sz       *sizes
	end      error
	withLast bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.end
	}
	k := c.sz.next()
	if k > len(p) {
		k = len(p)
	}
	if k > len(c.data) {
		k = len(c.data)
	}
	copy(p, c.data[:k])
	c.data = c.data[k:]
	if len(c.data) == 0 && c.withLast {
		return k, c.end
	}
	return k, nil
}

// readCase is one way of reading an input: the chunking of the underlying
// stream, the bufio.Reader's size, the sizes of Read calls, the message size
// limit (0: none) and how the stream ends.
type readCase struct {
	seed     uint64
	chunkMax int
	bufSize  int
	readMax  int
	limit    int64
	end      error
	withLast bool
}

func (rc readCase) String() string {
	return fmt.Sprintf("seed=%d chunk<=%d buf=%d read<=%d limit=%d end=%v withLast=%v",
		rc.seed, rc.chunkMax, rc.bufSize, rc.readMax, rc.limit, rc.end, rc.withLast)
}

func (rc readCase) source(data []byte) *bufio.Reader {
	return bufio.NewReaderSize(&chunkReader{data: data, sz: newSizes(rc.seed*7+3, rc.chunkMax), end: rc.end, withLast: rc.withLast}, rc.bufSize)
}

// compareDataReaders reads data with both readers the same way and fails
// on the first difference in a Read result (count, bytes, error), in the
// state kept between calls, or in what is left in the bufio.Reader after
// the message (the next SMTP command). It returns what was read.
func compareDataReaders(t testing.TB, data []byte, rc readCase) []byte {
	t.Helper()
	refBuf, fastBuf := rc.source(data), rc.source(data)
	ref := &refDataReader{r: refBuf, limited: rc.limit > 0, n: rc.limit}
	fast := &dataReader{r: fastBuf, limited: rc.limit > 0, n: rc.limit}
	rs := newSizes(rc.seed, rc.readMax)
	var out []byte
	for calls, errs := 0, 0; errs < 3; calls++ {
		if calls > 4*len(data)+100 {
			t.Fatalf("%v: no end after %d Read calls", rc, calls)
		}
		k := rs.next()
		rb, fb := make([]byte, k), make([]byte, k)
		rn, rerr := ref.Read(rb)
		fn, ferr := fast.Read(fb)
		if rn != fn || rerr != ferr || !bytes.Equal(rb[:rn], fb[:fn]) {
			t.Fatalf("%v: Read call %d of %d bytes:\nreference %d %q %v\npatched   %d %q %v\ninput %q",
				rc, calls, k, rn, rb[:rn], rerr, fn, fb[:fn], ferr, data)
		}
		if ref.state != fast.state || ref.n != fast.n {
			t.Fatalf("%v: after Read call %d: state %d, n %d, want state %d, n %d", rc, calls, fast.state, fast.n, ref.state, ref.n)
		}
		out = append(out, rb[:rn]...)
		if rerr != nil {
			errs++
		}
	}
	refRest, refErr := io.ReadAll(refBuf)
	fastRest, fastErr := io.ReadAll(fastBuf)
	if !bytes.Equal(refRest, fastRest) || refErr != fastErr {
		t.Fatalf("%v: left in the reader: %q %v, want %q %v", rc, fastRest, fastErr, refRest, refErr)
	}
	return out
}

// readCases are the ways every table input is read.
func readCases(n int) []readCase {
	var cases []readCase
	for _, readMax := range []int{1, 2, 3, 7, 64, 4096} {
		for _, bufSize := range []int{16, 17, 4096} {
			for _, chunkMax := range []int{1, 5, 4096} {
				for seed := uint64(1); seed <= 3; seed++ {
					cases = append(cases, readCase{seed: seed, chunkMax: chunkMax, bufSize: bufSize, readMax: readMax, end: io.EOF})
				}
			}
		}
	}
	for seed := uint64(1); seed <= 20; seed++ {
		for _, limit := range []int64{1, 2, 5, int64(n) / 2, int64(n)} {
			for _, end := range []error{io.EOF, errConnBroken} {
				cases = append(cases, readCase{seed: seed, chunkMax: int(seed % 9), bufSize: 16 + int(seed%3), readMax: int(seed % 11),
					limit: limit, end: end, withLast: seed%2 == 0})
			}
		}
	}
	return cases
}

func TestDataReaderMatchesReference(t *testing.T) {
	unexpectedEOF := io.ErrUnexpectedEOF
	tests := []struct {
		name    string
		in      string
		want    string // what the reader returns
		wantErr error  // from io.ReadAll, which takes io.EOF for success
		rest    string // left in the reader after it
	}{
		{"end marker at start", ".\r\nQUIT\r\n", "", nil, "QUIT\r\n"},
		{"plain", "a\r\nb\r\n.\r\nQUIT\r\n", "a\r\nb\r\n", nil, "QUIT\r\n"},
		{"dot stuffing", "..\r\n..a\r\n.b\r\n...\r\n.\r\n", ".\r\n.a\r\nb\r\n..\r\n", nil, ""},
		{"dot mid-line", "a.\r\na..b\r\n.\r\nX", "a.\r\na..b\r\n", nil, "X"},
		{"lone CR", "a\rb\r.\r\n.\r\n", "a\rb\r.\r\n", nil, ""},
		{"lone LF", "a\nb\n.\r\n.\nc\r\n.\r\nX", "a\nb\n.\r\n\nc\r\n", nil, "X"},
		{"lone LF does not end a line", "a\n.\r\n", "a\n.\r\n", unexpectedEOF, ""},
		// v0.25.1's machine goes from stateCR to stateData on a second CR,
		// so the dot after "\r\r\n" does not start a line.
		{"CR CR LF dot", "a\r\r\n.\r\n.\r\nX", "a\r\r\n.\r\n", nil, "X"},
		// ".\r" then anything but LF: the dot and the CR are dropped.
		{"dot CR not LF", ".\rx\r\n.\r\r\n.\r\n\r\n.\r\nX", "x\r\n\r\n.\r\n\r\n", nil, "X"},
		{"CR LF CR", "a\r\n\r\n.\r\n", "a\r\n\r\n", nil, ""},
		{"dot then LF", ".\n.\r\n.\r\n", "\n.\r\n", nil, ""},
		{"pipelined commands", "Subject: x\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n", "Subject: x\r\n\r\nbody\r\n", nil, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"},
		{"EOF mid-line", "abc", "abc", unexpectedEOF, ""},
		{"EOF after CR LF dot CR", "a\r\n.\r", "a\r\n", unexpectedEOF, ""},
		{"EOF after CR", "a\r", "a\r", unexpectedEOF, ""},
		{"EOF after CR LF dot", "a\r\n.", "a\r\n", unexpectedEOF, ""},
		{"empty", "", "", unexpectedEOF, ""},
		{"long line", strings.Repeat("x", 10000) + "\r\n.\r\nQUIT\r\n", strings.Repeat("x", 10000) + "\r\n", nil, "QUIT\r\n"},
		{"many short lines", strings.Repeat("a\r\n..\r\n\r\n", 1000) + ".\r\n", strings.Repeat("a\r\n.\r\n\r\n", 1000), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What the patched reader gives, stated, not only compared.
			br := bufio.NewReader(strings.NewReader(tt.in))
			got, err := io.ReadAll(&dataReader{r: br})
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
			if err != tt.wantErr {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
				t.Errorf("left %q, want %q", rest, tt.rest)
			}
			for _, rc := range readCases(len(tt.in)) {
				compareDataReaders(t, []byte(tt.in), rc)
			}
		})
	}
}

func TestDataReaderLimit(t *testing.T) {
	in := "0123456789\r\n.\r\nQUIT\r\n"
	for _, tt := range []struct {
		limit   int64
		wantErr error
	}{
		{9, ErrDataTooLarge},  // hit mid-line
		{11, ErrDataTooLarge}, // between CR and LF
		// The message is 12 bytes, but as in v0.25.1 the limit counts
		// calls, not the message: the third 5-byte read stops at 12
		// before seeing the end marker, and the fourth finds none left.
		{12, ErrDataTooLarge},
		{13, io.EOF},
	} {
		br := bufio.NewReader(strings.NewReader(in))
		r := &dataReader{r: br, limited: true, n: tt.limit}
		var got []byte
		var err error
		for err == nil {
			var b [5]byte
			var n int
			n, err = r.Read(b[:])
			got = append(got, b[:n]...)
		}
		if err != tt.wantErr {
			t.Errorf("limit %d: error %v, want %v", tt.limit, err, tt.wantErr)
		}
		if want := in[:min64(tt.limit, 12)]; string(got) != want {
			t.Errorf("limit %d: read %q, want %q", tt.limit, got, want)
		}
	}
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func FuzzDataReader(f *testing.F) {
	for _, s := range []string{
		".\r\n", "a\r\n.\r\nQUIT\r\n", "..\r\n.\r\n", "a\rb\nc\r\r\n.\r\n.\r\n", "a\r\n.\r", "a\r\n.\rb\r\n.\r\n",
		".\n.\r\n", "\r\n\r\n.\r\n", strings.Repeat("line of text\r\n", 20) + ".\r\nMAIL FROM:<>\r\n",
	} {
		f.Add([]byte(s), uint64(1), uint16(0), uint16(0), uint8(0))
		f.Add([]byte(s), uint64(7), uint16(3), uint16(5), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, shape uint16, limit uint16, end uint8) {
		rc := readCase{
			seed:     seed,
			chunkMax: 1 + int(shape%64),
			bufSize:  16 + int(shape>>6)%64,
			readMax:  1 + int(shape>>12)*9,
			limit:    int64(limit % 512),
			end:      io.EOF,
			withLast: end&1 != 0,
		}
		if end&2 != 0 {
			rc.end = errConnBroken
		}
		compareDataReaders(t, data, rc)
	})
}

// compareLineLimitReaders reads data through both line limit readers the
// same way and fails on the first difference in a Read result or in the
// line length carried to the next call.
func compareLineLimitReaders(t testing.TB, data []byte, limit int, seed uint64, chunkMax, readMax int, end error) {
	t.Helper()
	ref := &refLineLimitReader{R: &chunkReader{data: data, sz: newSizes(seed*7+3, chunkMax), end: end}, LineLimit: limit}
	fast := &lineLimitReader{R: &chunkReader{data: data, sz: newSizes(seed*7+3, chunkMax), end: end}, LineLimit: limit}
	rs := newSizes(seed, readMax)
	for calls, errs := 0, 0; errs < 3; calls++ {
		if calls > 4*len(data)+100 {
			t.Fatalf("no end after %d Read calls", calls)
		}
		k := rs.next()
		rb, fb := make([]byte, k), make([]byte, k)
		rn, rerr := ref.Read(rb)
		fn, ferr := fast.Read(fb)
		if rn != fn || rerr != ferr || !bytes.Equal(rb[:rn], fb[:fn]) || ref.curLineLength != fast.curLineLength {
			t.Fatalf("limit %d seed %d: Read call %d of %d bytes:\nreference %d %q %v line %d\npatched   %d %q %v line %d\ninput %q",
				limit, seed, calls, k, rn, rb[:rn], rerr, ref.curLineLength, fn, fb[:fn], ferr, fast.curLineLength, data)
		}
		if rerr != nil {
			errs++
		}
	}
}

func TestLineLimitReaderMatchesReference(t *testing.T) {
	inputs := []string{
		"", "\n", "\n\n\n", "abc", "abc\n", "abcd\nab\n", "ab\nabcd", "abcde", "a\r\nb\r\n",
		"abc\nabc\nabc\n", "\nabc", "abcdef\n", strings.Repeat("x", 100) + "\n" + strings.Repeat("y", 3),
		strings.Repeat("line\r\n", 50),
	}
	for _, in := range inputs {
		for _, limit := range []int{-1, 0, 1, 2, 3, 4, 5, 6, 100, 10000} {
			for seed := uint64(1); seed <= 5; seed++ {
				for _, readMax := range []int{1, 2, 4, 4096} {
					compareLineLimitReaders(t, []byte(in), limit, seed, int(seed)*3, readMax, io.EOF)
				}
			}
		}
	}
}

func TestLineLimitReaderStopsAtLongLine(t *testing.T) {
	// A limit of 4, and the '\n' counts as the first byte of the line
	// after it: "abcd\nabc\n" is fine, "\nabcd" is not; the error sticks.
	r := &lineLimitReader{R: strings.NewReader("abcd\nabc\nabcd\nx"), LineLimit: 4}
	b := make([]byte, 9)
	if n, err := r.Read(b); n != 9 || err != nil {
		t.Fatalf("first read: %d %v, want 9 <nil>", n, err)
	}
	if n, err := r.Read(b); n != 0 || err != ErrTooLongLine {
		t.Fatalf("second read: %d %v, want 0 %v", n, err, ErrTooLongLine)
	}
	if n, err := r.Read(b); n != 0 || err != ErrTooLongLine {
		t.Fatalf("third read: %d %v, want 0 %v", n, err, ErrTooLongLine)
	}
}

func FuzzLineLimitReader(f *testing.F) {
	f.Add([]byte("abcd\nabcde\n"), int16(4), uint64(1), uint16(0))
	f.Add([]byte("\n\n\nabc"), int16(-1), uint64(2), uint16(9))
	f.Add([]byte(strings.Repeat("line\r\n", 20)), int16(6), uint64(3), uint16(300))
	f.Fuzz(func(t *testing.T, data []byte, limit int16, seed uint64, shape uint16) {
		compareLineLimitReaders(t, data, int(limit%200), seed, 1+int(shape%64), 1+int(shape>>6), io.EOF)
	})
}

// benchMessage is a ~50 KB message in 76-character lines, some
// dot-stuffed, with the end marker and the next command after it.
func benchMessage() []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: benchmark\r\n\r\n")
	for i := 0; b.Len() < 50*1024; i++ {
		if i%40 == 0 {
			b.WriteString("..")
		}
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), 74))
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\nQUIT\r\n")
	return b.Bytes()
}

func BenchmarkDataReader(b *testing.B) {
	msg := benchMessage()
	for _, impl := range []string{"reference", "patched"} {
		b.Run(impl, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			src := bytes.NewReader(msg)
			br := bufio.NewReader(src) // 4096 bytes, as textproto's
			buf := make([]byte, 32*1024)
			for i := 0; i < b.N; i++ {
				src.Reset(msg)
				br.Reset(src)
				var r io.Reader = &dataReader{r: br}
				if impl == "reference" {
					r = &refDataReader{r: br}
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLineLimitReader(b *testing.B) {
	msg := benchMessage()
	for _, impl := range []string{"reference", "patched"} {
		b.Run(impl, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			src := bytes.NewReader(msg)
			buf := make([]byte, 4096) // bufio.Reader's reads
			for i := 0; i < b.N; i++ {
				src.Reset(msg)
				var r io.Reader = &lineLimitReader{R: src, LineLimit: 10000}
				if impl == "reference" {
					r = &refLineLimitReader{R: src, LineLimit: 10000}
				}
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
