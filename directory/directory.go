// Package directory holds who is who for liaison handling: the IETF bodies
// (WGs, areas, the IESG, the IAB, the IETF itself) and the other standards
// development organizations (SDOs) that exchange liaison statements with
// them, with their chairs, ADs, liaison managers, contacts and mail aliases.
//
// The directory is a TOML file; testdata/directory.toml (embedded here as
// Demo) documents the format key by key. Parse validates the whole file and
// reports every problem at once, so `liaisond check` can list them all.
//
// Roles follow RFC 4052 (IAB processes for liaison relationships: liaison
// managers are appointed per SDO) and RFC 4053 (procedures for handling
// liaison statements: statements to a WG go to its chairs, to an area to its
// ADs, and responsibility escalates to the ADs and then the IETF chair).
package directory

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
)

// Kind is the kind of a body.
type Kind string

// The kinds of body. Every kind but KindSDO is part of the IETF.
const (
	KindWG   Kind = "wg"   // an IETF working group, led by its chairs
	KindArea Kind = "area" // an IETF area, led by its ADs
	KindIESG Kind = "iesg" // the IESG, led by its chair
	KindIAB  Kind = "iab"  // the IAB, led by its chair
	KindIETF Kind = "ietf" // the IETF as a whole, led by the IETF chair
	KindSDO  Kind = "sdo"  // another standards development organization
)

// kindList is the text used in error messages; it is a constant so that the
// package keeps no mutable state.
const kindList = "wg, area, iesg, iab, ietf, sdo"

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindWG, KindArea, KindIESG, KindIAB, KindIETF, KindSDO:
		return true
	}
	return false
}

// Person is someone (or a role mailbox) reachable by mail.
type Person struct {
	Name string // display name, may be empty
	Addr string // bare addr-spec, lowercased
}

// String returns the RFC 5322 form, `"Alice Chair" <alice@ccamp.example>`,
// or the bare address when there is no name.
func (p Person) String() string {
	if p.Name == "" {
		return p.Addr
	}
	return (&mail.Address{Name: p.Name, Address: p.Addr}).String()
}

// ParsePerson parses an RFC 5322 mailbox, "Name <addr>" or a bare addr.
// The address is lowercased so that comparisons are simple.
func ParsePerson(s string) (Person, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return Person{}, err
	}
	return Person{Name: a.Name, Addr: strings.ToLower(a.Address)}, nil
}

// Body is an IETF body or an SDO.
type Body struct {
	ID      string // short handle used in commands, URLs and JSON
	Name    string // full name
	Kind    Kind
	Aliases []string // other names it goes by in From/To fields
	Parent  string   // area id of a wg; "" for other kinds

	Chairs          []Person // wg, iesg, iab, ietf
	ADs             []Person // area
	LiaisonManagers []Person // sdo: the IETF's liaison managers to it (RFC 4052)
	Contacts        []Person // sdo: where outgoing statements to it go
	List            string   // alias mailing list, bare lowercased address, "" if none
}

// IsIETF reports whether the body is part of the IETF (any kind but sdo).
func (b *Body) IsIETF() bool { return b.Kind != KindSDO }

// Leaders returns the chairs (wg, iesg, iab, ietf) or ADs (area) in order:
// the people RFC 4053 makes responsible for statements addressed to the
// body. For an sdo it returns nil. The slice is a copy.
func (b *Body) Leaders() []Person {
	switch b.Kind {
	case KindArea:
		return slices.Clone(b.ADs)
	case KindSDO:
		return nil
	}
	return slices.Clone(b.Chairs)
}

// label is how a body is named in messages: "ccamp (IETF CCAMP Working Group)".
func (b *Body) label() string { return b.ID + " (" + b.Name + ")" }

// Directory is a parsed and validated directory file. Get one from Parse or
// Load: the lookup methods rely on indexes built there. A Directory is never
// modified after Parse, so it is safe for concurrent use.
type Directory struct {
	Secretariat Person
	Bodies      []*Body // in file order

	byID  map[string]*Body
	names [matchSteps]map[string][]*Body // normalized name -> bodies, per match step
	roles map[string][]Role              // lowercased address -> roles
}

