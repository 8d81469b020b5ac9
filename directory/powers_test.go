package directory

import "testing"

func TestPowersOf(t *testing.T) {
	d := demo(t)
	ccamp := []string{"ccamp"}
	sg15 := []string{"itu-t-sg15"}
	tests := []struct {
		name, addr, assignee string
		want                 Powers
	}{
		{"the assignee", "alice@ccamp.example", "alice@ccamp.example", Powers{Assignee: true, Leader: true, Act: true}},
		{"another chair", "Bob@CCAMP.example", "alice@ccamp.example", Powers{Leader: true, Act: true}},
		{"the area's AD supervises", "carol@ietf.example", "alice@ccamp.example", Powers{Leader: true, Act: true}},
		{"the SDO's liaison manager", "dan@lm.example", "alice@ccamp.example", Powers{Manager: true, Act: true, Redirect: true}},
		{"another SDO's liaison manager", "erin@lm.example", "alice@ccamp.example", Powers{}},
		{"the secretariat", "statements@ietf.example", "alice@ccamp.example", Powers{Secretariat: true, Act: true, Redirect: true}},
		{"an SDO's technical contact", "expert1@vendor.example", "alice@ccamp.example", Powers{}},
		{"another WG's chair", "otto@opsawg.example", "alice@ccamp.example", Powers{}},
		// Reassigned to opsawg's chair: opsawg's people follow the statement.
		{"the new assignee's co-chair", "otto@opsawg.example", "olga@opsawg.example", Powers{Leader: true, Act: true}},
		{"the new assignee's AD", "olivia@ietf.example", "olga@opsawg.example", Powers{Leader: true, Act: true}},
	}
	for _, tc := range tests {
		if got := d.PowersOf(tc.addr, tc.assignee, ccamp, sg15); got != tc.want {
			t.Errorf("%s: PowersOf(%s) = %+v, want %+v", tc.name, tc.addr, got, tc.want)
		}
	}
}
