package parse

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/jhillyerd/enmime/v2/mediatype"
)

// scanBoundariesRef is scanBoundaries going line by line (the earlier
// implementation).
func scanBoundariesRef(data []byte) []string {
	var l []string
	seen := map[string]bool{}
	lineAt := func(pos int) ([]byte, int) {
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			return data[pos : pos+i+1], pos + i + 1
		}
		return data[pos:], len(data)
	}
	for pos := 0; pos < len(data); {
		line, next := lineAt(pos)
		pos = next
		if len(line) < 13 || !bytes.EqualFold(line[:12], []byte("content-type")) {
			continue
		}
		rest := bytes.TrimLeft(line[12:], " \t")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		field := bytes.TrimRight(rest[1:], "\r\n")
		for pos < len(data) {
			nextLine, after := lineAt(pos)
			next := bytes.TrimRight(nextLine, "\r\n")
			if len(next) == 0 || next[0] != ' ' && next[0] != '\t' && bytes.IndexByte(next, ':') >= 0 {
				break
			}
			field = append(append(field[:len(field):len(field)], ' '), next...)
			pos = after
		}
		if !bytes.Contains(bytes.ToLower(field), []byte("boundary")) {
			continue
		}
		_, params, _, err := mediatype.Parse(string(field))
		if b := params["boundary"]; err == nil && b != "" && !seen[b] {
			seen[b] = true
			l = append(l, b)
		}
	}
	return l
}

// checkScans compares the scans that skip ahead (scanBoundaries and
// dashLines from '-' to '-', holdsMarker) with the plain ones.
func checkScans(t *testing.T, data []byte) {
	t.Helper()
	if got, want := scanBoundaries(data), scanBoundariesRef(data); !slices.Equal(got, want) {
		t.Fatalf("%q: scanBoundaries = %q, line by line %q", data, got, want)
	}
	if holdsMarker(data) != bytes.Contains(data, elidedPrefix) {
		t.Fatalf("%q: holdsMarker = %v", data, holdsMarker(data))
	}
	type line struct {
		at   int
		text string
	}
	var got, want []line
	for at, l := range dashLines(data) {
		got = append(got, line{at, string(l)})
	}
	at := 0
	for l := range bytes.Lines(data) {
		if bytes.HasPrefix(l, []byte("--")) {
			want = append(want, line{at, string(l)})
		}
		at += len(l)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q: dashLines = %v, want %v", data, got, want)
	}
}

func TestScansSameAsLineByLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"Content-Type: multipart/mixed; boundary=", "content-TYPE :", "\tboundary=\"b\"", "--", "-", "b", "b--", "\r\n", "\n", "x-y", ": ", " ", "multipart/alternative; boundary=c", "--c", "QUJD"}
	inputs := [][]byte{nil, []byte("-"), []byte("--"), []byte("\n--"), []byte("--b\n--b--")}
	for range 20000 {
		var b []byte
		for range rng.IntN(12) {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		inputs = append(inputs, b)
	}
	for _, in := range inputs {
		checkScans(t, in)
	}
	checkScans(t, benchMessage(36<<10))
}

func TestHoldsMarker(t *testing.T) {
	for _, s := range []string{"", "liaisond-elided-part-", "xliaisond-elided-part-0", "-elided-part-", "iaisond-elided-part-",
		"liaisond-elided-part", "l-elided-part-liaisond-elided-part-", "liaisond-elided-part-liaisond-elided-part-", "liaisond--elided-part-"} {
		if got, want := holdsMarker([]byte(s)), bytes.Contains([]byte(s), elidedPrefix); got != want {
			t.Errorf("holdsMarker(%q) = %v, want %v", s, got, want)
		}
	}
}
