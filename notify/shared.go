package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"reflect"
	"slices"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"liaisond/store"
)

// The copies of one mail (a dozen per notification) differ in a few values
// only: the recipient, its reply address and the role that lets it act
// (printed in the body), the Reply-To header and the Message-ID. Rendering
// each copy whole (template, MIME header, encoding) cost over a
// millisecond per statement. Instead the header is formatted once per
// mail and the body once per group of copies that share everything else,
// with a mark in place of each of those values; the bytes are cut at the
// marks, and each copy is the pieces with its own values between them.
// The outbox stores the pieces once (store.SharedParts).
//
// That is exact, not an approximation, where it is used:
//   - the template prints those fields only verbatim ({{.Recipient}}, no
//     condition or function on them: templates.PrintsVerbatim), so its text
//     for the real values is its text for the marks, replaced;
//   - the body goes as 7bit, whose encoding writes the text as it is (a
//     quoted-printable line would break at other places), and every line of
//     a finished copy is still at most 998 octets (isSevenBit);
//   - the Reply-To and Message-ID values have no white space, so they are
//     never folded, and an address formats as "<addr>" (checked per copy);
//   - each value is printable ASCII (without spaces in a header), so it
//     reads the same in the header and the body, and the subject holds no
//     mark.
//
// A group or a copy that fails any check is rendered whole, as before.
//
// The groups of one mail differ in what their reader may do (Role,
// MayRedirect: the assignee, those who may act, lists, the others). Where
// the template uses those fields only inside named templates it calls
// with the mail's data (slots, templates.SlotCalls: "assignment" and
// "offer" in notification.txt), the groups share one rendering too
// (slotted): the mail is rendered once with a mark for each slot, each
// slot once per group, and a slot's text, with the copy's values in it,
// goes into each copy like a value. A notification is then one set of
// shared parts, not one per kind of reader.

// valueMarks are the marks of one mail, random so that no statement can
// contain them.
type valueMarks struct {
	core                                              string
	recipient, replyAddress, roleText, replyTo, msgID string
}

// Indexes of the values, in the order of valueMarks.
const (
	valRecipient = iota
	valReplyAddress
	valRoleText
	valReplyTo
	valMessageID
	valCount
)

func newValueMarks() valueMarks {
	var b [16]byte
	rand.Read(b[:])
	core := "LSMARK" + hex.EncodeToString(b[:])
	return valueMarks{core: core,
		recipient: core + "r", replyAddress: core + "a", roleText: core + "o", replyTo: core + "t@mark.invalid", msgID: core + "m@mark.invalid"}
}

// slot is the mark of slot i's text (templates.SlotCalls), i < 10.
func (vm valueMarks) slot(i int) string { return vm.core + "s" + string(rune('0'+i)) }

// splice cuts raw at the marks: parts has one more element than order,
// and order[i] names the value between parts[i] and parts[i+1]: one of
// the values (< valCount), or slot order[i]-valCount of the first slots.
func (vm valueMarks) splice(raw []byte, slots int) (parts [][]byte, order []int, ok bool) {
	core := []byte(vm.core)
	marks := []string{vm.recipient, vm.replyAddress, vm.roleText, vm.replyTo, vm.msgID}
	for i := range slots {
		marks = append(marks, vm.slot(i))
	}
	for {
		i := bytes.Index(raw, core)
		if i < 0 {
			return append(parts, raw), order, true
		}
		which := -1
		for k, m := range marks {
			if bytes.HasPrefix(raw[i:], []byte(m)) {
				which = k
				break
			}
		}
		if which < 0 {
			return nil, nil, false
		}
		parts = append(parts, raw[:i])
		order = append(order, which)
		raw = raw[i+len(marks[which]):]
	}
}

// printable reports whether v is printable ASCII, with spaces or without.
func printable(v string, spaces bool) bool {
	for i := 0; i < len(v); i++ {
		if (v[i] <= ' ' && !(spaces && v[i] == ' ')) || v[i] > '~' {
			return false
		}
	}
	return true
}

// sharedFields are the fields of mailData that differ between the copies
// of one group and are printed in the body.
var sharedFields = []string{"Recipient", "ReplyAddress", "RoleText"}

