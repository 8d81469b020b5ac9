package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// replyFixtureFiles returns the reply corpus files (text and HTML bodies;
// the MIME messages are seeds of FuzzParseMessage's kind, not read here).
func replyFixtureFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, g := range []string{
		"testdata/replies/github-email_reply_parser/emails/*.txt",
		"testdata/replies/crisp-email-reply-parser/test/fixtures/*.txt",
		"testdata/replies/talon/html_replies/*.html",
		"testdata/replies/liaisond/*.txt",
		"testdata/replies/liaisond/*.html",
	} {
		l, err := filepath.Glob(g)
		if err != nil || len(l) == 0 {
			tb.Fatalf("no reply fixtures %s: %v", g, err)
		}
		files = append(files, l...)
	}
	return files
}

// checkStripped checks the invariants of StripReply's output for an input.
func checkStripped(t *testing.T, in, out string) {
	t.Helper()
	if len(out) > len(in) {
		t.Fatalf("output (%d bytes) longer than input (%d bytes)", len(out), len(in))
	}
	if utf8.ValidString(in) && !utf8.ValidString(out) {
		t.Fatalf("valid UTF-8 in, invalid out: %q", out)
	}
	if out == "" {
		return
	}
	inLines := map[string]bool{}
	for _, l := range strings.Split(in, "\n") {
		inLines[strings.TrimRightFunc(l, unicode.IsSpace)] = true
	}
	for _, l := range strings.Split(out, "\n") {
		if !inLines[l] {
			t.Fatalf("output line %q is not an input line", l)
		}
		if s := strings.TrimSpace(l); s != "" && isQuoted(s) {
			t.Fatalf("quoted line in output: %q", l)
		}
	}
	if l := strings.Split(out, "\n"); l[0] == "" || l[len(l)-1] == "" {
		t.Fatalf("empty line at an end of %q", out)
	}
}

// FuzzStripReply: no panic; every output line is an input line (less white
// space at its end) and no output line is quoted; valid UTF-8 stays valid;
// the output is never longer than the input and stripping it again changes
// nothing. StripReplyHTML must not panic and must give valid UTF-8.
func FuzzStripReply(f *testing.F) {
	for _, file := range replyFixtureFiles(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 64<<10 {
			continue // the long-quote case; the fuzzer works better on small seeds
		}
		f.Add(string(b))
	}
	f.Add("a\n> b\nc")
	f.Add("On 1 Jan, x <a@b>\n>:\n> close\nreopen")
	f.Add("From: a@b\nSent: 1\nTo: c\n\nclose")
	f.Fuzz(func(t *testing.T, in string) {
		out := StripReply(in)
		checkStripped(t, in, out)
		if again := StripReply(out); again != out {
			t.Fatalf("not idempotent:\nin    %q\nout   %q\nagain %q", in, out, again)
		}
		h := StripReplyHTML(in)
		if utf8.ValidString(in) && !utf8.ValidString(h) {
			t.Fatalf("StripReplyHTML: valid UTF-8 in, invalid out: %q", h)
		}
	})
}
