package parse

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dateSeparator splits dates as the regexp it replaced did.
func TestDateSeparatorSameAsRegexp(t *testing.T) {
	re := regexp.MustCompile(`[\s,./-]+`)
	split := func(v string) []string {
		var p []string
		for _, s := range re.Split(v, -1) {
			if s != "" {
				p = append(p, s)
			}
		}
		return p
	}
	rng := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"2027", "01", "31", "jan", " ", "\t", "\v", "\u00a0", "\u2003", ",", ".", "/", "-", "--", "\xff", "é", "\r\n", "\f", "_"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		v := b.String()
		if got, want := strings.FieldsFunc(v, dateSeparator), split(v); !slices.Equal(got, want) {
			t.Fatalf("%q: parts %q, the regexp gives %q", v, got, want)
		}
	}
}