// copyGroup is the copies that differ only in the four values.
type copyGroup struct {
	data    mailData
	m       outgoing
	members []int
}

// groupKey blanks a copy's own values; what remains must be equal.
func groupKey(pc *personalCopy) (mailData, outgoing) {
	d, m := pc.data, pc.m
	d.Recipient, d.ReplyAddress, d.RoleText = "", "", ""
	m.rcpt, m.replyTo = "", ""
	return d, m
}

// renderShared renders copies (of one template, from collectCopies) group
// by group, and returns the rows in order, none for a copy to ourselves.
// spliced counts the copies made from shared pieces (for the tests).
func (c *Composer) renderShared(tmpl string, statementID, eventID int64, copies []personalCopy) (rows []*store.OutboxMail, spliced int, err error) {
	var groups []*copyGroup
	for i := range copies {
		pc := &copies[i]
		if c.isOwn(pc.m.rcpt) {
			continue
		}
		d, m := groupKey(pc)
		var g *copyGroup
		for _, cand := range groups {
			first := &copies[cand.members[0]]
			// The same values empty or not: an empty Reply-To is no header.
			if (first.data.Recipient == "") == (pc.data.Recipient == "") &&
				(first.data.ReplyAddress == "") == (pc.data.ReplyAddress == "") &&
				(first.data.RoleText == "") == (pc.data.RoleText == "") &&
				(first.m.replyTo == "") == (pc.m.replyTo == "") &&
				reflect.DeepEqual(cand.data, d) && reflect.DeepEqual(cand.m, m) {
				g = cand
				break
			}
		}
		if g == nil {
			g = &copyGroup{data: d, m: m}
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
	}
	r := sharedRender{c: c, tmpl: tmpl, statementID: statementID, eventID: eventID, copies: copies,
		marks: newValueMarks(), now: c.Now()}
	for _, sg := range r.superGroups(groups) {
		if len(sg) > 1 {
			n, ok, err := r.slotted(sg)
			if err != nil {
				return nil, 0, err
			}
			if ok {
				spliced += n
				continue
			}
		}
		for _, g := range sg {
			n, err := r.group(g)
			if err != nil {
				return nil, 0, err
			}
			spliced += n
		}
	}
	rows = make([]*store.OutboxMail, 0, len(copies))
	for _, pc := range copies {
		if pc.row != nil {
			rows = append(rows, pc.row)
		}
	}
	return rows, spliced, nil
}

// sharedRender is the rendering of one mail's copies. Its header is the
// same for every copy, apart from the marked values, and is formatted once
// (per subject, should a template's subject depend on the group); each
// group adds its body, which goes as 7bit, as it is.
type sharedRender struct {
	c                      *Composer
	tmpl                   string
	statementID, eventID   int64
	copies                 []personalCopy
	marks                  valueMarks
	now                    time.Time
	header                 []byte
	headerSubject          string
	headerReplyTo, haveHdr bool
}

// whole renders one copy by itself, as for a mail not made of shared parts.
func (r *sharedRender) whole(pc *personalCopy) error {
	var err error
	if pc.m.subject, pc.m.body, err = r.c.Templates.Mail(r.tmpl, pc.data); err != nil {
		return err
	}
	pc.row, err = r.c.render(r.statementID, r.eventID, pc.m)
	return err
}

// headerFor is the formatted header for m, whose values are marks.
func (r *sharedRender) headerFor(m outgoing) ([]byte, error) {
	if r.haveHdr && r.headerSubject == m.subject && r.headerReplyTo == (m.replyTo != "") {
		return r.header, nil
	}
	var buf bytes.Buffer
	// CreateSingleInlineWriter writes the header at once; the body is
	// written by the caller as go-message's 7bit encoder would (see group).
	if _, err := gomail.CreateSingleInlineWriter(&buf, r.c.mimeHeader(m, r.marks.msgID, r.now, true)); err != nil {
		return nil, fmt.Errorf("render %s: %w", m.kind, err)
	}
	r.header, r.headerSubject, r.headerReplyTo, r.haveHdr = buf.Bytes(), m.subject, m.replyTo != "", true
	return r.header, nil
}

// group sets the row of each copy of g: made from the group's shared
// pieces, or, where a check fails, rendered whole; it returns how many
// were made from pieces.
func (r *sharedRender) group(g *copyGroup) (spliced int, err error) {
	c, vm, copies := r.c, r.marks, r.copies
	wholeAll := func() error {
		for _, i := range g.members {
			if err := r.whole(&copies[i]); err != nil {
				return err
			}
		}
		return nil
	}
	d, m := r.markedData(g), g.m
	if copies[g.members[0]].m.replyTo != "" {
		m.replyTo = vm.replyTo
	}
	subject, text, err := c.Templates.Mail(r.tmpl, d)
	if err != nil {
		return 0, err
	}
	body := crlfText(text)
	// A body that is not 7bit goes quoted-printable, whose lines break at
	// places that depend on the values: each copy whole.
	if strings.Contains(subject, vm.core) || !isSevenBit(body) {
		return 0, wholeAll()
	}
	m.subject = subject
	header, err := r.headerFor(m)
	if err != nil {
		return 0, err
	}
	// go-message's 7bit encoder writes a body whose lines are at most 998
	// octets (isSevenBit) as it is: the mail is the header, then the body.
	raw := make([]byte, 0, len(header)+len(body))
	raw = append(append(raw, header...), body...)
	parts, order, ok := vm.splice(raw, 0)
	if !ok {
		return 0, wholeAll()
	}
	// Stored once for the group (store.SharedParts), DKIM or not: the
	// outbox holds mail unsigned, and the Sender signs each copy when it
	// goes out (Sender.signForSending). A copy is never put together here:
	// the store joins it when it is read to be sent.
	return r.copyRows(g.members, subject, &store.SharedParts{Parts: parts}, order, nil, nil)
}

// copyRows sets the row of each copy in members from the shared parts
// and order of its mail (splice), slotParts and slotOrder being the texts
// of its group's slots (renderSlots; none outside slotted): the copy's
// values, a slot's text with them in it, go between the parts. A copy
// whose values do not fit is rendered whole. It returns how many were
// made from the parts.
func (r *sharedRender) copyRows(members []int, subject string, stored *store.SharedParts, order []int, slotParts [][][]byte, slotOrder [][]int) (spliced int, err error) {
	c := r.c
	lines := newPartLines(stored.Parts)
	for _, i := range members {
		pc := &r.copies[i]
		msgID := c.newMessageID(pc.m.kind)
		var vals [valCount]string
		vals[valRecipient], vals[valReplyAddress], vals[valRoleText] = pc.data.Recipient, pc.data.ReplyAddress, pc.data.RoleText
		vals[valReplyTo], vals[valMessageID] = pc.m.replyTo, msgID
		fill := make([][]byte, len(order))
		for k, v := range order {
			if v < valCount {
				fill[k] = []byte(vals[v])
			} else {
				fill[k] = fillIn(slotParts[v-valCount], slotOrder[v-valCount], vals)
			}
		}
		if !valuesFit(vals) || lines.tooLong(fill) { // tooLong: a line grew past 998 octets
			if err := r.whole(pc); err != nil {
				return 0, err
			}
			continue
		}
		cm := pc.m
		cm.subject, cm.body = subject, ""
		pc.row = c.outboxRow(r.statementID, r.eventID, cm, msgID, r.now, nil)
		pc.row.Shared, pc.row.Fill = stored, fill
		pc.row.EncodeFill() // here, in parallel, not under the write lock
		spliced++
	}
	return spliced, nil
}

// partLines says where the line ends are in each of a group's parts, to
// measure the lines a copy's values go into without putting it together.
type partLines struct {
	size        []int // len(parts[k])
	first, last []int // index of the first and last LF in parts[k]; -1: none
}

func newPartLines(parts [][]byte) partLines {
	pl := partLines{size: make([]int, len(parts)), first: make([]int, len(parts)), last: make([]int, len(parts))}
	for k, p := range parts {
		pl.size[k], pl.first[k], pl.last[k] = len(p), bytes.IndexByte(p, '\n'), bytes.LastIndexByte(p, '\n')
	}
	return pl
}

// tooLong reports whether a line that holds a value of fill (fill[k] goes
// after part k) is longer than SMTP carries (RFC 5322 2.1.1: 998 octets
// without its CRLF). The lines without a value were checked in the group's
// render (isSevenBit for the body, the header's folding). A value may hold
// line ends (a slot's text): each of its lines is checked too.
func (pl partLines) tooLong(fill [][]byte) bool {
	cur, valued := 0, false // the current line's length so far; whether it holds a value
	for k := range pl.size {
		if k > 0 {
			v := fill[k-1]
			if first := bytes.IndexByte(v, '\n'); first >= 0 {
				last := bytes.LastIndexByte(v, '\n')
				if cur+first-1 > 998 || longestLine(v[first+1:last+1]) > 998 {
					return true
				}
				cur = len(v) - last - 1
			} else {
				cur += len(v)
			}
			valued = true
		}
		if pl.first[k] < 0 {
			cur += pl.size[k]
			continue
		}
		// The line ends in part k, before its CRLF (CR only before LF: the
		// body is 7bit and header lines end in CRLF).
		if valued && cur+pl.first[k]-1 > 998 {
			return true
		}
		cur, valued = pl.size[k]-pl.last[k]-1, false
	}
	return valued && cur > 998
}

// longestLine is the length of the longest CRLF-ended line of b, which
// ends in LF or is empty.
func longestLine(b []byte) int {
	longest := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		longest = max(longest, i-1)
		b = b[i+1:]
	}
	return longest
}

