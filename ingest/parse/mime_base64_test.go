package parse

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// decodeBase64 decodes in pieces into one buffer; it must give what
// decoding each "="-terminated run whole gives (decodeBase64Ref, the
// earlier implementation), damage flags included.
func TestDecodeBase64Pieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t!")
	var inputs [][]byte
	for _, n := range []int{0, 1, 3, 4, 5, 4095, 4096, 4097, 8191, 8192, 8193, 100000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		enc := base64.StdEncoding.EncodeToString(data)
		var lines bytes.Buffer
		for len(enc) > 76 {
			lines.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		lines.WriteString(enc + "\r\n")
		inputs = append(inputs, lines.Bytes(), append(lines.Bytes(), lines.Bytes()...)) // concatenated blocks too
		junk := make([]byte, n)
		for i := range junk {
			junk[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, junk)
	}
	// Line lengths that are no multiple of 4, lines longer than the
	// chunk the fast path gathers them in, LF only, lone CRs.
	data := make([]byte, 20000)
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	enc := base64.StdEncoding.EncodeToString(data)
	for _, width := range []int{1, 3, 77, 4095, 4097, 9000} {
		for _, nl := range []string{"\r\n", "\n", "\r"} {
			var lines bytes.Buffer
			for rest := enc; rest != ""; {
				k := min(width, len(rest))
				lines.WriteString(rest[:k] + nl)
				rest = rest[k:]
			}
			inputs = append(inputs, lines.Bytes())
		}
	}
	for i, in := range inputs {
		got, gotDamaged := decodeBase64(in)
		want, wantDamaged := decodeBase64Ref(in)
		if !bytes.Equal(got, want) || gotDamaged != wantDamaged {
			t.Errorf("input %d (%d bytes): got %d bytes damaged=%v, want %d bytes damaged=%v", i, len(in), len(got), gotDamaged, len(want), wantDamaged)
		}
	}
}

func decodeBase64Ref(b []byte) (data []byte, damaged bool) {
	var out []byte
	run := make([]byte, 0, len(b))
	flush := func() {
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
			damaged = true
		}
		d := make([]byte, base64.RawStdEncoding.DecodedLen(len(run)))
		n, err := base64.RawStdEncoding.Decode(d, run)
		if err != nil {
			damaged = true
		}
		out = append(out, d[:n]...)
		run = run[:0]
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			run = append(run, c)
		case c == '=':
			if len(run) > 0 {
				flush()
			}
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			damaged = true
		}
	}
	if len(run) > 0 {
		flush()
	}
	return out, damaged
}

// The inputs at the edge of decodeBase64Clean: what it takes must decode
// as the tolerant decoder decodes it, and what it refuses goes there.
func TestDecodeBase64FastAndTolerant(t *testing.T) {
	tests := []struct {
		in    string
		clean bool // decodeBase64Clean takes it
	}{
		{"", true},
		{"QUJD", true},
		{"QUJD\r\n", true},
		{"QUJDRA==", true},
		{"QUJDRA==\r\n", true},
		{"QUJDRA", true},            // unpadded
		{"QUJDRA=", true},           // short padding
		{"QUJDRA===\r\n= \t", true}, // extra padding and white space at the end
		{"QUJD\nRA==", true},        // LF only
		{"QU\r\nJDRA==", true},      // a line break inside a quantum
		{"QUJD\rRA==", true},        // a lone CR
		{"QUJDR", false},            // a last quantum of one character: damaged
		{"QUJDR===", false},
		{"QUJD RA==", false},  // a space inside
		{"QUJD\tRA==", false}, // a tab inside
		{"QUJD==QUJD", false}, // concatenated blocks
		{"QQ==\r\nQUJD\r\n", false},
		{"QUJD*RA==", false}, // outside the alphabet
		{"QUJD-RA==", false}, // base64url
		{"=QUJD", false},
		{"====", true},
		{"\r\n", true},
	}
	for _, tc := range tests {
		in := []byte(tc.in)
		buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(in))+3)
		n, clean := decodeBase64Clean(buf, in)
		if clean != tc.clean {
			t.Errorf("%q: decodeBase64Clean took it: %v, want %v", tc.in, clean, tc.clean)
		}
		got, gotDamaged := decodeBase64(in)
		want, wantDamaged := decodeBase64Ref(in)
		if !bytes.Equal(got, want) || gotDamaged != wantDamaged || clean && (gotDamaged || !bytes.Equal(buf[:n], want)) {
			t.Errorf("%q: got %q damaged=%v (clean %q), want %q damaged=%v", tc.in, got, gotDamaged, buf[:n], want, wantDamaged)
		}
	}
}

// FuzzDecodeBase64: the fast path and the tolerant decoder agree with the
// reference on any input.
func FuzzDecodeBase64(f *testing.F) {
	f.Add([]byte("QUJDRA==\r\n"))
	f.Add([]byte("QUJD\r\nRA==QUJD"))
	f.Add([]byte("QU JD*RA=\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gotDamaged := decodeBase64(in)
		want, wantDamaged := decodeBase64Ref(in)
		if !bytes.Equal(got, want) || gotDamaged != wantDamaged {
			t.Fatalf("%q: got %q damaged=%v, want %q damaged=%v", in, got, gotDamaged, want, wantDamaged)
		}
		tolerant, tolerantDamaged := decodeBase64Tolerant(make([]byte, 0, base64.RawStdEncoding.DecodedLen(len(in))+3), in)
		if !bytes.Equal(tolerant, want) || tolerantDamaged != wantDamaged {
			t.Fatalf("%q: tolerant %q damaged=%v, want %q damaged=%v", in, tolerant, tolerantDamaged, want, wantDamaged)
		}
	})
}

// Long base64 (past the tolerant decoder's chunk of 4096 characters), in
// lines of any length, decodes as the reference decoder decodes it.
func TestDecodeBase64Long(t *testing.T) {
	data := make([]byte, 20011)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	for _, lineLen := range []int{76, 73, 1, 5000} {
		for _, eol := range []string{"\r\n", "\n", " \r\n", "\r"} {
			for _, damage := range []string{"", "*", " ", "="} {
				var b strings.Builder
				for s := enc; len(s) > 0; {
					l := min(lineLen, len(s))
					b.WriteString(s[:l] + eol)
					s = s[l:]
				}
				in := []byte(b.String())
				if damage != "" {
					in = append(append(append([]byte(nil), in[:9000]...), damage...), in[9000:]...)
				}
				got, gotDamaged := decodeBase64(in)
				want, wantDamaged := decodeBase64Ref(in)
				if !bytes.Equal(got, want) || gotDamaged != wantDamaged || damage == "" && !bytes.Equal(got, data) {
					t.Errorf("lines of %d ending %q, damage %q: %d bytes damaged=%v, want %d bytes damaged=%v", lineLen, eol, damage, len(got), gotDamaged, len(want), wantDamaged)
				}
			}
		}
	}
}
