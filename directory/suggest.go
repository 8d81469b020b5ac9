package directory

import (
	"sort"
	"strings"
)

// maxSuggestions is how many bodies Suggest names at most.
const maxSuggestions = 3

// Suggest returns the bodies whose names are closest to a name that matched
// none (DESIGN 4: an unknown addressee is told, with the names it may have
// meant), best first, at most three. A body is close when one of its names,
// in the most relaxed form Match tries, is within a small edit distance
// (a typo: "CCAMPP", "netmode"), or contains or is contained in the name
// ("CCAMP Routing" for "ccamp"). Nothing close gives nil: a suggestion that
// is a mere guess helps nobody.
func (d *Directory) Suggest(name string) []*Body {
	keys := matchKeys(name)
	key := keys[len(keys)-1]
	if key == "" {
		return nil
	}
	type scored struct {
		b     *Body
		score int
		pos   int
	}
	var found []scored
	for i, b := range d.Bodies {
		best := -1
		for _, n := range b.names() {
			nk := matchKeys(n)
			k := nk[len(nk)-1]
			if k == "" {
				continue
			}
			s := -1
			dist := 99
			if d := len(key) - len(k); d <= 3 && d >= -3 {
				dist = editDistance(key, k)
			}
			switch {
			case dist <= closeDistance(key, k):
				s = dist
			case len(k) >= 3 && len(key) >= 3 && (strings.Contains(key, k) || strings.Contains(k, key)):
				s = 4
			}
			if s >= 0 && (best < 0 || s < best) {
				best = s
			}
		}
		if best >= 0 {
			found = append(found, scored{b, best, i})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score < found[j].score })
	var out []*Body
	for _, f := range found {
		if len(out) == maxSuggestions {
			break
		}
		out = append(out, f.b)
	}
	return out
}

// closeDistance is the edit distance still taken for a typo: none for very
// short names (one letter off in "rtg" is another body), then one edit per
// four letters, at most three.
func closeDistance(a, b string) int {
	n := min(len(a), len(b))
	switch {
	case n < 4:
		return 0
	case n/4 > 3:
		return 3
	}
	return n / 4
}
