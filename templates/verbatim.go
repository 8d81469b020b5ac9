package templates

import (
	"strings"
	"text/template/parse"
)

// PrintsVerbatim reports whether the mail template name (with the templates
// it calls) uses each of fields only to print it as it is: every use is a
// bare action "{{.Field}}", never a condition, an argument, a pipeline or a
// variable. Then its output for any value of those fields is its output for
// any other with the printed text replaced, which lets the copies of one
// mail be rendered once (notify). An unknown template reports false.
func (s *Set) PrintsVerbatim(name string, fields ...string) bool {
	key := name + "\x00" + strings.Join(fields, "\x00")
	if v, ok := s.verbatim.Load(key); ok {
		return v.(bool)
	}
	ok := s.printsVerbatim(name, fields)
	s.verbatim.Store(key, ok)
	return ok
}

func (s *Set) printsVerbatim(name string, fields []string) bool {
	t := s.mail.Lookup(name)
	if t == nil || t.Tree == nil {
		return false
	}
	want := map[string]bool{}
	for _, f := range fields {
		want[f] = true
	}
	seen := map[string]bool{}
	var visitTemplate func(name string) bool
	var visit func(n parse.Node) bool
	visitTemplate = func(name string) bool {
		if seen[name] {
			return true
		}
		seen[name] = true
		t := s.mail.Lookup(name)
		if t == nil || t.Tree == nil {
			return false
		}
		return visit(t.Tree.Root)
	}
	// usesField reports whether an argument names one of the fields,
	// anywhere in its chain ($.Field, .A.Field, (x).Field).
	usesField := func(n parse.Node) bool {
		var idents []string
		switch n := n.(type) {
		case *parse.FieldNode:
			idents = n.Ident
		case *parse.VariableNode:
			idents = n.Ident
		case *parse.ChainNode:
			idents = n.Field
		}
		for _, id := range idents {
			if want[id] {
				return true
			}
		}
		return false
	}
	// pipeOK: a pipeline that is not a bare print may not name the fields,
	// nor pass dot itself (the whole data) to a function.
	var pipeOK func(p *parse.PipeNode, template bool) bool
	pipeOK = func(p *parse.PipeNode, template bool) bool {
		if p == nil {
			return true
		}
		for _, cmd := range p.Cmds {
			for i, arg := range cmd.Args {
				switch a := arg.(type) {
				case *parse.DotNode:
					// {{template "x" .}} passes dot on, which is checked
					// where it is used; anywhere else dot is an argument.
					if !(template && len(p.Cmds) == 1 && len(cmd.Args) == 1 && i == 0) {
						return false
					}
				case *parse.PipeNode:
					if !pipeOK(a, false) {
						return false
					}
				case *parse.ChainNode:
					if usesField(a) {
						return false
					}
					if inner, ok := a.Node.(*parse.PipeNode); ok && !pipeOK(inner, false) {
						return false
					}
				default:
					if usesField(arg) {
						return false
					}
				}
			}
		}
		return true
	}
	visit = func(n parse.Node) bool {
		switch n := n.(type) {
		case nil:
			return true
		case *parse.ListNode:
			if n == nil {
				return true
			}
			for _, c := range n.Nodes {
				if !visit(c) {
					return false
				}
			}
			return true
		case *parse.ActionNode:
			p := n.Pipe
			if len(p.Decl) == 0 && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
				switch a := p.Cmds[0].Args[0].(type) {
				case *parse.FieldNode:
					if len(a.Ident) == 1 && want[a.Ident[0]] {
						return true // {{.Field}}: printed verbatim
					}
				case *parse.DotNode:
					return true // {{.}} prints its value as it is
				}
			}
			return pipeOK(p, false)
		case *parse.IfNode:
			return pipeOK(n.Pipe, false) && visit(n.List) && visit(n.ElseList)
		case *parse.RangeNode:
			return pipeOK(n.Pipe, false) && visit(n.List) && visit(n.ElseList)
		case *parse.WithNode:
			return pipeOK(n.Pipe, false) && visit(n.List) && visit(n.ElseList)
		case *parse.TemplateNode:
			return pipeOK(n.Pipe, true) && visitTemplate(n.Name)
		default:
			return true // text, comments, break, continue
		}
	}
	return visitTemplate(name)
}
