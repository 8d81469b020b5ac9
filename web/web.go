// Package web is liaisond's public display (DESIGN 8): server-rendered pages
// of current, outstanding and archived statements, attachments as downloads,
// an Atom feed, an iCalendar file of deadlines, a JSON API, /healthz and
// Prometheus /metrics. It only reads the store. Everything it shows came from
// mail and is untrusted: html/template escapes it, attachments are served as
// downloads, and every response carries a Content-Security-Policy.
package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"liaisond/store"
	"liaisond/token"
)

// IMAPState reports the IMAP poller's connection: configured is false when
// no IMAP source is set up (no metric is then reported).
type IMAPState func() (configured, connected bool)

// Options configure a Handler.
type Options struct {
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time
	// PublicURL is the absolute base of the links in feeds and mails
	// ("http://127.0.0.1:8080"). A path in it ("https://www.example.org/liaison/")
	// is where a reverse proxy puts the display: pages are served under it
	// and every link carries it.
	PublicURL string
	Templates fs.FS // page templates (*.html) and style.css
	IMAP      IMAPState
	// IMAPDetail, if set, is the IMAP poller's state shown on /healthz
	// (nil or a nil result: no "imap" field).
	IMAPDetail func() any
	PageSize   int // statements per list page; 0: 50
	// SubmitAddress is where statements are mailed (statements@D), shown on /submit.
	SubmitAddress string
	// CheckSubmission reads a pasted submission as ingest would (text, its
	// Subject); nil: /submit offers no check.
	CheckSubmission func(text, subject string) SubmitCheck
	// LiaisonManagers names the IETF's liaison managers for an SDO body
	// id ("Name <addr>"), shown on statement pages (RFC 4053 3.1.2).
	LiaisonManagers func(bodyID string) []string
}

// Handler serves the public display.
type Handler struct {
	opt    Options
	prefix string // the path of PublicURL without the final slash: "" or "/liaison"
	pages  *template.Template
	css    []byte
	mux    *http.ServeMux
	reg    *prometheus.Registry

	mu      sync.Mutex
	bodies  []bodyOption
	bodyAt  time.Time
	bodyMax int64
	checks  map[string]*checkWindowCount // /submit checks per client IP
}

// publicStates are the states anyone may see; held statements (over the
// submission rate, possibly abuse) stay out of every page, feed and API, and
// so do pending outgoing ones: until its submitter confirmed it and its
// approver approved it, a statement in an IETF body's name is not the
// body's word (a forged one must never look official, DESIGN 8).
var publicStates = []string{store.StateOpen, store.StateClosed}

func isPublic(state string) bool {
	for _, s := range publicStates {
		if s == state {
			return true
		}
	}
	return false
}

// New parses the templates and builds the routes.
func New(opt Options) (*Handler, error) {
	if opt.Store == nil || opt.Templates == nil {
		return nil, errors.New("web: Store and Templates are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 50
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	if u, err := url.Parse(opt.PublicURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("web: public_url %q is not an absolute URL", opt.PublicURL)
	}
	h := &Handler{opt: opt, mux: http.NewServeMux()}
	if u, _ := url.Parse(opt.PublicURL); u != nil {
		h.prefix = strings.TrimRight(u.EscapedPath(), "/")
	}
	pages, err := template.New("pages").Funcs(h.funcs()).ParseFS(opt.Templates, "*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	h.pages = pages
	if h.css, err = fs.ReadFile(opt.Templates, "style.css"); err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	h.reg = prometheus.NewRegistry()
	h.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &storeCollector{h: h})

	m := h.mux
	m.HandleFunc("GET /{$}", h.current)
	m.HandleFunc("GET /outstanding", h.outstanding)
	m.HandleFunc("GET /archive", h.archive)
	m.HandleFunc("GET /ls/{id}", h.detail)
	m.HandleFunc("GET /ls/{id}/att/{pos}", h.attachment)
	m.HandleFunc("GET /ls/{id}/att/{pos}/{name...}", h.attachment)
	m.HandleFunc("GET /feed.atom", h.feed)
	m.HandleFunc("GET /deadlines.ics", h.deadlines)
	m.HandleFunc("GET /api/statements", h.apiList)
	m.HandleFunc("GET /api/statements/{id}", h.apiOne)
	m.HandleFunc("GET /healthz", h.healthz)
	m.Handle("GET /metrics", promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{opt.Log}}))
	m.HandleFunc("GET /style.css", h.style)
	m.HandleFunc("GET /submit", h.submitPage)
	m.HandleFunc("POST /submit", h.submitCheck)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			h.errorPage(w, r, http.StatusMethodNotAllowed, "This site is read-only: only GET requests are answered (and the check on /submit).")
			return
		}
		h.errorPage(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	return h, nil
}

