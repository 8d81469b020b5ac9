package directory

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func demo(t *testing.T) *Directory {
	t.Helper()
	d, err := Parse(Demo, "demo.toml")
	if err != nil {
		t.Fatalf("Parse(Demo): %v", err)
	}
	return d
}

// problems returns the messages of a joined Parse error, checking that each
// is a *ConfigError.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("Parse succeeded, want errors")
	}
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %q is not an errors.Join", err)
	}
	var out []string
	for _, e := range u.Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Errorf("%q is a %T, not a *ConfigError", e, e)
		}
		out = append(out, e.Error())
	}
	return out
}

func ids(bodies []*Body) []string {
	var out []string
	for _, b := range bodies {
		out = append(out, b.ID)
	}
	return out
}

func TestDemoIsTestdata(t *testing.T) {
	td, err := os.ReadFile(filepath.Join("..", "testdata", "directory.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(td, Demo) {
		t.Error("directory/demo.toml and testdata/directory.toml differ; copy one over the other")
	}
}

func TestParseDemo(t *testing.T) {
	d := demo(t)
	want := []string{
		"ietf", "iesg", "iab",
		"rtg", "ops", "sec", "art",
		"ccamp", "mpls", "opsawg", "netmod", "lamps",
		"itu-t-sg15", "itu-t-sg13", "3gpp-sa2", "ieee-802-1", "bbf", "etsi",
	}
	if got := ids(d.Bodies); !slices.Equal(got, want) {
		t.Errorf("bodies = %v, want %v", got, want)
	}
	if want := (Person{"IETF Secretariat", "statements@ietf.example"}); d.Secretariat != want {
		t.Errorf("secretariat = %+v, want %+v", d.Secretariat, want)
	}
	wantCCAMP := &Body{
		ID:      "ccamp",
		Name:    "IETF CCAMP Working Group",
		Kind:    KindWG,
		Aliases: []string{"CCAMP", "CCAMP WG", "Common Control and Measurement Plane"},
		Parent:  "rtg",
		Chairs:  []Person{{"Alice Chair", "alice@ccamp.example"}, {"Bob Chair", "bob@ccamp.example"}},
		List:    "ccamp@ietf.example",
	}
	if got := d.Body("ccamp"); !reflect.DeepEqual(got, wantCCAMP) {
		t.Errorf("ccamp = %+v\nwant %+v", got, wantCCAMP)
	}
	sg15 := d.Body("itu-t-sg15")
	if want := []Person{{"Dan Manager", "dan@lm.example"}}; !slices.Equal(sg15.LiaisonManagers, want) {
		t.Errorf("sg15 liaison managers = %v, want %v", sg15.LiaisonManagers, want)
	}
	if want := []Person{{"", "tsbsg15@itu.example"}}; !slices.Equal(sg15.Contacts, want) {
		t.Errorf("sg15 contacts = %v, want %v", sg15.Contacts, want)
	}
	// The brief's demo requirements: every SDO has a liaison manager and
	// contacts; every address is an example one.
	for _, b := range d.Bodies {
		if b.Kind == KindSDO && (len(b.LiaisonManagers) == 0 || len(b.Contacts) == 0) {
			t.Errorf("%s: an SDO without a liaison manager or contacts", b.ID)
		}
		for _, p := range slices.Concat(b.Chairs, b.ADs, b.LiaisonManagers, b.Contacts, []Person{{Addr: b.List}}) {
			if p.Addr != "" && !strings.HasSuffix(p.Addr, ".example") {
				t.Errorf("%s: %s is not an example address", b.ID, p.Addr)
			}
		}
	}
	if d.Body("nope") != nil || d.Body("") != nil {
		t.Error("Body of an unknown id is not nil")
	}
	if d.Body(" CCAMP ") != d.Body("ccamp") {
		t.Error("Body does not ignore case and spaces")
	}
}

func TestLoad(t *testing.T) {
	d, err := Load(filepath.Join("..", "testdata", "directory.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Bodies) != 18 {
		t.Errorf("Load: %d bodies, want 18", len(d.Bodies))
	}

	missing := filepath.Join(t.TempDir(), "nosuch.toml")
	_, err = Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a not-exist error naming %s", err, missing)
	}

	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("secretariat = 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := bad + ": body: no [[body]] tables; the directory must name at least one body\n" +
		bad + ":1: secretariat: must be a string, not integer"; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want errors naming %s and the line", err, bad)
	}
}

func TestMatch(t *testing.T) {
	d := demo(t)
	tests := []struct {
		name string
		want string
		step int // the matchKeys step expected to find it
	}{
		{"IETF CCAMP Working Group", "ccamp", 1}, // name
		{"CCAMP", "ccamp", 1},                    // alias
		{"ccamp", "ccamp", 1},                    // id
		{"Common Control and Measurement Plane", "ccamp", 1},
		{"ccamp wg", "ccamp", 1},
		{"IETF CCAMP WG", "ccamp", 1}, // "working group" reads as "WG"
		{"the CCAMP working group", "ccamp", 2},
		{"The IETF MPLS WG", "mpls", 2},
		{"IETF MPLS", "mpls", 2},
		{"IETF Network Modeling", "netmod", 3},
		{"ITU-T Study Group 15", "itu-t-sg15", 1},
		{"itu-t  sg-15", "itu-t-sg15", 1},
		{"ITU-T SG 15", "itu-t-sg15", 1},
		{"itu-t-sg15", "itu-t-sg15", 1},
		{"ITU-T SG13", "itu-t-sg13", 1},
		{"3GPP TSG SA WG2", "3gpp-sa2", 1},
		{"3GPP SA2", "3gpp-sa2", 1},
		{"sa2", "3gpp-sa2", 1},
		{"3gpp sa wg2", "3gpp-sa2", 1},
		{"IEEE 802.1", "ieee-802-1", 1},
		{"IEEE 802.1 WG", "ieee-802-1", 1},
		{"the Broadband Forum", "bbf", 2},
		{"ETSI", "etsi", 1},
		{"  routing   AREA ", "rtg", 1},
		{"IETF", "ietf", 1},
		{"the IETF", "ietf", 2},
		{"IESG", "iesg", 1},
		{"Internet Architecture Board", "iab", 1},
		// Two bodies whose names differ only by "Working Group".
		{"Operations and Management Area Working Group", "opsawg", 1},
		{"Operations and Management Area", "ops", 1},
		{"Operations and Management Area WG", "opsawg", 1},
		{"IETF Operations and Management Area Working Group", "opsawg", 2},
		{"IETF Operations and Management Area", "ops", 2},
		{"OPSAWG", "opsawg", 1},
		{"ops", "ops", 1},
	}
	for _, tt := range tests {
		b, err := d.Match(tt.name)
		if err != nil {
			t.Errorf("Match(%q): %v", tt.name, err)
			continue
		}
		if b.ID != tt.want {
			t.Errorf("Match(%q) = %s, want %s", tt.name, b.ID, tt.want)
		}
		if _, step := d.match(tt.name); step != tt.step {
			t.Errorf("Match(%q) matched at step %d, want %d", tt.name, step, tt.step)
		}
	}
}

func TestMatchNotFound(t *testing.T) {
	d := demo(t)
	for _, name := range []string{"ITU-T SG 16", "", "  --  ", "WG", "Working Group", "CCAMP Area", "IETF Foo"} {
		b, err := d.Match(name)
		if !errors.Is(err, ErrNotFound) || b != nil {
			t.Errorf("Match(%q) = %v, %v; want ErrNotFound", name, b, err)
			continue
		}
		if want := `directory: no body by that name: "` + name + `"`; err.Error() != want {
			t.Errorf("Match(%q) error = %q, want %q", name, err, want)
		}
	}
}

// Parse rejects names that collide once case, spacing and punctuation are
// ignored, so an ambiguity can only appear at the relaxed steps: here two
// bodies whose names differ only in a leading "IETF".
func TestMatchAmbiguous(t *testing.T) {
	const file = `secretariat = "sec@x.example"
[[body]]
id = "a"
kind = "sdo"
name = "Foo WG"
[[body]]
id = "b"
kind = "sdo"
name = "IETF Foo Working Group"
[[body]]
id = "c"
kind = "sdo"
name = "Bar"
`
	d, err := Parse([]byte(file), "amb.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want string // error, or "" for the id of a unique match
		id   string
	}{
		{name: "Foo", want: `"Foo" matches 2 bodies: a (Foo WG), b (IETF Foo Working Group); use the full name or the id`},
		{name: "the foo wg", want: `"the foo wg" matches 2 bodies: a (Foo WG), b (IETF Foo Working Group); use the full name or the id`},
		{name: "Foo WG", id: "a"},
		{name: "IETF Foo WG", id: "b"},
		{name: "b", id: "b"},
		{name: "the Bar WG", id: "c"},
	}
	for _, tt := range tests {
		b, err := d.Match(tt.name)
		if tt.want == "" {
			if err != nil || b.ID != tt.id {
				t.Errorf("Match(%q) = %v, %v; want %s", tt.name, b, err, tt.id)
			}
			continue
		}
		var ae *AmbiguousError
		if !errors.As(err, &ae) || b != nil {
			t.Errorf("Match(%q) = %v, %v; want an *AmbiguousError", tt.name, b, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Match(%q) error =\n%s\nwant\n%s", tt.name, err, tt.want)
		}
		if got := ids(ae.Candidates); !slices.Equal(got, []string{"a", "b"}) || ae.Name != tt.name {
			t.Errorf("Match(%q): Name %q, Candidates %v", tt.name, ae.Name, got)
		}
	}
}

func TestMatchKeys(t *testing.T) {
	tests := []struct {
		name string
		want [matchSteps]string
	}{
		{"IETF CCAMP Working Group", [3]string{"ietfccampwg", "ccampwg", "ccamp"}},
		{"the IETF ccamp WorkingGroup", [3]string{"theietfccampwg", "ccampwg", "ccamp"}},
		{"ITU-T SG 15", [3]string{"itutsg15", "itutsg15", "itutsg15"}},
		{"The", [3]string{"the", "the", "the"}},
		{"the WG", [3]string{"thewg", "wg", "wg"}},
		{"Theory WG", [3]string{"theorywg", "theorywg", "theory"}},
		{"Ünïcode Group", [3]string{"ünïcodegroup", "ünïcodegroup", "ünïcodegroup"}},
		{" -- ", [3]string{}},
	}
	for _, tt := range tests {
		if got := matchKeys(tt.name); got != tt.want {
			t.Errorf("matchKeys(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAssigneeSupervisors(t *testing.T) {
	d := demo(t)
	ivy := Person{"Ivy Chair", "chair@ietf.example"}
	tests := []struct {
		id          string
		assignee    Person
		ok          bool
		supervisors []Person
	}{
		{"ccamp", Person{"Alice Chair", "alice@ccamp.example"}, true,
			[]Person{{"Carol AD", "carol@ietf.example"}, {"Rick AD", "rick@ietf.example"}}},
		{"opsawg", Person{"Olga Chair", "olga@opsawg.example"}, true,
			[]Person{{"Olivia AD", "olivia@ietf.example"}, {"Oscar AD", "oscar@ietf.example"}}},
		{"lamps", Person{"Lena Chair", "lena@lamps.example"}, true,
			[]Person{{"Sam AD", "sam@ietf.example"}, {"Sara AD", "sara@ietf.example"}}},
		{"rtg", Person{"Carol AD", "carol@ietf.example"}, true, []Person{ivy}},
		{"ops", Person{"Olivia AD", "olivia@ietf.example"}, true, []Person{ivy}},
		{"iesg", ivy, true, []Person{ivy}},
		{"iab", Person{"Iris Chair", "iab-chair@iab.example"}, true, []Person{{"Iris Chair", "iab-chair@iab.example"}}},
		{"ietf", ivy, true, []Person{ivy}},
		{"itu-t-sg15", Person{}, false, nil},
		{"bbf", Person{}, false, nil},
	}
	for _, tt := range tests {
		b := d.Body(tt.id)
		a, ok := d.Assignee(b)
		if a != tt.assignee || ok != tt.ok {
			t.Errorf("Assignee(%s) = %v, %v; want %v, %v", tt.id, a, ok, tt.assignee, tt.ok)
		}
		if s := d.Supervisors(b); !slices.Equal(s, tt.supervisors) {
			t.Errorf("Supervisors(%s) = %v, want %v", tt.id, s, tt.supervisors)
		}
	}
	if got := d.IETFChairs(); !slices.Equal(got, []Person{ivy}) {
		t.Errorf("IETFChairs = %v", got)
	}
	// Returned slices are copies: changing them leaves the directory alone.
	d.Supervisors(d.Body("ccamp"))[0].Name = "changed"
	d.Body("ccamp").Leaders()[0].Name = "changed"
	if d.Body("rtg").ADs[0].Name != "Carol AD" || d.Body("ccamp").Chairs[0].Name != "Alice Chair" {
		t.Error("Supervisors or Leaders returned the directory's own slice")
	}
}

func TestLeadersIsIETF(t *testing.T) {
	d := demo(t)
	tests := []struct {
		id      string
		leaders []string
		ietf    bool
	}{
		{"ccamp", []string{"alice@ccamp.example", "bob@ccamp.example"}, true},
		{"rtg", []string{"carol@ietf.example", "rick@ietf.example"}, true},
		{"iesg", []string{"chair@ietf.example"}, true},
		{"iab", []string{"iab-chair@iab.example"}, true},
		{"ietf", []string{"chair@ietf.example"}, true},
		{"etsi", nil, false},
	}
	for _, tt := range tests {
		b := d.Body(tt.id)
		var got []string
		for _, p := range b.Leaders() {
			got = append(got, p.Addr)
		}
		if !slices.Equal(got, tt.leaders) || b.IsIETF() != tt.ietf {
			t.Errorf("%s: Leaders %v IsIETF %v; want %v %v", tt.id, got, b.IsIETF(), tt.leaders, tt.ietf)
		}
	}
}

func TestRolesOf(t *testing.T) {
	d := demo(t)
	tests := []struct {
		addr        string
		roles       []string // "id role"
		secretariat bool
	}{
		{"alice@ccamp.example", []string{"ccamp chair"}, false},
		{"ALICE@CCAMP.Example", []string{"ccamp chair"}, false},
		{"Ivy Chair <Chair@ietf.example>", []string{"ietf chair", "iesg chair"}, false},
		{"carol@ietf.example", []string{"rtg ad"}, false},
		{"dan@lm.example", []string{"itu-t-sg15 liaison_manager"}, false},
		{"tsbsg15@itu.example", []string{"itu-t-sg15 contact"}, false},
		{"cto@etsi.example", []string{"etsi contact"}, false},
		{"Statements@IETF.example", nil, true},
		{"ccamp@ietf.example", nil, false}, // a list is not a person
		{"nobody@nowhere.example", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		roles, sec := d.RolesOf(tt.addr)
		var got []string
		for _, r := range roles {
			got = append(got, r.Body.ID+" "+r.Role)
		}
		if !slices.Equal(got, tt.roles) || sec != tt.secretariat {
			t.Errorf("RolesOf(%q) = %v, %v; want %v, %v", tt.addr, got, sec, tt.roles, tt.secretariat)
		}
	}
}

func TestPerson(t *testing.T) {
	tests := []struct {
		in     string
		want   Person
		str    string
		errMsg string
	}{
		{in: "Alice Chair <Alice@CCAMP.example>", want: Person{"Alice Chair", "alice@ccamp.example"}, str: `"Alice Chair" <alice@ccamp.example>`},
		{in: " bare@x.example ", want: Person{"", "bare@x.example"}, str: "bare@x.example"},
		{in: "<angle@x.example>", want: Person{"", "angle@x.example"}, str: "angle@x.example"},
		{in: `"Doe, Jane" <jane@x.example>`, want: Person{"Doe, Jane", "jane@x.example"}, str: `"Doe, Jane" <jane@x.example>`},
		{in: "Alice alice@x.example", errMsg: "mail: no angle-addr"},
		{in: "a@x.example, b@x.example", errMsg: "mail: expected single address"},
		{in: "", errMsg: "mail: no address"},
	}
	for _, tt := range tests {
		p, err := ParsePerson(tt.in)
		if tt.errMsg != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errMsg) {
				t.Errorf("ParsePerson(%q) = %v, %v; want error %q", tt.in, p, err, tt.errMsg)
			}
			continue
		}
		if err != nil || p != tt.want || p.String() != tt.str {
			t.Errorf("ParsePerson(%q) = %+v (%s), %v; want %+v (%s)", tt.in, p, p, err, tt.want, tt.str)
		}
	}
}

func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		e    ConfigError
		want string
	}{
		{ConfigError{"directory.toml", 12, "body[3].kind", `"wgg" is not one of wg, area, iesg, iab, ietf, sdo`},
			`directory.toml:12: body[3].kind: "wgg" is not one of wg, area, iesg, iab, ietf, sdo`},
		{ConfigError{"directory.toml", 0, "body[3] (ccamp).kind", "m"}, "directory.toml: body[3] (ccamp).kind: m"},
		{ConfigError{"directory.toml", 4, "", "m"}, "directory.toml:4: m"},
		{ConfigError{"", 4, "k", "m"}, "line 4: k: m"},
		{ConfigError{"", 0, "", "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// base is a valid directory of one body; the validation cases append to it
// from line 8 on.
const base = `secretariat = "Sec <sec@x.example>"

[[body]]
id = "rtg"
kind = "area"
name = "Routing Area"
ads = ["Carol AD <carol@x.example>"]
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"syntax error", "secretariat = \"a@x.example\"\n\n[[body]\nid = \"x\"\n", []string{
			`t.toml:3: invalid TOML: expected end of table array name delimiter ']', but got '\n' instead`,
		}},
		{"unterminated string", "secretariat = \"a@x.example\"\nname = \"x\n", []string{
			`t.toml:2: invalid TOML: strings cannot contain newlines`,
		}},
		{"byte order mark", "\xef\xbb\xbfsecretariat = 1\nbody = 2\n", []string{
			`t.toml:1: secretariat: must be a string, not integer`,
			`t.toml:2: body: must be an array of tables ([[body]]), not integer`,
		}},
		{"missing value", "secretariat = \n", []string{
			`t.toml:1: invalid TOML: expected value but found '\n' instead`,
		}},
		{"duplicate key is a syntax error", base + "id = \"again\"\n", []string{
			`t.toml:8: invalid TOML: Key 'body.id' has already been defined.`,
		}},
		{"missing secretariat", "[[body]]\nid = \"iab\"\nkind = \"iab\"\nname = \"IAB\"\nchairs = [\"c@x.example\"]\n", []string{
			`t.toml: secretariat: missing; give the secretariat's "Name <addr>": it receives what no body can`,
		}},
		{"bad secretariat", "secretariat = \"IETF Secretariat\"\n" + base[strings.Index(base, "\n"):], []string{
			`t.toml:1: secretariat: "IETF Secretariat" is not an email address ("Name <addr>" or addr): mail: no angle-addr`,
		}},
		{"no bodies", "secretariat = \"a@x.example\"\n", []string{
			`t.toml: body: no [[body]] tables; the directory must name at least one body`,
		}},
		{"body not tables", "secretariat = \"a@x.example\"\nbody = \"ccamp\"\n", []string{
			`t.toml:2: body: must be an array of tables ([[body]]), not string`,
		}},
		{"body a table", "secretariat = \"a@x.example\"\n[body]\nid = \"x\"\n", []string{
			`t.toml:2: body: must be an array of tables ([[body]]), not table`,
		}},
		{"body empty", "secretariat = \"a@x.example\"\nbody = []\n", []string{
			`t.toml:2: body: empty; the directory must name at least one body`,
		}},
		{"unknown keys", "secretariats = \"x\"\n" + base + "chair = [\"a@x.example\"]\nfoo = 1\n\n[body.extra]\nx = 1\n", []string{
			`t.toml:1: secretariats: unknown key (did you mean "secretariat"?)`,
			`t.toml:9: body[1] (rtg).chair: unknown key (did you mean "chairs"?)`,
			`t.toml:10: body[1] (rtg).foo: unknown key (known keys: id, kind, name, aliases, parent, chairs, ads, liaison_managers, contacts, list)`,
			`t.toml:12: body[1] (rtg).extra: unknown key (known keys: id, kind, name, aliases, parent, chairs, ads, liaison_managers, contacts, list)`,
		}},
		{"missing id, kind and name", base + "\n[[body]]\nlist = \"x@x.example\"\n", []string{
			`t.toml:9: body[2].id: missing; every body needs a short id (lowercase letters, digits, '-', '.')`,
			`t.toml:9: body[2].kind: missing; one of wg, area, iesg, iab, ietf, sdo`,
			`t.toml:9: body[2].name: missing; give the body's full name, as used in From and To fields`,
		}},
		{"empty id and name", base + "\n[[body]]\nid = \"\"\nkind = \"sdo\"\nname = \"\"\n", []string{
			`t.toml:10: body[2].id: missing; every body needs a short id (lowercase letters, digits, '-', '.')`,
			`t.toml:12: body[2].name: missing; give the body's full name, as used in From and To fields`,
		}},
		{"bad id", base + "\n[[body]]\nid = \"ITU_T\"\nkind = \"sdo\"\nname = \"ITU-T\"\n\n[[body]]\nid = \"-x\"\nkind = \"sdo\"\nname = \"X\"\n", []string{
			`t.toml:10: body[2] (ITU_T).id: "ITU_T" is not a valid id: use lowercase letters, digits, '-' and '.', starting with a letter or digit`,
			`t.toml:15: body[3] (-x).id: "-x" is not a valid id: use lowercase letters, digits, '-' and '.', starting with a letter or digit`,
		}},
		{"duplicate id", base + "\n[[body]]\nid = \"rtg\"\nkind = \"sdo\"\nname = \"Real-Time Group\"\n", []string{
			`t.toml:10: body[2] (rtg).id: duplicate id "rtg" (also body[1] (rtg))`,
		}},
		{"bad kind", base + "\n[[body]]\nid = \"ccamp\"\nkind = \"wgg\"\nname = \"CCAMP\"\n", []string{
			`t.toml:11: body[2] (ccamp).kind: "wgg" is not one of wg, area, iesg, iab, ietf, sdo`,
		}},
		{"wg without parent", base + "\n[[body]]\nid = \"ccamp\"\nkind = \"wg\"\nname = \"CCAMP\"\nchairs = [\"a@x.example\"]\n", []string{
			`t.toml:9: body[2] (ccamp).parent: missing; a body of kind wg needs the id of its area, whose ADs supervise its chairs`,
		}},
		{"wg with unknown parent", base + "\n[[body]]\nid = \"ccamp\"\nkind = \"wg\"\nname = \"CCAMP\"\nparent = \"rtgg\"\nchairs = [\"a@x.example\"]\n", []string{
			`t.toml:13: body[2] (ccamp).parent: "rtgg" is not the id of any body`,
		}},
		{"wg whose parent is no area", base + "\n[[body]]\nid = \"ccamp\"\nkind = \"wg\"\nname = \"CCAMP\"\nparent = \"bbf\"\nchairs = [\"a@x.example\"]\n\n[[body]]\nid = \"bbf\"\nkind = \"sdo\"\nname = \"BBF\"\n", []string{
			`t.toml:13: body[2] (ccamp).parent: "bbf" is of kind sdo, not area`,
		}},
		{"leaderless", base + "\n[[body]]\nid = \"ops\"\nkind = \"area\"\nname = \"OPS\"\nads = []\n\n[[body]]\nid = \"ccamp\"\nkind = \"wg\"\nname = \"CCAMP\"\nparent = \"rtg\"\n\n[[body]]\nid = \"iesg\"\nkind = \"iesg\"\nname = \"IESG\"\nchairs = []\n", []string{
			`t.toml:13: body[2] (ops).ads: a body of kind area needs at least one AD, or nobody could be assigned its statements`,
			`t.toml:15: body[3] (ccamp).chairs: a body of kind wg needs at least one chair, or nobody could be assigned its statements`,
			`t.toml:25: body[4] (iesg).chairs: a body of kind iesg needs at least one chair, or nobody could be assigned its statements`,
		}},
		{"keys for other kinds", base + "parent = \"ops\"\nchairs = [\"a@x.example\"]\n\n[[body]]\nid = \"bbf\"\nkind = \"sdo\"\nname = \"BBF\"\nads = [\"b@x.example\"]\n\n[[body]]\nid = \"iab\"\nkind = \"iab\"\nname = \"IAB\"\nchairs = [\"c@x.example\"]\nliaison_managers = [\"d@x.example\"]\ncontacts = [\"e@x.example\"]\n", []string{
			`t.toml:8: body[1] (rtg).parent: not used by kind area (only by wg)`,
			`t.toml:9: body[1] (rtg).chairs: not used by kind area (only by wg, iesg, iab, ietf)`,
			`t.toml:15: body[2] (bbf).ads: not used by kind sdo (only by area)`,
			`t.toml:22: body[3] (iab).liaison_managers: not used by kind iab (only by sdo)`,
			`t.toml:23: body[3] (iab).contacts: not used by kind iab (only by sdo)`,
		}},
		{"bad addresses", base + "\n[[body]]\nid = \"bbf\"\nkind = \"sdo\"\nname = \"BBF\"\nliaison_managers = [\"Dan <dan@x.example>\", \"Dan Manager dan@x.example\"]\ncontacts = [\n  \"ok@x.example\",\n  \"not an address\",\n]\nlist = \"bbf\"\n", []string{
			`t.toml:13: body[2] (bbf).liaison_managers[2]: "Dan Manager dan@x.example" is not an email address ("Name <addr>" or addr): mail: no angle-addr`,
			`t.toml:14: body[2] (bbf).contacts[2]: "not an address" is not an email address ("Name <addr>" or addr): mail: no angle-addr`,
			`t.toml:18: body[2] (bbf).list: "bbf" is not an email address ("Name <addr>" or addr): mail: missing '@' or angle-addr`,
		}},
		{"wrong types", base + "\n[[body]]\nid = 7\nkind = \"sdo\"\nname = [\"BBF\"]\naliases = \"BBF\"\ncontacts = [\"a@x.example\", 3]\nlist = true\n", []string{
			`t.toml:10: body[2].id: must be a string, not integer`,
			`t.toml:12: body[2].name: must be a string, not array`,
			`t.toml:13: body[2].aliases: must be an array of strings, like ["..."], not string`,
			`t.toml:14: body[2].contacts[2]: must be a string, not integer`,
			`t.toml:15: body[2].list: must be a string, not boolean`,
		}},
		{"unmatchable names", base + "aliases = [\"--\", \"\"]\n", []string{
			`t.toml:8: body[1] (rtg).aliases[1]: "--" has no letters or digits, so no From or To field could match it`,
			`t.toml:8: body[1] (rtg).aliases[2]: "" has no letters or digits, so no From or To field could match it`,
		}},
		{"names that collide", base + "\n[[body]]\nid = \"routing-area\"\nkind = \"sdo\"\nname = \"ROUTING AREA\"\naliases = [\"R.T.G.\", \"Routing-Area\"]\n", []string{
			`t.toml:10: body[2] (routing-area).id: "routing-area" is the same name as body[1] (rtg).name "Routing Area" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart`,
			`t.toml:12: body[2] (routing-area).name: "ROUTING AREA" is the same name as body[1] (rtg).name "Routing Area" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart`,
			`t.toml:13: body[2] (routing-area).aliases[1]: "R.T.G." is the same name as body[1] (rtg).id "rtg" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart`,
			`t.toml:13: body[2] (routing-area).aliases[2]: "Routing-Area" is the same name as body[1] (rtg).name "Routing Area" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart`,
		}},
		{"working group reads as wg", base + "\n[[body]]\nid = \"a\"\nkind = \"sdo\"\nname = \"Foo Working Group\"\n\n[[body]]\nid = \"b\"\nkind = \"sdo\"\nname = \"Foo WG\"\n", []string{
			`t.toml:17: body[3] (b).name: "Foo WG" is the same name as body[2] (a).name "Foo Working Group" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart`,
		}},
		{"one ietf, iesg and iab", base + "\n[[body]]\nid = \"iab\"\nkind = \"iab\"\nname = \"IAB\"\nchairs = [\"c@x.example\"]\n\n[[body]]\nid = \"iab2\"\nkind = \"iab\"\nname = \"IAB 2\"\nchairs = [\"c@x.example\"]\n", []string{
			`t.toml:17: body[3] (iab2).kind: a second body of kind iab (the first is body[2] (iab)); there can be only one`,
		}},
		{"inline array of tables has no lines", "secretariat = \"a@x.example\"\nbody = [{id = \"x\", kind = \"wgg\", name = \"X\"}, 5]\n", []string{
			`t.toml: body[2]: must be a table, not integer`,
			`t.toml: body[1] (x).kind: "wgg" is not one of wg, area, iesg, iab, ietf, sdo`,
			`t.toml: body[2].id: missing; every body needs a short id (lowercase letters, digits, '-', '.')`,
			`t.toml: body[2].kind: missing; one of wg, area, iesg, iab, ietf, sdo`,
			`t.toml: body[2].name: missing; give the body's full name, as used in From and To fields`,
		}},
		{"multi-line values do not confuse line numbers", "secretariat = \"a@x.example\"\n\n[[body]]\nid = \"x\"\nname = \"\"\"\n[[body]]\nkind = \"area\"\n\"\"\"\naliases = [\n  'kind = [[',  # ]]\n  \"[[body]]\",\n]\nkind = \"wgg\"\n", []string{
			`t.toml:13: body[1] (x).kind: "wgg" is not one of wg, area, iesg, iab, ietf, sdo`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.file), "t.toml")
			if d != nil {
				t.Error("Parse returned a Directory along with errors")
			}
			got := problems(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestParseEveryProblem checks that one file with many problems reports
// them all in one error: top-level ones first, then body by body, by line.
func TestParseEveryProblem(t *testing.T) {
	const file = `secretariat = "not an address"
colour = "blue"

[[body]]
id = "Bad_ID"
kind = "wgg"
name = "Foo"

[[body]]
id = "ccamp"
kind = "wg"
name = "CCAMP"
parent = "nowhere"
chair = ["Alice Chair <alice@ccamp.example>"]
list = "ccamp at ietf"

[[body]]
id = "ccamp"
kind = "area"
name = "Routing"
aliases = ["C-CAMP"]

[[body]]
kind = "sdo"
name = "Some SDO"
contacts = ["Alice Chair alice@sdo.example"]
chairs = ["x@sdo.example"]
`
	_, err := Parse([]byte(file), "directory.toml")
	want := `directory.toml:1: secretariat: "not an address" is not an email address ("Name <addr>" or addr): mail: no angle-addr
directory.toml:2: colour: unknown key (known keys: secretariat, body)
directory.toml:5: body[1] (Bad_ID).id: "Bad_ID" is not a valid id: use lowercase letters, digits, '-' and '.', starting with a letter or digit
directory.toml:6: body[1] (Bad_ID).kind: "wgg" is not one of wg, area, iesg, iab, ietf, sdo
directory.toml:9: body[2] (ccamp).chairs: a body of kind wg needs at least one chair, or nobody could be assigned its statements
directory.toml:13: body[2] (ccamp).parent: "nowhere" is not the id of any body
directory.toml:14: body[2] (ccamp).chair: unknown key (did you mean "chairs"?)
directory.toml:15: body[2] (ccamp).list: "ccamp at ietf" is not an email address ("Name <addr>" or addr): mail: no angle-addr
directory.toml:17: body[3] (ccamp).ads: a body of kind area needs at least one AD, or nobody could be assigned its statements
directory.toml:18: body[3] (ccamp).id: duplicate id "ccamp" (also body[2] (ccamp))
directory.toml:21: body[3] (ccamp).aliases[1]: "C-CAMP" is the same name as body[2] (ccamp).id "ccamp" once case, spacing and punctuation are ignored; matching could not tell the two bodies apart
directory.toml:23: body[4].id: missing; every body needs a short id (lowercase letters, digits, '-', '.')
directory.toml:26: body[4].contacts[1]: "Alice Chair alice@sdo.example" is not an email address ("Name <addr>" or addr): mail: no angle-addr
directory.toml:27: body[4].chairs: not used by kind sdo (only by wg, iesg, iab, ietf)`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	if n := len(problems(t, err)); n != 14 {
		t.Errorf("%d problems, want 14", n)
	}
}
