package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// decodeEach decodes the TOML text key by key into c, so that one value of
// the wrong form (a bad duration, a string for a number) is reported with
// its key and line and does not hide the problems after it. Only a syntax
// error stops everything: then no key can be trusted.
func (c *Config) decodeEach(text string) (errs []error, ok bool) {
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return []error{&ConfigError{File: c.path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}}, false
		}
		return []error{&ConfigError{File: c.path, Msg: err.Error()}}, false
	}
	c.lines = keyLines(text)
	known := knownKeys(reflect.TypeOf(Config{}), "")
	decodeOne := func(key string, one map[string]any) {
		var buf bytes.Buffer
		if err := toml.NewEncoder(&buf).Encode(one); err != nil {
			errs = append(errs, c.problem(key, err.Error()))
			return
		}
		md, err := toml.Decode(buf.String(), c)
		if err != nil {
			msg := err.Error()
			var pe toml.ParseError
			if errors.As(err, &pe) {
				msg = pe.Message
			}
			// The one-key document's line and key mean nothing to the
			// reader: the problem line carries the real ones.
			msg = strings.TrimPrefix(msg, "toml: ")
			if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "line ") && i > 0 {
				msg = msg[i+3:]
			}
			errs = append(errs, c.problem(key, msg))
			return
		}
		for _, k := range md.Undecoded() {
			name := k.String()
			if _, isTable := doc[name].(map[string]any); isTable && known[name] {
				continue
			}
			if len(k) > 1 && !known[k[0]] {
				continue // in an unknown table: the table's own line says it
			}
			msg := "unknown key; example/liaisond.toml lists the keys there are"
			if near := nearestKey(name, known); near != "" {
				msg = fmt.Sprintf("unknown key; did you mean %s?", near)
			}
			errs = append(errs, c.problem(name, msg))
		}
	}
	for _, k := range sortedKeys(doc) {
		table, isTable := doc[k].(map[string]any)
		if !isTable {
			decodeOne(k, map[string]any{k: doc[k]})
			continue
		}
		if len(table) == 0 {
			decodeOne(k, map[string]any{k: table})
		}
		for _, sub := range sortedKeys(table) {
			decodeOne(k+"."+sub, map[string]any{k: map[string]any{sub: table[sub]}})
		}
	}
	sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
	return errs, true
}

func lineOf(err error) int {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Line
	}
	return 0
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// problem is a ConfigError for key, with the line it is on in the file.
func (c *Config) problem(key, msg string) *ConfigError {
	return &ConfigError{File: c.file(), Line: c.lineOfKey(key), Key: key, Msg: msg}
}

// lineOfKey is the line key is written on, or that of the nearest table
// header above it (0: not in the file, a default).
func (c *Config) lineOfKey(key string) int {
	for k := key; k != ""; {
		if n, ok := c.lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// keyLines maps each dotted key ("smtp.listen") and table ("smtp") to the
// line it is written on: enough TOML to point at a line, for the flat
// tables a liaisond config has.
func keyLines(text string) map[string]int {
	lines := map[string]int{}
	table := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case strings.HasPrefix(line, "["):
			table = strings.Trim(strings.TrimSpace(strings.SplitN(line, "#", 2)[0]), "[] ")
			if _, ok := lines[table]; !ok {
				lines[table] = n
			}
		default:
			k, _, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			k = strings.Trim(strings.TrimSpace(k), `"'`)
			if table != "" {
				k = table + "." + k
			}
			if _, ok := lines[k]; !ok {
				lines[k] = n
			}
		}
	}
	return lines
}

// knownKeys lists every dotted key the configuration has, from the toml
// tags of t (tables included).
func knownKeys(t reflect.Type, prefix string) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + tag
		keys[name] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}) {
			for k := range knownKeys(ft, name+".") {
				keys[k] = true
			}
		}
	}
	return keys
}

// nearestKey is the known key closest to name by edit distance, if close
// enough to be a typo (log_levle: log_level).
func nearestKey(name string, known map[string]bool) string {
	best, bestD := "", 3
	if len(name) <= 4 {
		bestD = 2
	}
	for k := range known {
		d := editDistance(name, k)
		// A key put in the wrong table (listen at top level for smtp.listen)
		// is also close.
		if i := strings.LastIndexByte(k, '.'); i >= 0 && !strings.Contains(name, ".") && k[i+1:] == name {
			d = 1
		}
		if d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance: a swap of two neighbours counts once.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
