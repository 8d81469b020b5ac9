package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"liaisond/store"
)

// page is what the layout needs.
type page struct {
	Title   string
	Nav     string // which menu entry is current
	Archive bool   // the archive look
}

// listView is a list page.
type listView struct {
	Page       page
	Heading    string
	Intro      string
	Action     string // the form's path
	Items      []item
	Total      int
	From, To   int
	Prev, Next string // links to the neighbouring pages, "" for none
	Form       form
	Bodies     []bodyOption
	BodyName   string // the filtered body's name: its feed, calendar and API are linked
	Empty      string
}

type form struct {
	Q, Body, Direction, Purpose, State, Due, Sort string
}

type bodyOption struct{ ID, Name string }

// item is one statement as the pages show it.
type item struct {
	*store.Statement
	Received  string
	Deadline  string
	Overdue   bool
	DueSoon   bool
	DueText   string // "overdue by 3 days", "due in 5 days", "due today"
	Replied   string // "2026-11-20" or ""
	Closed    string
	URL       string
	Purpose   string
	StateText string
}

var purposeText = map[string]string{
	"information": "For information", "comment": "For comment", "action": "For action", "response": "In response",
}

var stateText = map[string]string{
	store.StateOpen: "open", store.StateClosed: "closed", store.StatePending: "pending approval",
}

const dueSoonDays = 7

