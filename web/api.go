package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"liaisond/store"
)

// apiList answers /api/statements: the statements of `list -json` (without
// body and events), filtered and paged:
//
//	state=open,closed (default both: pending and held ones are not public)  direction=incoming|outgoing
//	body=<id>  purpose=action,comment  deadline_from=YYYY-MM-DD  deadline_to=YYYY-MM-DD
//	q=<words>  sort=date|deadline  limit=1..500 (default 50)  offset=N
//
// A value it does not know is a 400 naming the parameter, never ignored.
func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.Query{States: publicStates, Limit: 50, Text: v.Get("q")}
	var problems []string
	list := func(name string, allowed []string) []string {
		var out []string
		for _, s := range v[name] {
			for _, p := range strings.Split(s, ",") {
				p = strings.TrimSpace(strings.ToLower(p))
				if p == "" {
					continue
				}
				if !slices.Contains(allowed, p) {
					problems = append(problems, fmt.Sprintf("%s=%q: use one of %s", name, p, strings.Join(allowed, ", ")))
					continue
				}
				out = append(out, p)
			}
		}
		return out
	}
	if s := list("state", publicStates); len(s) > 0 {
		q.States = s
	}
	if d := list("direction", knownDirections); len(d) == 1 {
		q.Direction = d[0]
	}
	q.Purposes = list("purpose", knownPurposes)
	if b := v.Get("body"); b != "" {
		if !bodyIDPattern.MatchString(strings.ToLower(b)) {
			problems = append(problems, fmt.Sprintf("body=%q: give a body id such as ccamp", b))
		}
		q.Body = strings.ToLower(b)
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"deadline_from", &q.DeadlineFrom}, {"deadline_to", &q.DeadlineTo}} {
		if d := v.Get(p.name); d != "" {
			if !datePattern.MatchString(d) {
				problems = append(problems, fmt.Sprintf("%s=%q: write a date as YYYY-MM-DD", p.name, d))
			}
			*p.dst = d
		}
	}
	switch s := v.Get("sort"); s {
	case "", "date":
	case store.SortDeadline:
		q.Sort = store.SortDeadline
	default:
		problems = append(problems, fmt.Sprintf("sort=%q: use date or deadline", s))
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &q.Limit, 1, 500}, {"offset", &q.Offset, 0, 1 << 30}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < p.min || n > p.max {
				problems = append(problems, fmt.Sprintf("%s=%q: give a number from %d to %d", p.name, s, p.min, p.max))
				continue
			}
			*p.dst = n
		}
	}
	if len(problems) > 0 {
		writeJSONError(w, http.StatusBadRequest, strings.Join(problems, "; "))
		return
	}
	var found []*store.Statement
	var total int
	err := searchReady(r.Context(), h.opt.Store, q)
	if err == nil {
		err = h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
			var err error
			if found, total, err = tx.Find(q); err != nil {
				return err
			}
			return hidePrivateRelations(tx, found)
		})
	}
	if err != nil {
		h.opt.Log.Error("web: api list", "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the statements cannot be read just now; retry")
		return
	}
	out := struct {
		Total      int                   `json:"total"`
		Offset     int                   `json:"offset"`
		Limit      int                   `json:"limit"`
		Statements []store.StatementJSON `json:"statements"`
	}{Total: total, Offset: q.Offset, Limit: q.Limit, Statements: []store.StatementJSON{}}
	for _, st := range found {
		out.Statements = append(out.Statements, st.JSON(false))
	}
	writeJSON(w, http.StatusOK, out)
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// apiOne answers /api/statements/N with the JSON of `liaisond show -json N`.
func (h *Handler) apiOne(w http.ResponseWriter, r *http.Request) {
	st, titles, ok := h.publicStatement(w, r)
	if !ok {
		return
	}
	st.Related = slices.DeleteFunc(st.Related, func(rel store.Relation) bool { return !isPublic(titles[rel.Ref][1]) })
	writeJSON(w, http.StatusOK, st.JSON(true))
}

// hidePrivateRelations drops the links to statements the public may not
// see (a reply waiting for approval, DESIGN 8) from a page of statements.
func hidePrivateRelations(tx *store.Tx, list []*store.Statement) error {
	var ids []int64
	for _, st := range list {
		for _, rel := range st.Related {
			ids = append(ids, rel.Ref)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	titles, err := tx.RelatedTitles(ids)
	if err != nil {
		return err
	}
	for _, st := range list {
		st.Related = slices.DeleteFunc(st.Related, func(rel store.Relation) bool { return !isPublic(titles[rel.Ref][1]) })
	}
	return nil
}

// writeJSON encodes like the command line does (two-space indent).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// healthz reports liveness with the message and outbox counts.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	type health struct {
		Status   string         `json:"status"`
		Messages map[string]int `json:"messages"`
		Outbox   map[string]int `json:"outbox"`
		Error    string         `json:"error,omitempty"`
		IMAP     any            `json:"imap,omitempty"`
	}
	hs := health{Status: "ok"}
	if h.opt.IMAPDetail != nil {
		hs.IMAP = h.opt.IMAPDetail()
	}
	err := h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		var err error
		if hs.Messages, err = tx.MessageCounts(); err != nil {
			return err
		}
		hs.Outbox, err = tx.OutboxCounts()
		return err
	})
	status := http.StatusOK
	if err != nil {
		hs.Status, hs.Error = "error", err.Error()
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, hs)
}
