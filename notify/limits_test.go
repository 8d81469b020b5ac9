package notify

import (
	"fmt"
	"testing"
)

func TestCapRecipients(t *testing.T) {
	role := func(a string) recipient { return recipient{addr: a} }
	contact := func(a string) recipient { return recipient{addr: a, contact: true} }
	var many []recipient
	for i := 0; i < 10; i++ {
		many = append(many, contact(fmt.Sprintf("c%d@x.example", i)))
	}
	tests := []struct {
		name        string
		to, cc      []recipient
		max         int
		wantN, drop int
	}{
		{"under the limit", []recipient{role("a")}, many[:3], 5, 4, 0},
		{"contacts dropped first, roles kept", []recipient{role("a")}, append(append([]recipient{}, many...), role("sec"), role("ad")), 5, 5, 8},
		{"roles alone over the limit", []recipient{role("a")}, []recipient{role("b"), role("c"), role("d")}, 2, 2, 2},
	}
	for _, tt := range tests {
		to, cc, dropped := capRecipients(tt.to, tt.cc, tt.max)
		if len(to)+len(cc) != tt.wantN || len(dropped) != tt.drop {
			t.Errorf("%s: kept %d, dropped %d; want %d, %d", tt.name, len(to)+len(cc), len(dropped), tt.wantN, tt.drop)
		}
		if tt.name == "contacts dropped first, roles kept" && !(has(cc, "sec") && has(cc, "ad")) {
			t.Errorf("%s: the directory's people were dropped: %+v", tt.name, cc)
		}
	}
}

func has(rs []recipient, addr string) bool {
	for _, r := range rs {
		if r.addr == addr {
			return true
		}
	}
	return false
}

func TestIsOwn(t *testing.T) {
	c := &Composer{Config: Config{Domain: "liaison.example", StatementsLocal: "statements", CommandsLocal: "commands", TokenPrefix: "ls"}}
	c.Config.From.Address = "statements@liaison.example"
	for addr, want := range map[string]bool{
		"statements@liaison.example": true, "COMMANDS@Liaison.Example": true, "ls+1.abc@liaison.example": true,
		"statements@ietf.example": false, "alice@liaison.example": false, "ls@liaison.example": false,
	} {
		if got := c.isOwn(addr); got != want {
			t.Errorf("isOwn(%q) = %v, want %v", addr, got, want)
		}
	}
}
