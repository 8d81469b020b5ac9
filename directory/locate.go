package directory

import (
	"regexp"
	"strings"
)

// locator finds, on a best-effort basis, the line of a key in the TOML
// source. BurntSushi/toml does not report positions of keys inside arrays of
// tables, but `liaisond check` is far more useful with line numbers, so the
// source is scanned here for [[body]] headers and "key =" lines. Anything it
// cannot be sure of gives line 0 ("unknown"), never a wrong line.
type locator struct {
	top    map[string]int   // top-level key -> line
	bodies []map[string]int // per [[body]] header: key -> line; "" -> header line
}

func newLocator(data []byte) *locator {
	// A table header alone on its line, [name] or [[name]], with an
	// optional comment; and the first part of the key of a key/value line.
	// (Compiled here so that the package keeps no state.)
	headerRE := regexp.MustCompile(`^(\[\[?)\s*([^\[\]]+?)\s*(\]\]?)\s*(#.*)?$`)
	keyRE := regexp.MustCompile(`^([A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')\s*[.=]`)

	l := &locator{top: map[string]int{}}
	const (
		secTop = iota
		secBody
		secOther
	)
	sec := secTop
	var sc lineScanner
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		start := sc.idle() // not inside a multi-line string or array
		sc.scan(line)
		if !start {
			continue
		}
		t := strings.TrimSpace(line)
		if m := headerRE.FindStringSubmatch(t); m != nil {
			if len(m[1]) != len(m[3]) {
				sec = secOther
				continue
			}
			path := strings.Split(m[2], ".")
			for j := range path {
				path[j] = strings.Trim(strings.TrimSpace(path[j]), `"'`)
			}
			switch {
			case len(path) == 1 && path[0] == "body" && m[1] == "[[":
				l.bodies = append(l.bodies, map[string]int{"": n})
				sec = secBody
			case len(path) > 1 && path[0] == "body" && len(l.bodies) > 0:
				// A sub-table of the current body: remember where its
				// key starts, but its own keys are not body keys.
				setFirst(l.bodies[len(l.bodies)-1], path[1], n)
				sec = secOther
			default:
				setFirst(l.top, path[0], n)
				sec = secOther
			}
			continue
		}
		m := keyRE.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		key := strings.Trim(m[1], `"'`)
		switch sec {
		case secTop:
			setFirst(l.top, key, n)
		case secBody:
			setFirst(l.bodies[len(l.bodies)-1], key, n)
		}
	}
	return l
}

func setFirst(m map[string]int, key string, line int) {
	if _, ok := m[key]; !ok {
		m[key] = line
	}
}

// topLine returns the line of a top-level key, or 0.
func (l *locator) topLine(key string) int {
	if l == nil {
		return 0
	}
	return l.top[key]
}

// bodyLine returns the line of a key of the i-th (0-based) body, or of its
// [[body]] header if the key is not there, or 0.
func (l *locator) bodyLine(i int, key string) int {
	if l == nil || i < 0 || i >= len(l.bodies) {
		return 0
	}
	if n, ok := l.bodies[i][key]; ok {
		return n
	}
	return l.bodies[i][""]
}

// lineScanner tracks, line by line, whether the scan is inside a multi-line
// string or an open array or inline table, where a line that looks like a
// header or a key is not one.
type lineScanner struct {
	multi string // `"""` or `'''` while inside a multi-line string
	depth int    // open [ and { of a value spanning lines
}

func (s *lineScanner) idle() bool { return s.multi == "" && s.depth == 0 }

func (s *lineScanner) scan(line string) {
	i := 0
	for i < len(line) {
		if s.multi != "" {
			j := closing(line[i:], s.multi)
			if j < 0 {
				return
			}
			i += j + len(s.multi)
			// A closing delimiter may be followed by up to two more quotes
			// that belong to the string.
			for i < len(line) && line[i] == s.multi[0] {
				i++
			}
			s.multi = ""
			continue
		}
		switch c := line[i]; c {
		case '#':
			return
		case '"', '\'':
			q := line[i : i+1]
			if strings.HasPrefix(line[i:], q+q+q) {
				s.multi = q + q + q
				i += 3
				continue
			}
			j := closing(line[i+1:], q)
			if j < 0 {
				return // unterminated: a syntax error TOML will report
			}
			i += 1 + j + 1
			continue
		case '[', '{':
			s.depth++
		case ']', '}':
			if s.depth > 0 {
				s.depth--
			}
		}
		i++
	}
}

// closing returns the index of the delimiter that ends a string in s, or -1.
// Backslash escapes count only in basic ("...") strings.
func closing(s, delim string) int {
	for i := 0; i < len(s); i++ {
		if delim[0] == '"' && s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], delim) {
			return i
		}
	}
	return -1
}