// ErrNotFound is returned (wrapped with the name) by Match when no body goes
// by the name.
var ErrNotFound = errors.New("directory: no body by that name")

// AmbiguousError is returned by Match when a name fits several bodies
// equally well: rather than guess, the caller must ask for a better name.
type AmbiguousError struct {
	Name       string
	Candidates []*Body // in file order
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q matches %d bodies: ", e.Name, len(e.Candidates))
	for i, c := range e.Candidates {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.label())
	}
	b.WriteString("; use the full name or the id")
	return b.String()
}

// Body returns the body with that id, or nil.
func (d *Directory) Body(id string) *Body {
	return d.byID[strings.ToLower(strings.TrimSpace(id))]
}

// Match finds the body a From/To field value names. See matchKeys for the
// rules. It returns an error wrapping ErrNotFound, or an *AmbiguousError.
func (d *Directory) Match(name string) (*Body, error) {
	bodies, _ := d.match(name)
	switch len(bodies) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	case 1:
		return bodies[0], nil
	}
	return nil, &AmbiguousError{Name: name, Candidates: slices.Clone(bodies)}
}

// match returns the bodies matching name at the first step where any does,
// and that step (1-based; 0 when nothing matched).
func (d *Directory) match(name string) ([]*Body, int) {
	for step, key := range matchKeys(name) {
		if key == "" {
			continue
		}
		if bodies := d.names[step][key]; len(bodies) > 0 {
			return bodies, step + 1
		}
	}
	return nil, 0
}

// Assignee returns who is initially responsible for a statement addressed
// to b: its first leader, as RFC 4053 section 2.3 makes the addressee's
// leadership responsible. It returns false when b has none, as for an sdo.
func (d *Directory) Assignee(b *Body) (Person, bool) {
	l := b.Leaders()
	if len(l) == 0 {
		return Person{}, false
	}
	return l[0], true
}

// Supervisors returns who oversees b's leaders, to whom overdue statements
// escalate (ADs manage their WGs, RFC 2418): for a wg, its area's ADs; for an area, the
// IETF chair; for the IESG and the IAB, their chair; for the IETF itself,
// the IETF chair, as nobody is above. An sdo has none.
func (d *Directory) Supervisors(b *Body) []Person {
	switch b.Kind {
	case KindWG:
		if p := d.Body(b.Parent); p != nil {
			return slices.Clone(p.ADs)
		}
	case KindArea, KindIETF:
		return d.IETFChairs()
	case KindIESG, KindIAB:
		if len(b.Chairs) > 0 {
			return []Person{b.Chairs[0]}
		}
	}
	return nil
}

// Approvers returns who must approve an outgoing statement from b (RFC
// 4052 section 4): a WG's by an AD of its area, an area's by the IETF chair.
// The IESG, IAB and IETF speak through their chairs and need nobody else.
func (d *Directory) Approvers(b *Body) []Person {
	if b == nil {
		return nil
	}
	switch b.Kind {
	case KindWG:
		if a := d.Body(b.Parent); a != nil {
			return slices.Clone(a.ADs)
		}
	case KindArea:
		return d.IETFChairs()
	}
	return nil
}

// IETFChairs returns the chairs of the body of kind ietf, or nil if the
// directory has none.
func (d *Directory) IETFChairs() []Person {
	for _, b := range d.Bodies {
		if b.Kind == KindIETF {
			return slices.Clone(b.Chairs)
		}
	}
	return nil
}

// Role is one role an address holds for a body.
type Role struct {
	Body *Body
	Role string // RoleChair, RoleAD, RoleLiaisonManager or RoleContact
}

// The values of Role.Role.
const (
	RoleChair          = "chair"
	RoleAD             = "ad"
	RoleLiaisonManager = "liaison_manager"
	RoleContact        = "contact"
)

