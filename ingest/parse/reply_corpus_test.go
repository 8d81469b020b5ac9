package parse

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// replyCorpora are the public reply-parsing corpora in testdata/replies (see
// its README), with the number of expected.tsv rows StripReply must get
// right: the agreement reached when the floor was set. Raise a floor when the
// stripper gets better; a drop below it is a regression.
// The github corpus names its files relative to emails/.
var replyCorpora = []struct {
	dir, files string
	floor      int
}{
	{"github-email_reply_parser", "emails", 23},
	{"crisp-email-reply-parser", "", 74},
	{"talon", "", 19},
	{"liaisond", "", 62},
	{"locales", "", 56},
}

// replyCase is one expected.tsv row.
type replyCase struct {
	file, check, text, basis string
}

func readExpected(t *testing.T, path string) []replyCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []replyCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		if sc.Text() == "" {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 4 {
			t.Fatalf("%s: row %q: want 4 tab-separated columns, have %d", path, sc.Text(), len(c))
		}
		rows = append(rows, replyCase{c[0], c[1], unescapeTSV(c[2]), c[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", path)
	}
	return rows
}

// unescapeTSV undoes the expected.tsv escapes: \n is a newline, \\ a backslash.
func unescapeTSV(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// replyFixtureText returns the reply text a fixture yields: .eml files are
// parsed as mail and their reply text is taken as for a command mail
// (ReplyText: the HTML stripped as HTML when there is no text part); .html
// files go through StripReplyHTML; anything else is a plain text body.
func replyFixtureText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(path) {
	case ".eml":
		m, err := ParseMessage(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return ReplyText(m)
	case ".html":
		return StripReplyHTML(string(data))
	}
	return StripReply(string(data))
}

func checkReply(got string, c replyCase) bool {
	switch c.check {
	case "equals":
		// talon compares stripped strings; the others compare the visible
		// text right-trimmed.
		return strings.TrimSpace(got) == strings.TrimSpace(c.text)
	case "starts_with":
		return strings.HasPrefix(got, c.text)
	case "contains":
		return strings.Contains(got, c.text)
	case "not_contains":
		return !strings.Contains(got, c.text)
	case "equals_ignoring_whitespace":
		drop := func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}
		return strings.Map(drop, got) == strings.Map(drop, c.text)
	}
	return false
}

// TestReplyCorpus runs every expected.tsv row of the corpora against the
// stripper, prints the agreement per corpus, and fails when it drops below
// the corpus's floor.
func TestReplyCorpus(t *testing.T) {
	for _, corpus := range replyCorpora {
		dir := filepath.Join("testdata", "replies", corpus.dir)
		rows := readExpected(t, filepath.Join(dir, "expected.tsv"))
		right := 0
		cache := map[string]string{}
		for _, c := range rows {
			switch c.check {
			case "equals", "starts_with", "contains", "not_contains", "equals_ignoring_whitespace":
			default:
				t.Fatalf("%s: %s: unknown check %q", dir, c.file, c.check)
			}
			got, ok := cache[c.file]
			if !ok {
				got = replyFixtureText(t, filepath.Join(dir, corpus.files, c.file))
				cache[c.file] = got
			}
			if checkReply(got, c) {
				right++
				continue
			}
			t.Logf("%s/%s: %s %q: got %q (%s)", corpus.dir, c.file, c.check, clipCorpus(c.text), clipCorpus(got), c.basis)
		}
		t.Logf("reply corpus %s: %d/%d rows right", corpus.dir, right, len(rows))
		if right < corpus.floor {
			t.Errorf("reply corpus %s: %d/%d rows right, below the floor of %d: a regression", corpus.dir, right, len(rows), corpus.floor)
		}
	}
}

func clipCorpus(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