func (h *Handler) today() time.Time {
	y, m, d := h.opt.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (h *Handler) item(st *store.Statement) item {
	it := item{Statement: st, Received: st.ReceivedAt.UTC().Format("2006-01-02"), Deadline: st.Deadline,
		URL: h.path(fmt.Sprintf("/ls/%d", st.ID)), Purpose: purposeText[st.Purpose], StateText: stateText[st.State]}
	if it.Purpose == "" {
		it.Purpose = st.Purpose
	}
	if it.StateText == "" {
		it.StateText = st.State
	}
	if st.RepliedAt != nil {
		it.Replied = st.RepliedAt.UTC().Format("2006-01-02")
	}
	if st.ClosedAt != nil {
		it.Closed = st.ClosedAt.UTC().Format("2006-01-02")
	}
	// An answered statement is the action taken: its deadline no longer presses.
	if d, err := time.Parse("2006-01-02", st.Deadline); err == nil && st.State != store.StateClosed && st.RepliedAt == nil {
		days := int(d.Sub(h.today()).Hours() / 24)
		switch {
		case days < 0:
			it.Overdue = true
			it.DueText = "overdue by " + plural(-days, "day")
		case days == 0:
			it.DueSoon = true
			it.DueText = "due today"
		case days <= dueSoonDays:
			it.DueSoon = true
			it.DueText = "due in " + plural(days, "day")
		}
	}
	return it
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

var (
	knownDirections = []string{store.Incoming, store.Outgoing}
	knownPurposes   = []string{"information", "comment", "action", "response"}
	bodyIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// parseForm reads the list filters from the query string; values that are
// not one of the known ones are dropped (a list page never fails on them).
func (h *Handler) parseForm(r *http.Request) (form, store.Query, int) {
	v := r.URL.Query()
	f := form{Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort")}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	q := store.Query{Text: f.Q, Limit: h.opt.PageSize}
	if b := strings.ToLower(v.Get("body")); bodyIDPattern.MatchString(b) {
		f.Body, q.Body = b, b
	}
	if d := v.Get("direction"); slices.Contains(knownDirections, d) {
		f.Direction, q.Direction = d, d
	}
	if p := v.Get("purpose"); slices.Contains(knownPurposes, p) {
		f.Purpose, q.Purposes = p, []string{p}
	}
	today := h.today()
	switch d := v.Get("due"); d {
	case "overdue":
		f.Due, q.DeadlineTo, q.Unanswered = d, today.AddDate(0, 0, -1).Format("2006-01-02"), true
	case "7", "30", "90":
		n, _ := strconv.Atoi(d)
		f.Due, q.DeadlineFrom, q.DeadlineTo = d, today.Format("2006-01-02"), today.AddDate(0, 0, n).Format("2006-01-02")
	}
	if f.Sort == store.SortDeadline {
		q.Sort = store.SortDeadline
	} else {
		f.Sort = "date"
	}
	pageNo, _ := strconv.Atoi(v.Get("page"))
	if pageNo < 1 || pageNo > 100000 {
		pageNo = 1
	}
	q.Offset = (pageNo - 1) * q.Limit
	return f, q, pageNo
}

func (h *Handler) current(w http.ResponseWriter, r *http.Request) {
	f, q, pageNo := h.parseForm(r)
	q.States = []string{store.StateOpen}
	h.list(w, r, listView{Page: page{Title: "Current liaison statements", Nav: "current"}, Heading: "Current liaison statements",
		Intro:  "Statements received from and sent to other standards bodies that are still open, newest first. Closed ones are in the archive.",
		Action: h.path("/"), Empty: "No current statement matches."}, f, q, pageNo)
}

func (h *Handler) outstanding(w http.ResponseWriter, r *http.Request) {
	f, q, pageNo := h.parseForm(r)
	q.States = []string{store.StateOpen}
	// A statement answered by `reply` is the action taken (RFC 4053
	// Appendix B): current until closed, but no longer outstanding.
	q.Unanswered = true
	if len(q.Purposes) == 0 {
		q.Purposes = []string{"action", "comment"}
	}
	if r.URL.Query().Get("sort") == "" {
		q.Sort, f.Sort = store.SortDeadline, store.SortDeadline
	}
	h.list(w, r, listView{Page: page{Title: "Outstanding liaison statements", Nav: "outstanding"}, Heading: "Outstanding: action or comment requested",
		Intro:  "Open statements that ask for action or comment and have not been answered yet, soonest deadline first. Overdue ones are marked.",
		Action: h.path("/outstanding"), Empty: "Nothing is outstanding."}, f, q, pageNo)
}

func (h *Handler) archive(w http.ResponseWriter, r *http.Request) {
	f, q, pageNo := h.parseForm(r)
	q.States = []string{store.StateClosed}
	h.list(w, r, listView{Page: page{Title: "Archive of liaison statements", Nav: "archive", Archive: true}, Heading: "Archive: closed statements",
		Intro:  "These statements are closed: no action is pending on them. Current statements are on the front page.",
		Action: h.path("/archive"), Empty: "No closed statement matches."}, f, q, pageNo)
}

// searchReady indexes the statements not yet in the search index
// (store.IndexPending) before a text search, so that it finds every
// statement stored, the one that came a moment ago included.
func searchReady(ctx context.Context, s *store.Store, q store.Query) error {
	if strings.TrimSpace(q.Text) == "" {
		return nil
	}
	return s.IndexPending(ctx)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, v listView, f form, q store.Query, pageNo int) {
	var list []*store.Statement
	err := searchReady(r.Context(), h.opt.Store, q)
	if err == nil {
		err = h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
			var err error
			list, v.Total, err = tx.Find(q)
			return err
		})
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, st := range list {
		v.Items = append(v.Items, h.item(st))
	}
	v.Form = f
	v.Bodies = h.bodyOptions(r)
	if f.Body != "" {
		v.BodyName = f.Body
		for _, b := range v.Bodies {
			if b.ID == f.Body {
				v.BodyName = b.Name
			}
		}
	}
	if len(v.Items) > 0 {
		v.From, v.To = q.Offset+1, q.Offset+len(v.Items)
	}
	link := func(p int) string {
		qs := r.URL.Query()
		qs.Del("page")
		if p > 1 {
			qs.Set("page", strconv.Itoa(p))
		}
		if len(qs) == 0 {
			return v.Action
		}
		return v.Action + "?" + qs.Encode()
	}
	if pageNo > 1 {
		v.Prev = link(pageNo - 1)
	}
	if q.Offset+len(v.Items) < v.Total {
		v.Next = link(pageNo + 1)
	}
	h.render(w, r, http.StatusOK, "list.html", v)
}

// bodyOptions lists the bodies statements name, for the filter; it is
// computed again when a statement was added, or after a minute.
func (h *Handler) bodyOptions(r *http.Request) []bodyOption {
	h.mu.Lock()
	defer h.mu.Unlock()
	var opts []bodyOption
	err := h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		maxID, err := tx.MaxStatementID()
		if err != nil {
			return err
		}
		if h.bodies != nil && maxID == h.bodyMax && h.opt.Now().Sub(h.bodyAt) < time.Minute {
			opts = h.bodies
			return nil
		}
		bs, err := tx.BodyNames()
		for _, b := range bs {
			opts = append(opts, bodyOption{ID: b.ID, Name: b.Name})
		}
		h.bodyMax = maxID
		return err
	})
	if err != nil {
		h.opt.Log.Warn("web: list bodies for the filter", "err", err)
		return h.bodies
	}
	h.bodies, h.bodyAt = opts, h.opt.Now()
	return opts
}

// detailView is /ls/N.
type detailView struct {
	Page page
	item
	Body     string
	Fields   []field
	Related  []related
	Events   []event
	Atts     []att
	Archived bool
	Managers []string // the SDO's liaison managers (RFC 4053 3.1.2)
	Redirect string   // "addressed to X, redirected to Y by Z on D"
}

type field struct {
	Name   string
	Values []string
	Bodies []store.BodyRef // for From and To: each links to the body's statements
}

type related struct {
	Ref, Relation, Title, URL, State string
}

type event struct {
	At, Type, By, Text string
}

type att struct {
	Name, URL, Type, Size string
}

// parseID accepts "42" and "LS-42".
func parseID(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.ToUpper(s), "LS-")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// publicStatement loads one statement that the public may see.
func (h *Handler) publicStatement(w http.ResponseWriter, r *http.Request) (*store.Statement, map[int64][2]string, bool) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.notFound(w, r, "Statements are numbered: /ls/42.")
		return nil, nil, false
	}
	var st *store.Statement
	var titles map[int64][2]string
	err := h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		var err error
		if st, err = tx.Statement(id); err != nil {
			return err
		}
		ids := make([]int64, 0, len(st.Related))
		for _, rel := range st.Related {
			ids = append(ids, rel.Ref)
		}
		titles, err = tx.RelatedTitles(ids)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isPublic(st.State)) {
		h.notFound(w, r, fmt.Sprintf("There is no statement LS-%d.", id))
		return nil, nil, false
	}
	if err != nil {
		h.serverError(w, r, err)
		return nil, nil, false
	}
	// Events from mail that did not authenticate are the operator's alone
	// (DESIGN 6): not on the page, not in the API.
	st.Events = store.PublicEvents(st.Events)
	return st, titles, true
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSONError(w, http.StatusNotFound, msg)
		return
	}
	h.errorPage(w, r, http.StatusNotFound, msg)
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	st, titles, ok := h.publicStatement(w, r)
	if !ok {
		return
	}
	v := detailView{item: h.item(st), Body: st.Body, Archived: st.State == store.StateClosed}
	v.Page = page{Title: st.Ref() + ": " + st.Title, Archive: v.Archived}
	to := make([]string, 0, len(st.To))
	for _, b := range st.To {
		if st.Unmatched(b) {
			to = append(to, b.Name+" (not in the directory)")
			continue
		}
		to = append(to, b.Name)
	}
	names := func(cs []store.Contact) []string {
		out := []string{}
		for _, c := range cs {
			if c.Name != "" {
				out = append(out, c.Name+" <"+c.Addr+">")
			} else {
				out = append(out, c.Addr)
			}
		}
		return out
	}
	v.Fields = []field{
		{"From", []string{st.From.Name}, []store.BodyRef{st.From}},
		{"To", to, st.To},
		{Name: "Title", Values: []string{st.Title}},
		{Name: "Purpose", Values: []string{v.Purpose}},
		{Name: "Deadline", Values: nonEmpty(st.Deadline)},
		{Name: "Submitter", Values: nonEmpty(st.Submitter)},
		{Name: "Response contacts", Values: names(st.ResponseContacts)},
		{Name: "Technical contacts", Values: names(st.TechnicalContacts)},
		{Name: "Cc", Values: names(st.Cc)},
	}
	v.Redirect = redirectText(st)
	if h.opt.LiaisonManagers != nil {
		_, sdo := st.Sides()
		for _, id := range sdo {
			v.Managers = append(v.Managers, h.opt.LiaisonManagers(id)...)
		}
	}
	for _, f := range st.Other {
		v.Fields = append(v.Fields, field{Name: f.Name, Values: []string{f.Value}})
	}
	for _, rel := range st.Related {
		t, ok := titles[rel.Ref]
		if !ok || !isPublic(t[1]) {
			continue
		}
		v.Related = append(v.Related, related{Ref: fmt.Sprintf("LS-%d", rel.Ref), Relation: relationText(rel.Relation),
			Title: t[0], URL: h.path(fmt.Sprintf("/ls/%d", rel.Ref)), State: stateText[t[1]]})
	}
	for _, a := range st.Attachments {
		v.Atts = append(v.Atts, att{Name: safeFilename(a.Name, a.Pos), URL: h.path(attachmentURL(st.ID, a.Pos, a.Name)), Type: a.ContentType, Size: humanSize(a.Size)})
	}
	for _, ev := range st.Events {
		e := event{At: ev.At.UTC().Format("2006-01-02 15:04 UTC"), Type: ev.Type, By: ev.By, Text: ev.Text}
		if ev.Type == store.EventDeliveryFailed {
			// The remote server's answer names hosts and mailboxes: not for the public page.
			e.Text = "a mail about this statement could not be delivered"
		}
		v.Events = append(v.Events, e)
	}
	h.render(w, r, http.StatusOK, "detail.html", v)
}

