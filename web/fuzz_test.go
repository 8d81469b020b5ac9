package web

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAttachmentHeaders: whatever name and type a mail gives an attachment,
// the download headers stay one safe line each.
func FuzzAttachmentHeaders(f *testing.F) {
	for _, s := range []string{"ls.pdf", "../../etc/passwd", "a\r\nX-Evil: 1", "Résumé “x”.pdf", "", "...", "a/b\\c", "\x00\xff"} {
		f.Add(s, "text/html; charset=\"x\r\nY: z\"")
	}
	f.Fuzz(func(t *testing.T, name, ctype string) {
		safe := safeFilename(name, 3)
		if safe == "" || strings.ContainsAny(safe, "/\\\"\r\n\x00") || strings.HasPrefix(safe, ".") || !utf8.ValidString(safe) || len(safe) > 150 {
			t.Fatalf("safeFilename(%q) = %q", name, safe)
		}
		cd := contentDisposition(safe)
		if !strings.HasPrefix(cd, `attachment; filename="`) || strings.ContainsAny(cd, "\r\n\x00") {
			t.Fatalf("contentDisposition(%q) = %q", safe, cd)
		}
		for _, r := range cd {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("contentDisposition(%q) = %q: not printable ASCII", safe, cd)
			}
		}
		if ct := safeContentType(ctype); ct != "application/octet-stream" && !safeTypes[strings.SplitN(ct, ";", 2)[0]] {
			t.Fatalf("safeContentType(%q) = %q", ctype, ct)
		}
	})
}

// FuzzICalendarText: any text becomes content lines of at most 75 octets,
// CRLF-ended, that unfold and unescape to the text (less control characters).
func FuzzICalendarText(f *testing.F) {
	for _, s := range []string{"plain", "a,b;c\\d\ne", strings.Repeat("ü", 80), strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c icsWriter
		c.prop("SUMMARY", s)
		out := c.buf.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatal("no CRLF at the end")
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 75 || strings.ContainsAny(l, "\r\n") || (i > 0 && !strings.HasPrefix(l, " ")) {
				t.Fatalf("bad line %d: %q", i, l)
			}
			if !utf8.ValidString(l) {
				t.Fatalf("line %d splits a UTF-8 sequence: %q", i, l)
			}
		}
		unfolded := lines[0]
		for _, l := range lines[1:] {
			unfolded += l[1:]
		}
		val := strings.TrimPrefix(unfolded, "SUMMARY:")
		var back strings.Builder
		for i := 0; i < len(val); i++ {
			if val[i] == '\\' && i+1 < len(val) {
				i++
				if val[i] == 'n' {
					back.WriteByte('\n')
				} else {
					back.WriteByte(val[i])
				}
				continue
			}
			back.WriteByte(val[i])
		}
		want := strings.Map(func(r rune) rune {
			if r == '\r' {
				return -1
			}
			if r != '\n' && (r < 0x20 || r == 0x7f) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
		if back.String() != want {
			t.Fatalf("round trip of %q gave %q", want, back.String())
		}
	})
}
