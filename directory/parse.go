package directory

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ConfigError is one problem in a directory file. Parse joins all of them
// (errors.Join) so that `liaisond check` can list every problem at once;
// use errors.As, or the Unwrap() []error of the joined error, to get them.
type ConfigError struct {
	File string
	Line int    // 1-based; 0 when unknown
	Key  string // key path, e.g. "body[3] (ccamp).kind"; "" for syntax errors
	Msg  string
}

// Error formats as `directory.toml:12: body[3] (ccamp).kind: "wgg" is not
// one of wg, area, iesg, iab, ietf, sdo`, leaving out what is unknown.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and parses a directory file; see Parse.
func Load(path string) (*Directory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err) // the *PathError names the path
	}
	return Parse(data, path)
}

// Parse parses and validates a directory file; filename is only used in
// error messages. On any problem it returns a nil Directory and an
// errors.Join of one *ConfigError per problem found.
func Parse(data []byte, filename string) (*Directory, error) {
	// Decoding into a generic map, rather than a struct, means a value of
	// the wrong type is one more reported problem instead of the end of
	// decoding, and unknown keys can be reported with their body.
	// A UTF-8 byte order mark would shift offsets and hide the first key.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		ce := &ConfigError{File: filename, Msg: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			ce.Line = syntaxLine(data, pe.Position)
			ce.Msg = "invalid TOML: " + pe.Message
		}
		return nil, errors.Join(ce)
	}
	p := &parser{file: filename, loc: newLocator(data)}
	d := p.directory(raw)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	d.index()
	return d, nil
}

// syntaxLine is the line of a TOML syntax error. BurntSushi/toml puts an
// error found at the newline ending a line (`[[body]` then newline) on the
// next line; counting lines up to the error's byte offset gives the line
// the user must fix. Its own line is kept when the offset looks unreliable.
func syntaxLine(data []byte, pos toml.Position) int {
	if pos.Start <= 0 || pos.Start >= len(data) {
		return pos.Line
	}
	n := 1 + bytes.Count(data[:pos.Start], []byte("\n"))
	if n != pos.Line && n != pos.Line-1 {
		return pos.Line
	}
	return n
}

// The keys of the file (functions, so that the package has no mutable
// state). Keep testdata/directory.toml, which documents them, in step.
func topKeys() []string { return []string{"secretariat", "body"} }

func bodyKeys() []string {
	return []string{"id", "kind", "name", "aliases", "parent", "chairs", "ads", "liaison_managers", "contacts", "list"}
}

// Which kinds may use a key; a key not listed here is for every kind. A
// key on a kind that would ignore it is reported, not silently dropped.
func kindsFor(key string) []Kind {
	switch key {
	case "parent":
		return []Kind{KindWG}
	case "chairs":
		return []Kind{KindWG, KindIESG, KindIAB, KindIETF}
	case "ads":
		return []Kind{KindArea}
	case "liaison_managers", "contacts": // per SDO (RFC 4052)
		return []Kind{KindSDO}
	}
	return nil
}

// validID reports whether id has the id syntax: lowercase letters, digits,
// '-' and '.', starting with a letter or digit, as ids appear in commands,
// URLs and JSON.
func validID(id string) bool {
	for i, r := range id {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case (r == '-' || r == '.') && i > 0:
		default:
			return false
		}
	}
	return id != ""
}

type parser struct {
	file string
	loc  *locator
	errs []error
}

