package directory

import (
	"fmt"
	"os"
	"testing"
)

func TestSuggest(t *testing.T) {
	src, err := os.ReadFile("../testdata/directory.toml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(src, "directory.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want string
	}{
		{"NETMODE", "[netmod]"},
		{"IETF CCAMPP WG", "[ccamp]"},
		{"Multiprotocol Label Switching WG Group", "[mpls]"},
		{"ITU-T Study Group 16", "[itu-t-sg15 itu-t-sg13]"},
		{"IETF Foo WG", "[]"},
		{"rtx", "[]"}, // too short to take a typo for another body
		{"", "[]"},
	}
	for _, tc := range tests {
		var ids []string
		for _, b := range d.Suggest(tc.name) {
			ids = append(ids, b.ID)
		}
		if got := fmt.Sprint(ids); got != tc.want {
			t.Errorf("Suggest(%q) = %s, want %s", tc.name, got, tc.want)
		}
	}
}
