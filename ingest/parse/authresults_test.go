package parse

import (
	"strings"
	"testing"
)

func TestStripAuthResults(t *testing.T) {
	const id = "mx.liaison.example"
	tests := []struct {
		name, in, want string
		removed        int
	}{
		{"ours on top", "Authentication-Results: mx.liaison.example; dkim=pass header.d=a.example\r\nFrom: a@a.example\r\n\r\nbody\r\n",
			"From: a@a.example\r\n\r\nbody\r\n", 1},
		{"folded, any case, with a version", "From: a@a.example\r\nauthentication-results: MX.Liaison.Example 1;\r\n dkim=pass\r\n\theader.d=a.example\r\nSubject: x\r\n\r\nbody\r\n",
			"From: a@a.example\r\nSubject: x\r\n\r\nbody\r\n", 1},
		{"a comment before the id", "Authentication-Results: (forged) mx.liaison.example; dmarc=pass\nFrom: a@a.example\n\nbody\n",
			"From: a@a.example\n\nbody\n", 1},
		{"another server's stays", "Authentication-Results: mx.other.example; dkim=pass\r\nFrom: a@a.example\r\n\r\nbody\r\n",
			"Authentication-Results: mx.other.example; dkim=pass\r\nFrom: a@a.example\r\n\r\nbody\r\n", 0},
		{"a look-alike id stays", "Authentication-Results: mx.liaison.example.evil; dkim=pass\r\n\r\nbody\r\n",
			"Authentication-Results: mx.liaison.example.evil; dkim=pass\r\n\r\nbody\r\n", 0},
		{"in the body it is text", "From: a@a.example\r\n\r\nAuthentication-Results: mx.liaison.example; dkim=pass\r\n",
			"From: a@a.example\r\n\r\nAuthentication-Results: mx.liaison.example; dkim=pass\r\n", 0},
		{"two of ours", "Authentication-Results: mx.liaison.example; dkim=pass\r\nX: 1\r\nAuthentication-Results: mx.liaison.example; none\r\n\r\n",
			"X: 1\r\n\r\n", 2},
	}
	for _, tt := range tests {
		got, n := StripAuthResults([]byte(tt.in), id)
		if string(got) != tt.want || n != tt.removed {
			t.Errorf("%s:\ngot  %q (%d)\nwant %q (%d)", tt.name, got, n, tt.want, tt.removed)
		}
	}
}

// FuzzStripAuthResults: whatever the header section, nothing claiming our
// authserv-id survives in it, nothing else is lost, and the body is
// untouched.
func FuzzStripAuthResults(f *testing.F) {
	f.Add("Authentication-Results: mx.liaison.example; dkim=pass\r\nFrom: a@a.example\r\n\r\nbody\r\n")
	f.Add("From: a\r\nAuthentication-Results:\r\n mx.liaison.example;\r\n\tdkim=pass\r\n\r\n")
	f.Add("Authentication-Results: (c) MX.LIAISON.EXAMPLE 1; none\n\nAuthentication-Results: mx.liaison.example; x\n")
	f.Add("X: 1\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		const id = "mx.liaison.example"
		out, n := StripAuthResults([]byte(raw), id)
		if len(out) > len(raw) || (n == 0) != (string(out) == raw) {
			t.Fatalf("%d removed, %d -> %d bytes", n, len(raw), len(out))
		}
		if body := raw[HeaderEnd([]byte(raw)):]; n > 0 && !strings.HasSuffix(string(out), body) {
			t.Fatalf("the body changed: %q -> %q", raw, out)
		}
		again, m := StripAuthResults(out, id)
		if m != 0 || string(again) != string(out) {
			t.Fatalf("a second pass removed %d more from %q", m, out)
		}
	})
}
