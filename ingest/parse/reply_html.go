package parse

// Quote stripping for HTML replies (DESIGN 6 and 7: quoted text never runs
// and never becomes part of a statement). Mail clients mark the quoted
// message in the HTML, not in its text: a <blockquote>, Gmail's gmail_quote,
// Outlook's divRplyFwdMsg. Converted to text, those marks are gone, and the
// quote (a notification with its personal ls+N.<token> Reply-To address, a
// "close" line) would read as the sender's own words. So an HTML reply is
// stripped as HTML, on the parsed tree, before it is converted to text; the
// text rules of StripReply then remove what has no HTML marks (Outlook 2003
// header blocks, signatures).

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ReplyText returns the new text of a reply or command mail (what
// ParseCommands reads): the text part through StripReply or, when the text
// came from HTML (an HTML-only mail, or an empty text alternative), the HTML
// through StripReplyHTML. When both parts are there and the HTML marks a
// quote that the text part kept (clients that make the text alternative by
// dropping the tags, without "> "), the shorter HTML result is taken.
func ReplyText(m *Message) string {
	if m.HTML == "" {
		return StripReply(m.Text)
	}
	fromHTML, quoted := htmlReplyText(m.HTML)
	fromHTML = StripReply(fromHTML)
	if m.TextFromHTML || strings.TrimSpace(m.Text) == "" {
		return fromHTML
	}
	fromText := StripReply(m.Text)
	if quoted && nonSpaceLen(fromHTML) < nonSpaceLen(fromText) {
		return fromHTML
	}
	return fromText
}

func nonSpaceLen(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		n += len(f)
	}
	return n
}

// StripReplyHTML returns the new text of an HTML reply: the quoted material
// is removed from the parsed HTML (see htmlQuoteAction), the rest is
// converted to text as for Message.Text (htmlToText), and that text goes
// through StripReply.
func StripReplyHTML(s string) string {
	text, _ := htmlReplyText(s)
	return StripReply(text)
}

// maxReplyHTML is how much of an HTML reply is read (bytes).
const maxReplyHTML = 256 << 10

// htmlReplyText parses s, removes the quoted material from the tree, and
// returns the rest as text, with two ">" lines where quotes were (see
// replaceWithMarker), and whether any quote was found.
func htmlReplyText(s string) (string, bool) {
	// The tree builder's cost grows faster than linearly with some
	// malformed markup (1 MiB of unclosed <p><b><i><u>: 2 s), and the new
	// text is at the top: only the first maxReplyHTML bytes are read.
	if len(s) > maxReplyHTML {
		s = s[:maxReplyHTML]
		if i := strings.LastIndexByte(s, '<'); i > 0 {
			s = s[:i] // not half a tag
		}
	}
	// Message.HTML is valid UTF-8; other callers' invalid bytes are dropped.
	s = strings.ToValidUTF8(s, "")
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// Nesting deeper than the parser allows (x/net/html stops at 512
		// open elements), as in long threads of nested quotes: the new
		// text is read from what comes before the first quote element.
		if doc, err = html.Parse(strings.NewReader(s[:firstQuoteTag(s)])); err != nil {
			return "", true
		}
	}
	found := false
	n := doc
	for n != nil {
		skip := false
		if n.Type == html.ElementNode {
			switch htmlQuoteAction(n) {
			case quoteCutRest:
				removeFollowing(n)
				n, skip, found = replaceWithMarker(n), true, true
			case quoteRemove:
				n, skip, found = replaceWithMarker(n), true, true
			}
		}
		n = nextNode(doc, n, skip)
	}
	return htmlToText(renderForText(doc)), found
}

// firstQuoteTag returns the offset of the first start tag that
// htmlQuoteAction would take for quoted material, or len(s); found with the
// tokenizer, which has no nesting limit.
func firstQuoteTag(s string) int {
	z := html.NewTokenizer(strings.NewReader(s))
	off := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return len(s)
		}
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			t := z.Token()
			n := &html.Node{Type: html.ElementNode, Data: t.Data, DataAtom: t.DataAtom, Attr: t.Attr}
			if htmlQuoteAction(n) != quoteKeep {
				return min(off, len(s))
			}
		}
		off += len(z.Raw())
	}
}

// nextNode returns the node after n in document order (its first child
// unless skipChildren), nil after the last one. Walking with the tree's
// pointers keeps deep nesting from growing a stack.
func nextNode(root, n *html.Node, skipChildren bool) *html.Node {
	if !skipChildren && n.FirstChild != nil {
		return n.FirstChild
	}
	for n != nil && n != root {
		if n.NextSibling != nil {
			return n.NextSibling
		}
		n = n.Parent
	}
	return nil
}

// replaceWithMarker puts a quote marker in place of n and returns it: a
// block of two quoted lines, so that StripReply knows where the quote was
// (text above it is new; text below it counts only when nothing but a
// greeting is above, bottom posting) and never outputs it.
func replaceWithMarker(n *html.Node) *html.Node {
	m := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	m.AppendChild(&html.Node{Type: html.TextNode, Data: ">"})
	m.AppendChild(&html.Node{Type: html.ElementNode, Data: "br", DataAtom: atom.Br})
	m.AppendChild(&html.Node{Type: html.TextNode, Data: ">"})
	if n.Parent != nil {
		n.Parent.InsertBefore(m, n)
		n.Parent.RemoveChild(n)
	}
	return m
}

