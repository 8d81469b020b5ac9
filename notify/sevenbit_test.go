package notify

import (
	"strings"
	"testing"
)

// isSevenBitRef is isSevenBit as it was first written, a byte at a time:
// the reference the word-at-a-time version must agree with.
func isSevenBitRef(text string) bool {
	line := 0
	for i := 0; i < len(text); i++ {
		switch b := text[i]; {
		case b == '\r':
			if i+1 >= len(text) || text[i+1] != '\n' {
				return false
			}
			i++
			line = 0
		case b == '\n', b == 0, b >= 0x80:
			return false
		default:
			if line++; line > 998 {
				return false
			}
		}
	}
	return true
}

func TestIsSevenBit(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		text string
		want bool
	}{
		{"", true},
		{"a\r\nb\r\n", true},
		{"a\r\nb", true},
		{"\r\n\r\n", true},
		{"a\nb", false},
		{"\n", false},
		{"a\rb\r\n", false},
		{"a\r", false},
		{"\r\r\n", false},
		{"abcdefgh\rjklmnop\r\n", false},
		{"abcdefghijklmno\x00p\r\n", false},
		{"abcdefghijklmnop\xc3\xa9\r\n", false},
		{"abcdefgh\x7f\x01\x1b~ \t.,\r\n", true},
		{x(998) + "\r\n" + x(998), true},
		{x(999) + "\r\n", false},
		{"a\r\n" + x(999), false},
		{x(16) + "\x80" + x(16), false},
		{x(7) + "\r", false},
		{x(8) + "\r", false},
	}
	for _, tc := range tests {
		if got := isSevenBit(tc.text); got != tc.want {
			t.Errorf("isSevenBit(%q) = %v, want %v", tc.text, got, tc.want)
		}
		if ref := isSevenBitRef(tc.text); ref != tc.want {
			t.Errorf("reference isSevenBit(%q) = %v, want %v (the table is wrong)", tc.text, ref, tc.want)
		}
	}
}

// FuzzIsSevenBit: the word-at-a-time check agrees with the byte loop.
func FuzzIsSevenBit(f *testing.F) {
	for _, s := range []string{"", "a\r\nb", "abcdefgh\rjk\r\n", "x\x00\r\n", strings.Repeat("y", 999), "é\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isSevenBit(s), isSevenBitRef(s); got != want {
			t.Errorf("isSevenBit(%q) = %v, the byte loop says %v", s, got, want)
		}
	})
}

func BenchmarkIsSevenBit(b *testing.B) {
	text := strings.Repeat("Dear colleagues, this paragraph stands for the text of a statement.\r\n", 200)
	b.SetBytes(int64(len(text)))
	for _, impl := range []struct {
		name string
		fn   func(string) bool
	}{{"words", isSevenBit}, {"bytes", isSevenBitRef}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				if !impl.fn(text) {
					b.Fatal("not 7bit")
				}
			}
		})
	}
}