// ServeHTTP sets the security headers on every response, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			h.opt.Log.Error("web: panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p))
			if !sw.wrote {
				http.Error(sw, "internal error", http.StatusInternalServerError)
			}
		}
		h.opt.Log.Debug("http request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	}()
	routed := h.stripPrefix(r)
	if notText(routed.URL.Path) {
		// An attachment is the sender's file, served byte for byte; the
		// metrics may be compressed and carry no mail text.
		h.mux.ServeHTTP(sw, routed)
		return
	}
	scrub := &scrubWriter{ResponseWriter: sw, status: http.StatusOK}
	h.mux.ServeHTTP(scrub, routed)
	scrub.finish()
}

// downloadPath matches an attachment download (/ls/N/att/...), under any
// path prefix.
var downloadPath = regexp.MustCompile(`(^|/)ls/\d+/att/`)

// notText reports whether path serves bytes the token filter must not
// touch: attachment downloads and the metrics.
func notText(path string) bool {
	return downloadPath.MatchString(path) || strings.HasSuffix(path, "/metrics")
}

// scrubWriter holds a response back until the handler is done, then
// removes every personal reply token from it (DESIGN 7: tokens are
// secrets). This is the one place every public text passes, pages, feeds,
// calendar and API alike, so no page can forget it.
type scrubWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (s *scrubWriter) WriteHeader(code int) { s.status = code }

func (s *scrubWriter) Write(p []byte) (int, error) { return s.buf.Write(p) }

func (s *scrubWriter) finish() {
	body := token.ScrubBytes(s.buf.Bytes())
	s.Header().Del("Content-Length")
	s.ResponseWriter.WriteHeader(s.status)
	s.ResponseWriter.Write(body)
}

// stripPrefix routes /liaison/ls/4 as /ls/4 when public_url has the path
// /liaison. A request without the prefix (a proxy that strips it, a local
// /metrics scrape) is served as it is.
func (h *Handler) stripPrefix(r *http.Request) *http.Request {
	if h.prefix == "" {
		return r
	}
	p := r.URL.Path
	if p != h.prefix && !strings.HasPrefix(p, h.prefix+"/") {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = strings.TrimPrefix(p, h.prefix)
	if u.Path == "" {
		u.Path = "/"
	}
	u.RawPath = ""
	r2.URL = &u
	return r2
}

// path is the link to p ("/ls/4") as a reader's browser must ask for it.
func (h *Handler) path(p string) string { return h.prefix + p }

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Error("metrics: " + fmt.Sprint(v...)) }

func (h *Handler) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(h.css)
}

// render executes a page template into a buffer first, so a failure is a
// clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.opt.Log.Error("web: render page", "template", name, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error.html", map[string]any{"Page": page{Title: http.StatusText(status)}, "Status": status, "Message": msg})
}

// serverError logs a store failure and answers 503 (the store being busy is
// the usual cause, and a retry may work).
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.opt.Log.Error("web: read the store", "path", r.URL.Path, "err", err)
	h.errorPage(w, r, http.StatusServiceUnavailable, "The statements cannot be read just now; please try again in a moment.")
}