// redirectText says where a redirected statement was first addressed
// (DESIGN 6: the history keeps the first addressee), from its events.
func redirectText(st *store.Statement) string {
	var first []store.BodyRef
	var last store.ChangeData
	var at time.Time
	for _, ev := range st.Events {
		if ev.Type != store.EventRedirected {
			continue
		}
		d, err := store.DecodeData[store.ChangeData](&ev)
		if err != nil || len(d.OldTo) == 0 {
			continue
		}
		if first == nil {
			first = d.OldTo
		}
		last, at = d, ev.At
	}
	if first == nil {
		return ""
	}
	names := func(refs []store.BodyRef) string {
		out := make([]string, 0, len(refs))
		for _, r := range refs {
			out = append(out, r.Name)
		}
		return strings.Join(out, ", ")
	}
	return fmt.Sprintf("addressed to %s, redirected to %s by %s on %s", names(first), names(last.NewTo), last.By, at.UTC().Format("2006-01-02"))
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func relationText(r string) string {
	switch r {
	case store.RelRepliesTo:
		return "in response to"
	case store.RelRepliedBy:
		return "answered by"
	}
	return strings.ReplaceAll(r, "-", " ")
}

// attachmentURL is the path of an attachment: /ls/42/att/1/<name>, the name
// percent-encoded (the name is there for the reader; the number decides).
func attachmentURL(id int64, pos int, name string) string {
	return fmt.Sprintf("/ls/%d/att/%d/%s", id, pos, url.PathEscape(safeFilename(name, pos)))
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"join": strings.Join,
		// u is a site path as a link: under public_url's path.
		"u":    h.path,
		"list": func(s ...string) []string { return s },
	}
}