// valuesFit reports whether a copy's values may replace the marks: each
// printable ASCII, without spaces in a header, the Reply-To formatted as
// "<addr>".
func valuesFit(vals [valCount]string) bool {
	for k, v := range vals {
		if !printable(v, k == valRoleText) {
			return false
		}
	}
	if v := vals[valReplyTo]; v != "" && (&mail.Address{Address: v}).String() != "<"+v+">" {
		return false
	}
	return true
}

// superGroups gathers the groups whose copies have the same header (the
// same outgoing, a Reply-To or none): they differ only in their data,
// which slotted may render once for all of them.
func (r *sharedRender) superGroups(groups []*copyGroup) [][]*copyGroup {
	var out [][]*copyGroup
	hasReplyTo := func(g *copyGroup) bool { return r.copies[g.members[0]].m.replyTo != "" }
	for _, g := range groups {
		found := false
		for k, sg := range out {
			if hasReplyTo(sg[0]) == hasReplyTo(g) && reflect.DeepEqual(sg[0].m, g.m) {
				out[k], found = append(sg, g), true
				break
			}
		}
		if !found {
			out = append(out, []*copyGroup{g})
		}
	}
	return out
}

// readerFields are the fields of mailData that say what a copy's reader
// may do (setRole, collectCopies): where the groups of one mail differ in
// these alone, their template may use them only in slots.
var readerFields = []string{"Role", "MayRedirect", "Attention"}