func (p *parser) errorf(line int, key, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// entry is one [[body]] while it is being checked.
type entry struct {
	p     *parser
	i     int // 0-based
	label string
	raw   map[string]any
	errs  []error
	b     Body
	idOK  bool // id present, well-formed and not a duplicate
}

func (e *entry) errorf(key, format string, args ...any) {
	base, _, _ := strings.Cut(key, "[")
	e.errs = append(e.errs, &ConfigError{
		File: e.p.file,
		Line: e.p.loc.bodyLine(e.i, base),
		Key:  e.label + "." + key,
		Msg:  fmt.Sprintf(format, args...),
	})
}

func (p *parser) directory(raw map[string]any) *Directory {
	d := &Directory{}

	if v, ok := raw["secretariat"]; !ok {
		p.errorf(0, "secretariat", `missing; give the secretariat's "Name <addr>": it receives what no body can`)
	} else if s, ok := v.(string); !ok {
		p.errorf(p.loc.topLine("secretariat"), "secretariat", "must be a string, not %s", tomlType(v))
	} else if per, err := ParsePerson(s); err != nil {
		p.errorf(p.loc.topLine("secretariat"), "secretariat", "%s", badAddr(s, err))
	} else {
		d.Secretariat = per
	}

	for _, k := range unknownKeys(raw, topKeys(), p.loc.topLine) {
		p.errorf(p.loc.topLine(k), k, "%s", unknownKeyMsg(k, topKeys()))
	}

	var tables []map[string]any
	switch v := raw["body"].(type) {
	case []map[string]any: // [[body]]
		tables = v
	case []any: // body = [{...}, ...]
		p.loc.bodies = nil // the locator only knows [[body]] headers
		for i, t := range v {
			m, ok := t.(map[string]any)
			if !ok {
				p.errorf(0, fmt.Sprintf("body[%d]", i+1), "must be a table, not %s", tomlType(t))
				m = map[string]any{}
			}
			tables = append(tables, m)
		}
		if len(v) == 0 {
			p.errorf(p.loc.topLine("body"), "body", "empty; the directory must name at least one body")
		}
	case nil:
		p.errorf(0, "body", "no [[body]] tables; the directory must name at least one body")
	default:
		p.errorf(p.loc.topLine("body"), "body", "must be an array of tables ([[body]]), not %s", tomlType(v))
	}
	if len(p.loc.bodies) != len(tables) {
		p.loc.bodies = nil // the scan disagrees with the parser: give no lines
	}

	entries := make([]*entry, len(tables))
	for i, t := range tables {
		entries[i] = p.body(i, t)
	}
	p.crossCheck(entries)
	// Report in file order: the top-level problems, then body by body,
	// each by line where lines are known (the sort is stable).
	slices.SortStableFunc(p.errs, byLine)
	for _, e := range entries {
		slices.SortStableFunc(e.errs, byLine)
		p.errs = append(p.errs, e.errs...)
		b := e.b
		d.Bodies = append(d.Bodies, &b)
	}
	return d
}

// body checks everything about one body that does not depend on others.
func (p *parser) body(i int, raw map[string]any) *entry {
	e := &entry{p: p, i: i, raw: raw, label: fmt.Sprintf("body[%d]", i+1)}
	if id, ok := raw["id"].(string); ok && id != "" {
		e.label += " (" + id + ")"
	}

	for _, k := range unknownKeys(raw, bodyKeys(), func(k string) int { return p.loc.bodyLine(i, k) }) {
		e.errorf(k, "%s", unknownKeyMsg(k, bodyKeys()))
	}

	if id, ok := e.str("id"); !ok || id == "" {
		if _, present := raw["id"]; !present || ok {
			e.errorf("id", "missing; every body needs a short id (lowercase letters, digits, '-', '.')")
		}
	} else if !validID(id) {
		e.errorf("id", "%q is not a valid id: use lowercase letters, digits, '-' and '.', starting with a letter or digit", id)
	} else {
		e.b.ID, e.idOK = id, true
	}

	if k, ok := e.str("kind"); !ok {
		if _, present := raw["kind"]; !present {
			e.errorf("kind", "missing; one of %s", kindList)
		}
	} else if !Kind(k).Valid() {
		e.errorf("kind", "%q is not one of %s", k, kindList)
	} else {
		e.b.Kind = Kind(k)
	}

	if n, ok := e.str("name"); !ok || n == "" {
		if _, present := raw["name"]; !present || ok {
			e.errorf("name", "missing; give the body's full name, as used in From and To fields")
		}
	} else {
		e.b.Name = n
		e.matchable("name", n)
	}

	e.b.Aliases = e.strs("aliases")
	for j, a := range e.b.Aliases {
		e.matchable(fmt.Sprintf("aliases[%d]", j+1), a)
	}

	if s, ok := e.str("parent"); ok {
		e.b.Parent = s
	}
	e.b.Chairs = e.persons("chairs")
	e.b.ADs = e.persons("ads")
	e.b.LiaisonManagers = e.persons("liaison_managers")
	e.b.Contacts = e.persons("contacts")

	if s, ok := e.str("list"); ok && s != "" {
		if per, err := ParsePerson(s); err != nil {
			e.errorf("list", "%s", badAddr(s, err))
		} else {
			e.b.List = per.Addr
		}
	}

	// Kind-dependent rules: only when the kind itself is right.
	if k := e.b.Kind; k != "" {
		for _, key := range []string{"parent", "chairs", "ads", "liaison_managers", "contacts"} {
			if ks := kindsFor(key); raw[key] != nil && !slices.Contains(ks, k) {
				e.errorf(key, "not used by kind %s (only by %s)", k, joinKinds(ks))
			}
		}
		switch k {
		case KindWG:
			if _, present := raw["parent"]; !present {
				e.errorf("parent", "missing; a body of kind wg needs the id of its area, whose ADs supervise its chairs")
			}
			fallthrough
		case KindIESG, KindIAB, KindIETF:
			if noneGiven(raw["chairs"]) {
				e.errorf("chairs", "a body of kind %s needs at least one chair, or nobody could be assigned its statements", k)
			}
		case KindArea:
			if noneGiven(raw["ads"]) {
				e.errorf("ads", "a body of kind area needs at least one AD, or nobody could be assigned its statements")
			}
		}
	}
	return e
}

// crossCheck checks what involves several bodies: duplicate ids, parents,
// single bodies of kind ietf, iesg and iab, and names that would make
// matching ambiguous.
func (p *parser) crossCheck(entries []*entry) {
	byID := map[string]*entry{}
	for _, e := range entries {
		if !e.idOK {
			continue
		}
		if first, dup := byID[e.b.ID]; dup {
			e.errorf("id", "duplicate id %q (also %s)", e.b.ID, first.label)
			e.idOK = false
			continue
		}
		byID[e.b.ID] = e
	}

	for _, e := range entries {
		if e.b.Kind != KindWG || e.b.Parent == "" {
			continue
		}
		switch parent, ok := byID[e.b.Parent]; {
		case !ok:
			e.errorf("parent", "%q is not the id of any body", e.b.Parent)
		case parent.b.Kind != KindArea && parent.b.Kind != "":
			e.errorf("parent", "%q is of kind %s, not area", e.b.Parent, parent.b.Kind)
		}
	}

	// Supervisors and IETFChairs need a single IETF, IESG and IAB.
	single := map[Kind]*entry{}
	for _, e := range entries {
		switch k := e.b.Kind; k {
		case KindIETF, KindIESG, KindIAB:
			if first, dup := single[k]; dup {
				e.errorf("kind", "a second body of kind %s (the first is %s); there can be only one", k, first.label)
				continue
			}
			single[k] = e
		}
	}

	// Names, aliases and ids must stay distinct once matching has ignored
	// case, spacing and punctuation, or Match could only answer "ambiguous".
	type owner struct {
		e          *entry
		key, value string
	}
	seen := map[string]owner{}
	for _, e := range entries {
		names := []owner{}
		if e.idOK {
			names = append(names, owner{e, "id", e.b.ID})
		}
		if e.b.Name != "" {
			names = append(names, owner{e, "name", e.b.Name})
		}
		for j, a := range e.b.Aliases {
			names = append(names, owner{e, fmt.Sprintf("aliases[%d]", j+1), a})
		}
		for _, n := range names {
			k := matchKeys(n.value)[0]
			if k == "" {
				continue // reported by matchable
			}
			first, ok := seen[k]
			switch {
			case !ok:
				seen[k] = n
			case first.e != e:
				e.errorf(n.key, "%q is the same name as %s.%s %q once case, spacing and punctuation are ignored; matching could not tell the two bodies apart",
					n.value, first.e.label, first.key, first.value)
			}
		}
	}
}

// str returns a string value; ok is false when absent or not a string
// (which is reported).
func (e *entry) str(key string) (string, bool) {
	v, present := e.raw[key]
	if !present {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		e.errorf(key, "must be a string, not %s", tomlType(v))
	}
	return s, ok
}

// strs returns an array of strings, leaving out (and reporting) the rest.
func (e *entry) strs(key string) []string {
	v, present := e.raw[key]
	if !present {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		e.errorf(key, `must be an array of strings, like ["..."], not %s`, tomlType(v))
		return nil
	}
	var out []string
	for j, x := range arr {
		s, ok := x.(string)
		if !ok {
			e.errorf(fmt.Sprintf("%s[%d]", key, j+1), "must be a string, not %s", tomlType(x))
			continue
		}
		out = append(out, s)
	}
	return out
}

// persons returns an array of RFC 5322 mailboxes, leaving out (and
// reporting) the bad ones.
func (e *entry) persons(key string) []Person {
	var out []Person
	for j, s := range e.strs(key) {
		per, err := ParsePerson(s)
		if err != nil {
			e.errorf(fmt.Sprintf("%s[%d]", key, j+1), "%s", badAddr(s, err))
			continue
		}
		out = append(out, per)
	}
	return out
}

// matchable reports a name that Match could never find.
func (e *entry) matchable(key, name string) {
	if matchKeys(name)[0] == "" {
		e.errorf(key, "%q has no letters or digits, so no From or To field could match it", name)
	}
}

func byLine(a, b error) int {
	return cmp.Compare(a.(*ConfigError).Line, b.(*ConfigError).Line)
}

func badAddr(s string, err error) string {
	return fmt.Sprintf(`%q is not an email address ("Name <addr>" or addr): %v`, s, err)
}

// noneGiven reports an absent or empty array. (Bad entries and values of
// the wrong type are reported on their own.)
func noneGiven(v any) bool {
	a, ok := v.([]any)
	return v == nil || ok && len(a) == 0
}

func joinKinds(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// unknownKeys returns the keys of m not in known, in file order as far as
// the locator knows it, then by name.
func unknownKeys(m map[string]any, known []string, line func(string) int) []string {
	var out []string
	for k := range m {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), cmp.Compare(a, b))
	})
	return out
}

// unknownKeyMsg suggests the known key a typo was probably meant to be.
func unknownKeyMsg(key string, known []string) string {
	best, bestD := "", 3 // suggest only within 2 edits
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key (known keys: " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// tomlType names the TOML type of a decoded value, for messages.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "datetime"
	case []any, []map[string]any:
		return "array"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}