// RolesOf returns the roles held by an address (compared case-insensitively;
// "Name <addr>" is accepted too), in file order, and whether it is the
// secretariat's. It is the basis of permission checks.
func (d *Directory) RolesOf(addr string) (roles []Role, secretariat bool) {
	key := strings.ToLower(strings.TrimSpace(addr))
	if p, err := ParsePerson(addr); err == nil {
		key = p.Addr
	}
	return slices.Clone(d.roles[key]), key != "" && key == d.Secretariat.Addr
}

// index builds the lookup tables of a validated directory.
func (d *Directory) index() {
	d.byID = make(map[string]*Body, len(d.Bodies))
	for i := range d.names {
		d.names[i] = make(map[string][]*Body)
	}
	d.roles = make(map[string][]Role)
	for _, b := range d.Bodies {
		d.byID[b.ID] = b
		for _, n := range b.names() {
			for step, key := range matchKeys(n) {
				if key != "" && !slices.Contains(d.names[step][key], b) {
					d.names[step][key] = append(d.names[step][key], b)
				}
			}
		}
		for _, r := range []struct {
			role   string
			people []Person
		}{
			{RoleChair, b.Chairs},
			{RoleAD, b.ADs},
			{RoleLiaisonManager, b.LiaisonManagers},
			{RoleContact, b.Contacts},
		} {
			for _, p := range r.people {
				rs := d.roles[p.Addr]
				if !slices.Contains(rs, Role{b, r.role}) {
					d.roles[p.Addr] = append(rs, Role{b, r.role})
				}
			}
		}
	}
}

// names returns every name a body can be matched by.
func (b *Body) names() []string {
	return append([]string{b.Name, b.ID}, b.Aliases...)
}

// Powers is what one address may do on one statement (DESIGN 6): Act covers
// reply, close, reopen, reassign, deadline and status; Redirect is for the
// liaison manager and the secretariat alone.
type Powers struct {
	Assignee    bool // the statement is theirs to act on
	Leader      bool // a chair or AD of the IETF side's body, or their supervisor
	Manager     bool // a liaison manager of the SDO side
	Secretariat bool
	Act         bool
	Redirect    bool
}

// PowersOf says what addr may do on a statement whose IETF side is the
// bodies ietf (the addressees of an incoming statement, the sender of an
// outgoing one) and whose other side is the bodies sdo. It is the one rule
// behind both the commands a mail may give and the commands a mail offers.
func (d *Directory) PowersOf(addr, assignee string, ietf, sdo []string) Powers {
	addr = strings.ToLower(strings.TrimSpace(addr))
	is := func(ps []Person) bool {
		for _, p := range ps {
			if strings.EqualFold(p.Addr, addr) {
				return true
			}
		}
		return false
	}
	// Who the assignee leads follows the statement: after a reassign to
	// another WG's chair, that WG's chairs and ADs may act as well.
	for _, b := range d.LeadsBodies(assignee) {
		ietf = append(ietf, b.ID)
	}
	var p Powers
	_, p.Secretariat = d.RolesOf(addr)
	for _, id := range sdo {
		if b := d.Body(id); b != nil && is(b.LiaisonManagers) {
			p.Manager = true
		}
	}
	for _, id := range ietf {
		if b := d.Body(id); b != nil && b.IsIETF() && (is(b.Leaders()) || is(d.Supervisors(b))) {
			p.Leader = true
		}
	}
	p.Assignee = addr != "" && strings.EqualFold(assignee, addr)
	p.Act = p.Secretariat || p.Manager || p.Leader || p.Assignee
	p.Redirect = p.Secretariat || p.Manager
	return p
}

// LeadsBodies returns the IETF bodies addr is a chair or AD of, in file order.
func (d *Directory) LeadsBodies(addr string) []*Body {
	roles, _ := d.RolesOf(addr)
	var out []*Body
	for _, r := range roles {
		if (r.Role == RoleChair || r.Role == RoleAD) && r.Body.IsIETF() && !slices.Contains(out, r.Body) {
			out = append(out, r.Body)
		}
	}
	return out
}