// varyingFields names the readerFields that differ between the groups gs;
// ok is false when they differ in anything else.
func varyingFields(gs []*copyGroup) (names []string, ok bool) {
	base := gs[0].data
	var role, redirect, attention bool
	for _, g := range gs[1:] {
		d := g.data
		role = role || d.Role != base.Role
		redirect = redirect || d.MayRedirect != base.MayRedirect
		attention = attention || !slices.Equal(d.Attention, base.Attention)
		d.Role, d.MayRedirect, d.Attention = base.Role, base.MayRedirect, base.Attention
		if !reflect.DeepEqual(d, base) {
			return nil, false
		}
	}
	for i, varies := range []bool{role, redirect, attention} {
		if varies {
			names = append(names, readerFields[i])
		}
	}
	return names, len(names) > 0
}

// slotted renders the copies of groups gs, which differ in fields their
// template uses only inside slots (templates.SlotCalls): the mail once,
// with a mark for each slot, and each slot once per group, whose text,
// with a copy's values in it, goes into that copy as a value. ok is false
// when that cannot give exactly the bytes of rendering each copy whole;
// the caller then renders group by group.
func (r *sharedRender) slotted(gs []*copyGroup) (spliced int, ok bool, err error) {
	c, vm, copies := r.c, r.marks, r.copies
	varying, ok := varyingFields(gs)
	if !ok {
		return 0, false, nil
	}
	slots, ok := c.Templates.SlotCalls(r.tmpl, varying...)
	if !ok || len(slots) == 0 {
		return 0, false, nil
	}
	// The copies' values are marks wherever the mail prints them; one
	// whose value is empty gets "" in its place, as printing it would.
	d, m := gs[0].data, gs[0].m
	d.Recipient, d.ReplyAddress, d.RoleText = vm.recipient, vm.replyAddress, vm.roleText
	if copies[gs[0].members[0]].m.replyTo != "" {
		m.replyTo = vm.replyTo
	}
	subject, text, err := c.Templates.MailSlotted(r.tmpl, slots, d)
	if err != nil {
		return 0, false, nil // rendered group by group, which reports it
	}
	for i := range slots {
		sentinel := c.Templates.SlotSentinel(i)
		if strings.Contains(subject, sentinel) {
			return 0, false, nil
		}
		text = strings.ReplaceAll(text, sentinel, vm.slot(i))
	}
	body := crlfText(text)
	// Mail trims the blank lines that begin a body: a slot there could
	// begin with some. A CR before a slot's mark (or at the end of a
	// slot's text) would be a line end once the two are joined: not 7bit.
	if strings.Contains(subject, vm.core) || strings.HasPrefix(body, vm.core) || !isSevenBit(body) {
		return 0, false, nil
	}
	m.subject = subject
	header, err := r.headerFor(m)
	if err != nil {
		return 0, false, err
	}
	raw := make([]byte, 0, len(header)+len(body))
	raw = append(append(raw, header...), body...)
	parts, order, ok := vm.splice(raw, len(slots))
	if !ok {
		return 0, false, nil
	}
	stored := &store.SharedParts{Parts: parts}
	for _, g := range gs {
		slotParts, slotOrder, ok := r.renderSlots(g, slots)
		var n int
		if ok {
			n, err = r.copyRows(g.members, subject, stored, order, slotParts, slotOrder)
		} else {
			n, err = r.group(g)
		}
		if err != nil {
			return 0, false, err
		}
		spliced += n
	}
	return spliced, true, nil
}

