package parse

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
		"testdata/replies/locales/*.txt",
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
// nothing. StripReplyHTML: see checkStrippedHTML.
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
	f.Add("<blockquote>close</blockquote>")
	f.Add("x\n2016/7/20 A <a@b>\n| close\n\u1427\nB <b@c> schrieb am\nFr., 28. Apr. 2017 um 11:53 Uhr:\n> y")
	f.Add("Hi,<blockquote>x</blockquote>answer<div class=gmail_quote>y</div>more")
	f.Add("<p class=MsoNormal>close<o:p></o:p></p><div style='border:none;border-top:solid #E1E1E1 1.0pt'><p>From: a</p></div><p>reopen</p>")
	f.Fuzz(func(t *testing.T, in string) {
		out := StripReply(in)
		checkStripped(t, in, out)
		if again := StripReply(out); again != out {
			t.Fatalf("not idempotent:\nin    %q\nout   %q\nagain %q", in, out, again)
		}
		checkStrippedHTML(t, in, StripReplyHTML(in))
	})
}

// checkStrippedHTML checks the invariants of StripReplyHTML's output: never
// more text than the input, no quoted line (the quote markers it puts where
// quote elements were never come out), valid UTF-8 (the HTML parser makes
// any input valid), no empty line at either end, and stripping the output
// as text changes nothing.
func checkStrippedHTML(t *testing.T, in, out string) {
	t.Helper()
	if len(out) > len(in) {
		t.Fatalf("StripReplyHTML: output (%d bytes) longer than input (%d bytes): %q", len(out), len(in), out)
	}
	if !utf8.ValidString(out) {
		t.Fatalf("StripReplyHTML: invalid UTF-8 out: %q", out)
	}
	if out == "" {
		return
	}
	for _, l := range strings.Split(out, "\n") {
		if s := strings.TrimSpace(l); s != "" && isQuoted(s) {
			t.Fatalf("StripReplyHTML: quoted line in output: %q", l)
		}
	}
	if l := strings.Split(out, "\n"); l[0] == "" || l[len(l)-1] == "" {
		t.Fatalf("StripReplyHTML: empty line at an end of %q", out)
	}
	if again := StripReply(out); again != out {
		t.Fatalf("StripReplyHTML: output not stable under StripReply:\nin    %q\nout   %q\nagain %q", in, out, again)
	}
}
