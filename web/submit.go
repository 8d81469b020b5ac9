package web

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// SubmitCheck is what liaisond reads from a pasted submission (DESIGN 8,
// /submit): the same parser and rules as a mailed statement.
type SubmitCheck struct {
	Fields    []SubmitField
	Direction string
	Assignee  string
	Problems  []string
	Warnings  []string
}

// SubmitField is one value as read, with the directory body it matched.
type SubmitField struct {
	Name, Value string
	BodyID      string // the directory body it names; "" when none
	Note        string // e.g. "not in our directory"
}

// The check's limits: what a pasted submission may weigh, and how many
// checks one client may ask for in a window (nothing is stored, but the
// parser's work should not be free for a flood).
const (
	maxDraftBytes   = 256 << 10
	checksPerWindow = 30
	checkWindow     = 10 * time.Minute
)

// submitView is /submit.
type submitView struct {
	Page     page
	Address  string
	Template string
	Draft    string
	Subject  string
	Checked  bool
	Check    SubmitCheck
	Error    string
}

const submitTemplate = `From: ITU-T Study Group 15
To: IETF CCAMP Working Group
Title: LS on OTN control plane
Purpose: For Action
Deadline: 2027-01-31
Response-Contact: rapporteur@itu.example
Technical-Contact: Expert One <expert1@vendor.example>
Attachment-URL: https://www.itu.example/md/T25-SG15-LS-123.pdf

Dear CCAMP colleagues,

(the text of the statement; attach its documents to the mail, preferably as PDF)
`

func (h *Handler) submitPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "submit.html", h.submitView())
}

func (h *Handler) submitView() submitView {
	return submitView{Page: page{Title: "Submit a liaison statement", Nav: "submit"}, Address: h.opt.SubmitAddress, Template: submitTemplate}
}

// submitCheck answers the check form: it shows what liaisond reads from
// the pasted draft; nothing is stored and nothing is sent.
func (h *Handler) submitCheck(w http.ResponseWriter, r *http.Request) {
	v := h.submitView()
	if h.opt.CheckSubmission == nil {
		h.errorPage(w, r, http.StatusNotFound, "The check is not available here.")
		return
	}
	if !h.allowCheck(r) {
		w.Header().Set("Retry-After", "600")
		v.Error = "You have asked for many checks in a short time; please wait a few minutes and try again."
		h.render(w, r, http.StatusTooManyRequests, "submit.html", v)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDraftBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		status := http.StatusBadRequest
		v.Error = "The form could not be read."
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
			v.Error = "The draft is too long to check here (at most 256 KB); the text of a statement belongs in the mail, its documents in attachments."
		}
		h.render(w, r, status, "submit.html", v)
		return
	}
	v.Draft = strings.ReplaceAll(r.PostForm.Get("draft"), "\r\n", "\n")
	v.Subject = strings.TrimSpace(r.PostForm.Get("subject"))
	if len(v.Subject) > 500 {
		v.Subject = v.Subject[:500]
	}
	v.Checked = true
	v.Check = h.opt.CheckSubmission(v.Draft, v.Subject)
	h.render(w, r, http.StatusOK, "submit.html", v)
}

// allowCheck applies the per-client rate of checks (a fixed window per IP).
func (h *Handler) allowCheck(r *http.Request) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := h.opt.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checks == nil || len(h.checks) > 10000 {
		h.checks = map[string]*checkWindowCount{}
	}
	c := h.checks[ip]
	if c == nil || now.Sub(c.start) >= checkWindow {
		c = &checkWindowCount{start: now}
		h.checks[ip] = c
	}
	c.n++
	return c.n <= checksPerWindow
}

type checkWindowCount struct {
	start time.Time
	n     int
}
