package directory

import (
	"strings"
	"unicode"
)

// matchSteps is the number of ever more relaxed forms a name is tried in.
const matchSteps = 3

// matchKeys returns the forms in which a name is looked up, most exact
// first; Match stops at the first form that finds anything, and several
// bodies found at one step is an ambiguity, never a guess.
//
// Free-text From/To fields (RFC 4053 section 2.2.1.1) spell bodies many
// ways, so every form is case-insensitive and ignores punctuation and
// spacing ("ITU-T SG 15" = "itu-t  sg-15"), and "working group" is always
// read as "WG". Then:
//
//  1. the whole name;
//  2. without a leading "IETF" or "the" (repeatedly: "the IETF ...");
//  3. also without a trailing "WG".
//
// Step 2 exists so that "IETF Operations and Management Area Working Group"
// finds opsawg alone, where dropping both ends at once would also find the
// Operations and Management Area. A form is "" when it has nothing left
// (words are never dropped down to nothing: "the IETF" still finds "IETF").
func matchKeys(name string) [matchSteps]string {
	w := words(name)
	var keys [matchSteps]string
	keys[0] = strings.Join(w, "")
	for len(w) > 1 && (w[0] == "ietf" || w[0] == "the") {
		w = w[1:]
	}
	keys[1] = strings.Join(w, "")
	if len(w) > 1 && w[len(w)-1] == "wg" {
		w = w[:len(w)-1]
	}
	keys[2] = strings.Join(w, "")
	return keys
}

// words splits a name into lowercased runs of letters and digits, with
// "working group" (or "workinggroup") turned into "wg".
func words(name string) []string {
	f := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := f[:0]
	for i := 0; i < len(f); i++ {
		switch {
		case f[i] == "working" && i+1 < len(f) && f[i+1] == "group":
			out = append(out, "wg")
			i++
		case f[i] == "workinggroup":
			out = append(out, "wg")
		default:
			out = append(out, f[i])
		}
	}
	return out
}
