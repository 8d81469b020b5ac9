package token

import (
	"os"
	"strings"
	"testing"
)

func TestMakeVerify(t *testing.T) {
	k := NewKeys(1, []byte("0123456789abcdef0123456789abcdef"))
	tok := k.Make(42, "Alice@CCAMP.example")
	if len(tok) != 16 || strings.ToLower(tok) != tok {
		t.Fatalf("token %q: want 16 lowercase base32 chars", tok)
	}
	tests := []struct {
		id   int64
		addr string
		tok  string
		want bool
	}{
		{42, "alice@ccamp.example", tok, true},
		{42, "ALICE@ccamp.example", strings.ToUpper(tok), true}, // case-insensitive on input
		{43, "alice@ccamp.example", tok, false},
		{42, "mallory@evil.example", tok, false},
		{42, "alice@ccamp.example", tok[:15], false},
		// 17 and more characters decode to the same 80 bits: still no token.
		{42, "alice@ccamp.example", tok + "a", false},
		{42, "alice@ccamp.example", tok + "q", false},
		{42, "alice@ccamp.example", tok + "aaaaaaaa", false},
		{42, "alice@ccamp.example", "!!!!", false},
	}
	for _, tt := range tests {
		if got := k.Verify(tt.id, tt.addr, tt.tok); got != tt.want {
			t.Errorf("Verify(%d, %q, %q) = %v, want %v", tt.id, tt.addr, tt.tok, got, tt.want)
		}
	}
	addr := k.Address("ls", "liaison.example", 42, "alice@ccamp.example")
	local, _, _ := strings.Cut(addr, "@")
	id, tk, ok := ParseAddress("ls", local)
	if !ok || id != 42 || !k.Verify(id, "alice@ccamp.example", tk) {
		t.Errorf("ParseAddress(%q) = %d %q %v", local, id, tk, ok)
	}
	for _, bad := range []string{"ls", "ls+", "ls+x.y", "ls+42", "ls+42.", "other+42.abc", "ls+-1.abc"} {
		if _, _, ok := ParseAddress("ls", bad); ok {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir + "/secret")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	k2, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Make(1, "a@b") != k2.Make(1, "a@b") {
		t.Error("reloaded key differs")
	}
	os.WriteFile(dir+"/secret", []byte("garbage\n"), 0o600)
	if _, err := LoadOrCreate(dir); err == nil || !strings.Contains(err.Error(), "secret:1") {
		t.Errorf("bad file: %v", err)
	}
}

func TestScrub(t *testing.T) {
	k := NewKeys(1, []byte("0123456789abcdef0123456789abcdef"))
	addr := k.Address("ls", "liaison.example", 42, "alice@ccamp.example")
	tok := k.Make(42, "alice@ccamp.example")
	for _, in := range []string{
		"reply to " + addr + " please",
		"<" + strings.ToUpper(addr) + ">",
		"the address ls+42." + tok + "x@liaison.example is personal",
		"mailto:ls+42." + tok,
		"ls&#43;42." + tok + "@liaison.example",
		"mailto:ls%2B42." + tok + "%40liaison.example",
	} {
		out := Scrub(in)
		if strings.Contains(strings.ToLower(out), tok) || !strings.Contains(strings.ToLower(out), "42.…") {
			t.Errorf("Scrub(%q) = %q", in, out)
		}
		if string(ScrubBytes([]byte(in))) != out {
			t.Errorf("ScrubBytes differs from Scrub for %q", in)
		}
	}
	for _, keep := range []string{"", "alice+ietf@ccamp.example", "LS-42 close", "version 1.2.3", "a+1.b@c"} {
		if Scrub(keep) != keep {
			t.Errorf("Scrub(%q) = %q, want it unchanged", keep, Scrub(keep))
		}
	}
}

// FuzzScrub: the shortcut for text without a separator changes nothing of
// what the regular expression alone does.
func FuzzScrub(f *testing.F) {
	for _, s := range []string{"", "write to ls+42.abcdefghijklmnop@liaison.example", "ls&#43;42.abcdefghij", "LS%2B7.ABCDEFGH2345",
		"plain text without any", "a+b", "x%2b1.abcdefgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := pattern.ReplaceAllString(s, "$1.…")
		if got := Scrub(s); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", s, got, want)
		}
		if got := string(ScrubBytes([]byte(s))); got != want {
			t.Errorf("ScrubBytes(%q) = %q, want %q", s, got, want)
		}
	})
}
