package templates

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// Slots: the copies of one mail are rendered once for all (notify, with
// PrintsVerbatim's fields spliced in per copy) only where they differ in
// those fields alone. A notification's copies also differ in what the
// reader may do (Role, MayRedirect, Attention), which the templates use
// only inside a few named templates ({{template "offer" .}}). Such a call is
// a slot: the mail is rendered once with each slot's output left as a
// mark, and each slot apart, once per kind of reader; the slot's text then
// goes into each copy like a value.

// SlotCalls reports the templates that mail template name calls with
// {{template "X" .}} (dot unchanged: not inside range or with) and that use
// one of fields; ok is false when the mail uses those fields anywhere else
// (a condition, a print, a template called with another argument, the
// whole data given to a function or printed), or calls more than ten slots.
// An unknown template reports false.
func (s *Set) SlotCalls(name string, fields ...string) (slots []string, ok bool) {
	key := "calls\x00" + name + "\x00" + strings.Join(fields, "\x00")
	if v, found := s.slots.Load(key); found {
		r := v.(slotCalls)
		return r.slots, r.ok
	}
	slots, ok = s.slotCalls(name, fields)
	if len(slots) > maxSlots {
		slots, ok = nil, false
	}
	s.slots.Store(key, slotCalls{slots, ok})
	return slots, ok
}

// maxSlots bounds the slots of one mail (notify marks them with one digit).
const maxSlots = 10

type slotCalls struct {
	slots []string
	ok    bool
}

func (s *Set) slotCalls(name string, fields []string) ([]string, bool) {
	t := s.mail.Lookup(name)
	if t == nil || t.Tree == nil {
		return nil, false
	}
	want := map[string]bool{}
	for _, f := range fields {
		want[f] = true
	}
	// uses reports whether template name, called with the mail's data,
	// uses one of the fields or the whole data (conservatively: any use of
	// dot or $ as a value, and any call back into a template being
	// visited, a recursion). dotData: dot is the mail's data (not inside
	// range or with, where it is something else and only $ is the data).
	usesMemo := map[string]bool{}
	visiting := map[string]bool{}
	var uses func(name string) bool
	var nodeUses func(n parse.Node, dotData bool) bool
	var pipeUses func(p *parse.PipeNode, templateCall, dotData bool) bool
	uses = func(name string) bool {
		if u, ok := usesMemo[name]; ok {
			return u
		}
		if visiting[name] {
			return true
		}
		visiting[name] = true
		t := s.mail.Lookup(name)
		u := t == nil || t.Tree == nil || nodeUses(t.Tree.Root, true)
		delete(visiting, name)
		usesMemo[name] = u
		return u
	}
	identsUse := func(idents []string) bool {
		for _, id := range idents {
			if want[id] {
				return true
			}
		}
		return false
	}
	argUses := func(arg parse.Node, templateCall, dotData bool) bool {
		switch a := arg.(type) {
		case *parse.DotNode:
			return dotData && !templateCall
		case *parse.VariableNode:
			return len(a.Ident) == 1 && a.Ident[0] == "$" || identsUse(a.Ident)
		case *parse.FieldNode:
			return dotData && identsUse(a.Ident)
		case *parse.ChainNode:
			return identsUse(a.Field) || nodeUses(a.Node, dotData)
		case *parse.PipeNode:
			return pipeUses(a, false, dotData)
		}
		return false
	}
	pipeUses = func(p *parse.PipeNode, templateCall, dotData bool) bool {
		if p == nil {
			return false
		}
		for _, cmd := range p.Cmds {
			for _, arg := range cmd.Args {
				if argUses(arg, templateCall, dotData) {
					return true
				}
			}
		}
		return false
	}
	nodeUses = func(n parse.Node, dotData bool) bool {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return false
			}
			for _, c := range n.Nodes {
				if nodeUses(c, dotData) {
					return true
				}
			}
			return false
		case *parse.ActionNode:
			return pipeUses(n.Pipe, false, dotData)
		case *parse.IfNode:
			return pipeUses(n.Pipe, false, dotData) || nodeUses(n.List, dotData) || nodeUses(n.ElseList, dotData)
		case *parse.RangeNode:
			return pipeUses(n.Pipe, false, dotData) || nodeUses(n.List, false) || nodeUses(n.ElseList, dotData)
		case *parse.WithNode:
			return pipeUses(n.Pipe, false, dotData) || nodeUses(n.List, false) || nodeUses(n.ElseList, dotData)
		case *parse.TemplateNode:
			// The callee's uses are counted as if it had the data.
			return pipeUses(n.Pipe, true, dotData) || (n.Pipe != nil && uses(n.Name))
		default:
			return argUses(n, false, dotData) // text, comments, break, continue: false
		}
	}
	var slots []string
	seen := map[string]bool{}
	// walk checks the mail's own tree; root: dot is still the mail's data.
	var walk func(n parse.Node, root bool) bool
	walk = func(n parse.Node, root bool) bool {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return true
			}
			for _, c := range n.Nodes {
				if !walk(c, root) {
					return false
				}
			}
			return true
		case *parse.IfNode:
			return !pipeUses(n.Pipe, false, root) && walk(n.List, root) && walk(n.ElseList, root)
		case *parse.RangeNode:
			return !pipeUses(n.Pipe, false, root) && walk(n.List, false) && walk(n.ElseList, root)
		case *parse.WithNode:
			return !pipeUses(n.Pipe, false, root) && walk(n.List, false) && walk(n.ElseList, root)
		case *parse.TemplateNode:
			if s.mail.Lookup(n.Name) == nil {
				return false // fails when executed: rendered whole, it says why
			}
			if n.Pipe == nil || !uses(n.Name) {
				return !pipeUses(n.Pipe, true, root)
			}
			if !root || !isBareDot(n.Pipe) {
				return false
			}
			if !seen[n.Name] {
				seen[n.Name] = true
				slots = append(slots, n.Name)
			}
			return true
		default:
			return !nodeUses(n, root)
		}
	}
	if !walk(t.Tree.Root, true) {
		return nil, false
	}
	return slots, true
}

func isBareDot(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	_, ok := p.Cmds[0].Args[0].(*parse.DotNode)
	return ok
}

// SlotSentinel is what MailSlotted writes in place of slot i's output:
// random for each Set and never sent (notify replaces it).
func (s *Set) SlotSentinel(i int) string {
	return fmt.Sprintf("%s%d", s.sentinel, i)
}

// MailSlotted is Mail with the output of each of slots (from SlotCalls)
// replaced by its SlotSentinel.
func (s *Set) MailSlotted(name string, slots []string, data any) (subject, body string, err error) {
	key := "slotted\x00" + name + "\x00" + strings.Join(slots, "\x00")
	v, ok := s.slots.Load(key)
	if !ok {
		clone, err := s.mail.Clone()
		if err != nil {
			return "", "", fmt.Errorf("render %s: %w", name, err)
		}
		for i, slot := range slots {
			if _, err := clone.New(slot).Parse(s.SlotSentinel(i)); err != nil {
				return "", "", fmt.Errorf("render %s: %w", name, err)
			}
		}
		v, _ = s.slots.LoadOrStore(key, clone)
	}
	return mailFrom(v.(*template.Template), name, data)
}

// Part renders the named template (a slot) alone, with line ends as Mail
// gives them.
func (s *Set) Part(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.mail.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.ReplaceAll(buf.String(), "\r\n", "\n"), nil
}

func newSentinel() string {
	var b [16]byte
	rand.Read(b[:])
	return "LSSLOT" + hex.EncodeToString(b[:]) + "s"
}
