package web

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"liaisond/store"
)

// Atom (RFC 4287), written with encoding/xml.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomEntry struct {
	Title      string     `xml:"title"`
	ID         string     `xml:"id"`
	Updated    string     `xml:"updated"`
	Published  string     `xml:"published"`
	Links      []atomLink `xml:"link"`
	Author     atomPerson `xml:"author"`
	Categories []atomCat  `xml:"category"`
	Summary    atomText   `xml:"summary"`
}

type atomCat struct {
	Term string `xml:"term,attr"`
}

const feedSize = 50

// bodyParam reads ?body=<id>, which narrows a feed to one body's
// statements (sent or received); ok is false for a value that is no id.
func bodyParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	b := strings.ToLower(r.URL.Query().Get("body"))
	if b != "" && !bodyIDPattern.MatchString(b) {
		http.Error(w, fmt.Sprintf("body=%q: give a body id such as ccamp", r.URL.Query().Get("body")), http.StatusBadRequest)
		return "", false
	}
	return b, true
}

// feed answers /feed.atom: the newest statements, every public state;
// ?body=<id> gives one body's.
func (h *Handler) feed(w http.ResponseWriter, r *http.Request) {
	body, ok := bodyParam(w, r)
	if !ok {
		return
	}
	var list []*store.Statement
	err := h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		var err error
		list, _, err = tx.Find(store.Query{States: publicStates, Body: body, Limit: feedSize})
		return err
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	base := h.opt.PublicURL
	self, alt, title := base+"/feed.atom", base+"/", "Liaison statements"
	if body != "" {
		self, alt, title = self+"?body="+body, alt+"?body="+body, title+" of "+body
	}
	f := atomFeed{Title: title, ID: self,
		Links:  []atomLink{{Rel: "self", Href: self, Type: "application/atom+xml"}, {Rel: "alternate", Href: alt, Type: "text/html"}},
		Author: atomPerson{Name: "liaisond"}, Updated: time.Unix(0, 0).UTC().Format(time.RFC3339)}
	for _, st := range list {
		updated := st.ReceivedAt
		for _, t := range []*time.Time{st.RepliedAt, st.ClosedAt} {
			if t != nil && t.After(updated) {
				updated = *t
			}
		}
		if u := updated.UTC().Format(time.RFC3339); u > f.Updated {
			f.Updated = u
		}
		it := h.item(st)
		var sum strings.Builder
		fmt.Fprintf(&sum, "%s statement from %s to %s. %s.", st.Direction, st.From.Name, toNames(st), it.Purpose)
		if st.Deadline != "" {
			fmt.Fprintf(&sum, " Deadline %s.", st.Deadline)
		}
		fmt.Fprintf(&sum, " State: %s.", it.StateText)
		if it.Replied != "" {
			fmt.Fprintf(&sum, " Replied on %s.", it.Replied)
		}
		f.Entries = append(f.Entries, atomEntry{
			Title: xmlSafe(st.Ref() + ": " + st.Title), ID: fmt.Sprintf("%s/ls/%d", base, st.ID),
			Updated: updated.UTC().Format(time.RFC3339), Published: st.ReceivedAt.UTC().Format(time.RFC3339),
			Links:      []atomLink{{Rel: "alternate", Href: fmt.Sprintf("%s/ls/%d", base, st.ID), Type: "text/html"}},
			Author:     atomPerson{Name: xmlSafe(st.From.Name)},
			Categories: []atomCat{{Term: st.Direction}, {Term: st.Purpose}, {Term: st.State}},
			Summary:    atomText{Type: "text", Text: xmlSafe(sum.String())},
		})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		h.opt.Log.Error("web: encode the feed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write(buf.Bytes())
}

func toNames(st *store.Statement) string {
	names := make([]string, 0, len(st.To))
	for _, b := range st.To {
		names = append(names, b.Name)
	}
	return strings.Join(names, ", ")
}

// xmlSafe drops the characters XML 1.0 cannot carry at all (encoding/xml
// would write them as U+FFFD escapes that some parsers refuse).
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

const maxCalendarEvents = 2000

// deadlines answers /deadlines.ics: one all-day event per open statement
// with a deadline that is not answered yet (RFC 5545), for a chair's
// calendar subscription; ?body=<id> gives one body's (her WG's).
func (h *Handler) deadlines(w http.ResponseWriter, r *http.Request) {
	body, ok := bodyParam(w, r)
	if !ok {
		return
	}
	var list []*store.Statement
	err := h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		var err error
		list, _, err = tx.Find(store.Query{States: []string{store.StateOpen}, Body: body, Unanswered: true, DeadlineFrom: "0000-01-01", Sort: store.SortDeadline, Limit: maxCalendarEvents})
		return err
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	host := "liaisond"
	if u, err := url.Parse(h.opt.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	stamp := h.opt.Now().UTC().Format("20060102T150405Z")
	var c icsWriter
	c.line("BEGIN:VCALENDAR")
	c.line("VERSION:2.0")
	c.line("PRODID:-//liaisond//liaison statement deadlines//EN")
	c.line("CALSCALE:GREGORIAN")
	c.line("METHOD:PUBLISH")
	if body != "" {
		c.prop("X-WR-CALNAME", "Liaison statement deadlines of "+body)
	} else {
		c.prop("X-WR-CALNAME", "Liaison statement deadlines")
	}
	for _, st := range list {
		d, err := time.Parse("2006-01-02", st.Deadline)
		if err != nil {
			continue
		}
		url := fmt.Sprintf("%s/ls/%d", h.opt.PublicURL, st.ID)
		c.line("BEGIN:VEVENT")
		c.line(fmt.Sprintf("UID:ls-%d-deadline@%s", st.ID, icsEscape(host)))
		c.line("DTSTAMP:" + stamp)
		c.line("DTSTART;VALUE=DATE:" + d.Format("20060102"))
		c.line("DTEND;VALUE=DATE:" + d.AddDate(0, 0, 1).Format("20060102"))
		c.prop("SUMMARY", fmt.Sprintf("Deadline %s: %s", st.Ref(), st.Title))
		desc := fmt.Sprintf("%s statement from %s to %s, %s.\nAssignee: %s\n%s", st.Direction, st.From.Name, toNames(st),
			strings.ToLower(purposeText[st.Purpose]), st.Assignee, url)
		c.prop("DESCRIPTION", desc)
		c.line("URL;VALUE=URI:" + url)
		c.line("TRANSP:TRANSPARENT")
		c.line("END:VEVENT")
	}
	c.line("END:VCALENDAR")
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="deadlines.ics"`)
	w.Write(c.buf.Bytes())
}

// icsWriter writes content lines: CRLF ends, folded at 75 octets without
// splitting a UTF-8 sequence (RFC 5545 3.1).
type icsWriter struct{ buf bytes.Buffer }

func (c *icsWriter) prop(name, text string) { c.line(name + ":" + icsEscape(text)) }

func (c *icsWriter) line(s string) {
	const max = 75
	first := true
	for len(s) > 0 {
		limit := max
		if !first {
			limit = max - 1 // the leading space counts
			c.buf.WriteByte(' ')
		}
		if len(s) <= limit {
			c.buf.WriteString(s)
			break
		}
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		c.buf.WriteString(s[:cut])
		c.buf.WriteString("\r\n")
		s = s[cut:]
		first = false
	}
	c.buf.WriteString("\r\n")
}

// icsEscape escapes TEXT values (RFC 5545 3.3.11) and drops control characters.
func icsEscape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
		case r < 0x20 || r == 0x7f:
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