// markedData is group g's data with a mark for each value its copies
// have (all or none of them: groupKey).
func (r *sharedRender) markedData(g *copyGroup) mailData {
	vm, first, d := r.marks, &r.copies[g.members[0]], g.data
	if first.data.Recipient != "" {
		d.Recipient = vm.recipient
	}
	if first.data.ReplyAddress != "" {
		d.ReplyAddress = vm.replyAddress
	}
	if first.data.RoleText != "" {
		d.RoleText = vm.roleText
	}
	return d
}

// renderSlots renders each slot for group g, its copies' values as marks
// (as group does), and cuts each text at the marks; ok is false when a
// slot's text is not 7bit or does not render.
func (r *sharedRender) renderSlots(g *copyGroup, slots []string) (parts [][][]byte, order [][]int, ok bool) {
	vm := r.marks
	d := r.markedData(g)
	for _, name := range slots {
		text, err := r.c.Templates.Part(name, d)
		if err != nil {
			return nil, nil, false
		}
		body := crlfText(text)
		if !isSevenBit(body) {
			return nil, nil, false
		}
		p, o, ok := vm.splice([]byte(body), 0)
		if !ok {
			return nil, nil, false
		}
		parts, order = append(parts, p), append(order, o)
	}
	return parts, order, true
}

// fillIn is a slot's text with a copy's values between its parts.
func fillIn(parts [][]byte, order []int, vals [valCount]string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	for _, v := range order {
		n += len(vals[v])
	}
	out := make([]byte, 0, n)
	for k, p := range parts {
		out = append(out, p...)
		if k < len(order) {
			out = append(out, vals[order[k]]...)
		}
	}
	return out
}