// removeFollowing removes everything after n in document order: its
// following siblings and those of each ancestor.
func removeFollowing(n *html.Node) {
	for x := n; x != nil; x = x.Parent {
		for x.NextSibling != nil {
			x.Parent.RemoveChild(x.NextSibling)
		}
	}
}

// quoteAction is what to do with an element of an HTML reply.
type quoteAction uint8

const (
	quoteKeep    quoteAction = iota
	quoteRemove              // the element is the quote (or its attribution)
	quoteCutRest             // the element and everything after it are the quoted message
)

// quoteClasses mark quoted material or its attribution, lowercased, without
// the "x_" Outlook on the web puts before the classes of a mail it quotes.
var quoteClasses = map[string]bool{
	"gmail_quote": true, "gmail_quote_container": true, "gmail_attr": true, "gmail_extra": false,
	"moz-cite-prefix": true, "moz-forward-container": true, // Thunderbird, also Apple Mail's forwards
	"yahoo_quoted": true, "ydp_yahoo_quoted": true, // Yahoo Mail
	"protonmail_quote": true, "zmail_extra": true, "zmail_extra_hr": true, // Proton, Zoho
}

// quoteIDs mark quoted material, lowercased, without "x_".
var quoteIDs = map[string]quoteAction{
	"divrplyfwdmsg":    quoteCutRest,                               // Outlook: the From/Sent/To/Subject block of the original
	"appendonsend":     quoteCutRest,                               // Outlook on the web: the empty div above that block
	"stopspelling":     quoteCutRest,                               // Hotmail: the rule above the original
	"isforwardcontent": quoteRemove, "isreplycontent": quoteRemove, // Mail.ru, Zimbra
}

// htmlQuoteAction says whether an element is quoted material: any
// blockquote (Apple Mail, Thunderbird and Gmail put the quote in one, with
// or without type=cite; one in the new text is taken as a quote too), the
// classes and ids of quoteClasses and quoteIDs, and Outlook's separator
// block, a div with a solid top border (Outlook 2010 and later:
// "border:none;border-top:solid #E1E1E1 1.0pt") that holds the quoted
// From/Sent/To/Subject block.
func htmlQuoteAction(n *html.Node) quoteAction {
	if n.DataAtom == atom.Blockquote {
		return quoteRemove
	}
	action := quoteKeep
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch a.Key {
		case "class":
			for _, c := range strings.Fields(strings.ToLower(a.Val)) {
				if quoteClasses[strings.TrimPrefix(c, "x_")] || c == "outlookmessageheader" || c == "x_outlookmessageheader" {
					if c == "outlookmessageheader" || c == "x_outlookmessageheader" {
						return quoteCutRest
					}
					action = max(action, quoteRemove)
				}
			}
		case "id":
			if v, ok := quoteIDs[strings.TrimPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "x_")]; ok {
				action = max(action, v)
			}
		case "style":
			if outlookSeparator(n, a.Val) {
				return quoteCutRest
			}
		}
	}
	return action
}

// outlookSeparator reports whether an element with the style st is
// Outlook's separator block: a solid top border, and either no other border
// (Outlook's own "border:none;border-top:solid ...") or a quoted header
// field ("From:", "Von:", "De :", ...) as its first text.
func outlookSeparator(n *html.Node, st string) bool {
	st = strings.ToLower(strings.Join(strings.Fields(st), ""))
	if !strings.Contains(st, "border-top:solid") && !strings.Contains(st, "border-top-style:solid") {
		return false
	}
	if strings.Contains(st, "border:none") {
		return true
	}
	k, _ := quoteHeaderField(leadingText(n, 200))
	return k != qfNone
}

// leadingText returns about the first max bytes of the text inside n.
func leadingText(n *html.Node, max int) string {
	var b strings.Builder
	for x := n.FirstChild; x != nil && b.Len() < max; x = nextNode(n, x, false) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// voidElements have no end tag (HTML 13.1.2).
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input, atom.Link, atom.Meta,
		atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// renderForText writes the tree back as HTML for htmlToText: the elements
// with only the attributes it reads (href; class and style of paragraphs),
// text escaped, hidden elements
// (script, style, ...) and comments left out. Unlike html.Render it does not
// recurse, so no nesting depth grows the stack.
func renderForText(root *html.Node) string {
	var b strings.Builder
	n := root
	for n != nil {
		skip := false
		switch n.Type {
		case html.TextNode:
			b.WriteString(html.EscapeString(n.Data))
		case html.ElementNode:
			if hiddenElement(n.DataAtom) {
				skip = true
				break
			}
			b.WriteByte('<')
			b.WriteString(n.Data)
			for _, a := range n.Attr {
				if a.Namespace == "" && (a.Key == "href" || a.Key == "class" || a.Key == "style") {
					b.WriteByte(' ')
					b.WriteString(a.Key)
					b.WriteString(`="`)
					b.WriteString(html.EscapeString(a.Val))
					b.WriteByte('"')
				}
			}
			b.WriteByte('>')
		}
		if !skip && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		// Leave n, and each ancestor whose last child it was.
		for n != nil {
			if n.Type == html.ElementNode && !hiddenElement(n.DataAtom) && !voidElement(n.DataAtom) {
				b.WriteString("</")
				b.WriteString(n.Data)
				b.WriteByte('>')
			}
			if n == root {
				n = nil
				break
			}
			if n.NextSibling != nil {
				n = n.NextSibling
				break
			}
			n = n.Parent
		}
	}
	return b.String()
}
