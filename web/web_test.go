package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/mmcdole/gofeed"

	"liaisond/store"
	"liaisond/templates"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	store *store.Store
	h     *Handler
	srv   *httptest.Server
	imap  [2]bool
}

func newFixture(t *testing.T, pageSize int) *fixture {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{t: t, store: s}
	f.h, err = New(Options{Store: s, Now: func() time.Time { return now }, PublicURL: "https://ls.example/",
		Templates: templates.Web(), PageSize: pageSize, IMAP: func() (bool, bool) { return f.imap[0], f.imap[1] }})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(f.srv.Close)
	return f
}

// add stores a statement; mod adjusts the defaults.
func (f *fixture) add(mod func(st *store.Statement)) *store.Statement {
	f.t.Helper()
	st := &store.Statement{
		Direction: store.Incoming, State: store.StateOpen,
		From:  store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To:    []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}},
		Title: "LS on OTN control", Purpose: "action", Deadline: "2027-01-31",
		Submitter: "sender@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: now.Add(-48 * time.Hour),
		ResponseContacts:  []store.Contact{{Name: "Rapporteur", Addr: "rapporteur@itu.example"}},
		TechnicalContacts: []store.Contact{{Name: "Expert One", Addr: "expert1@vendor.example"}},
		Body:              "Dear CCAMP colleagues,\nplease review the attached.",
		URLs:              []string{"https://www.itu.example/md/LS-123.pdf"},
		Attachments:       []store.Attachment{{Name: "LS-123.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 test")}},
	}
	if mod != nil {
		mod(st)
	}
	err := f.store.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		return tx.InsertEvent(&store.Event{StatementID: st.ID, At: st.ReceivedAt, Type: store.EventSubmitted, By: st.Submitter,
			Text: "incoming statement: " + st.Title})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (f *fixture) page(path string) string {
	f.t.Helper()
	resp, body := f.get(path)
	if resp.StatusCode != 200 {
		f.t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	checkPageHeaders(f.t, path, resp)
	return body
}

func checkPageHeaders(t *testing.T, path string, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("GET %s: Content-Security-Policy = %q", path, csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
	}
}

// refs lists the LS references a list page shows, in order.
func refs(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<a class="ref" href="/ls/\d+">(LS-\d+)</a>`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func sameRefs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s shows %v, want %v", what, got, want)
	}
}

func TestListPages(t *testing.T) {
	f := newFixture(t, 50)
	overdue := f.add(func(st *store.Statement) { st.Deadline = "2026-11-20"; st.Title = "Overdue one" })
	soon := f.add(func(st *store.Statement) { st.Deadline = "2026-11-29"; st.Purpose = "comment"; st.Title = "Due soon" })
	info := f.add(func(st *store.Statement) { st.Deadline = ""; st.Purpose = "information"; st.Title = "Just information" })
	replied := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	closedAt := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	closed := f.add(func(st *store.Statement) {
		st.State, st.ClosedAt, st.RepliedAt, st.Title = store.StateClosed, &closedAt, &replied, "Old and done"
	})
	pending := f.add(func(st *store.Statement) {
		st.Direction, st.State, st.Title = store.Outgoing, store.StatePending, "Our answer"
		st.From, st.To = store.BodyRef{ID: "ccamp", Name: "IETF CCAMP Working Group"}, []store.BodyRef{{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"}}
		st.Purpose, st.Deadline = "response", ""
	})
	held := f.add(func(st *store.Statement) { st.State, st.Title = store.StateHeld, "Spam held back" })
	answeredAt := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	answered := f.add(func(st *store.Statement) {
		st.Deadline, st.RepliedAt, st.Title = "2026-11-25", &answeredAt, "Answered already"
	})
	ref := func(st *store.Statement) string { return st.Ref() }

	cur := f.page("/")
	// A pending outgoing statement is not public (DESIGN 8); an answered
	// one is current until closed.
	sameRefs(t, "/", refs(cur), ref(answered), ref(info), ref(soon), ref(overdue))
	if strings.Contains(cur, "Our answer") {
		t.Error("/ shows a pending outgoing statement")
	}
	if resp, _ := f.get(fmt.Sprintf("/ls/%d", pending.ID)); resp.StatusCode != 404 {
		t.Errorf("/ls/%d of a pending outgoing statement: %s, want 404", pending.ID, resp.Status)
	}
	if !strings.Contains(f.page(fmt.Sprintf("/ls/%d", answered.ID)), "replied on 2026-11-24") {
		t.Error("the page of an answered statement does not say so")
	}
	if strings.Contains(cur, "Spam held back") || strings.Contains(cur, "Old and done") {
		t.Error("/ shows a held or closed statement")
	}
	if !regexp.MustCompile(`class="ls overdue state-open">\s*<p class="line1"><a class="ref" href="/ls/1">`).MatchString(cur) ||
		!strings.Contains(cur, "overdue by 6 days") {
		t.Error("/ does not mark LS-1 overdue")
	}
	if !strings.Contains(cur, "due in 3 days") || !strings.Contains(cur, `class="ls due-soon state-open"`) {
		t.Error("/ does not mark LS-2 as due soon")
	}
	if strings.Contains(cur, `class="archive"`) {
		t.Error("/ has the archive look")
	}

	out := f.page("/outstanding")
	// Answered by a reply: the action is taken, so it is not outstanding.
	sameRefs(t, "/outstanding", refs(out), ref(overdue), ref(soon))

	arch := f.page("/archive")
	sameRefs(t, "/archive", refs(arch), ref(closed))
	for _, want := range []string{`<body class="archive">`, `class="banner"`, "replied on 2026-11-20", "closed on 2026-11-21"} {
		if !strings.Contains(arch, want) {
			t.Errorf("/archive lacks %q", want)
		}
	}

	// Filters.
	sameRefs(t, "direction=outgoing", refs(f.page("/?direction=outgoing")))
	sameRefs(t, "purpose=comment", refs(f.page("/?purpose=comment")), ref(soon))
	sameRefs(t, "state=pending", refs(f.page("/?state=pending")), ref(answered), ref(info), ref(soon), ref(overdue))
	sameRefs(t, "due=overdue", refs(f.page("/?due=overdue")), ref(overdue))
	sameRefs(t, "due=7", refs(f.page("/?due=7")), ref(soon))
	sameRefs(t, "sort=deadline", refs(f.page("/?sort=deadline")), ref(overdue), ref(answered), ref(soon), ref(info))
	f.add(func(st *store.Statement) {
		st.From, st.Title = store.BodyRef{ID: "ieee-802-1", Name: "IEEE 802.1"}, "From IEEE"
		st.To = []store.BodyRef{{ID: "tsvwg", Name: "IETF TSVWG"}}
	})
	sameRefs(t, "body=tsvwg", refs(f.page("/?body=tsvwg")), "LS-8")
	sameRefs(t, "body=ieee-802-1", refs(f.page("/?body=ieee-802-1")), "LS-8")
	if !strings.Contains(f.page("/"), `<option value="tsvwg">IETF TSVWG</option>`) {
		t.Error("the body filter does not offer tsvwg")
	}
	// Unknown filter values are ignored, not errors.
	sameRefs(t, "junk filters", refs(f.page("/?direction=sideways&purpose=x&due=soonish&page=-4&sort=x")), "LS-8", ref(answered), ref(info), ref(soon), ref(overdue))
	_ = held
}

func TestSearch(t *testing.T) {
	f := newFixture(t, 50)
	f.add(func(st *store.Statement) { st.Title = "Optical transport"; st.Body = "about wavelength switching" })
	f.add(func(st *store.Statement) {
		st.Title = "Time sync"
		st.TechnicalContacts = []store.Contact{{Name: "Zoltan Expert", Addr: "zoltan@op.example"}}
	})
	f.add(func(st *store.Statement) {
		st.Title = "Bridging"
		st.From = store.BodyRef{ID: "ieee-802-1", Name: "IEEE 802.1 Working Group"}
	})
	for q, want := range map[string][]string{
		"wavelength":          {"LS-1"}, // body
		"optical":             {"LS-1"}, // title
		"zoltan":              {"LS-2"}, // contact name
		"zoltan@op.example":   {"LS-2"}, // contact address
		"IEEE":                {"LS-3"}, // body name
		"ccamp":               {"LS-3", "LS-2", "LS-1"},
		"wavel":               {"LS-1"}, // prefix
		`"unbalanced (quote*`: nil,      // never a syntax error
		"---":                 nil,
		"nothing-like-this":   nil,
	} {
		p := f.page("/?q=" + strings.ReplaceAll(q, " ", "+"))
		sameRefs(t, "search "+q, refs(p), want...)
		if len(want) > 0 && !strings.Contains(p, fmt.Sprintf("1–%d of %d", len(want), len(want))) {
			t.Errorf("search %q does not count %d matches", q, len(want))
		}
	}
}

func TestPaging(t *testing.T) {
	f := newFixture(t, 2)
	for i := 0; i < 5; i++ {
		f.add(nil)
	}
	p1 := f.page("/")
	sameRefs(t, "page 1", refs(p1), "LS-5", "LS-4")
	if !strings.Contains(p1, "1–2 of 5") || !strings.Contains(p1, `href="/?page=2"`) || strings.Contains(p1, `rel="prev"`) {
		t.Errorf("page 1 navigation wrong:\n%s", p1)
	}
	p3 := f.page("/?page=3")
	sameRefs(t, "page 3", refs(p3), "LS-1")
	if strings.Contains(p3, `rel="next"`) || !strings.Contains(p3, `href="/?page=2"`) {
		t.Error("page 3 navigation wrong")
	}
}

func TestDetailPage(t *testing.T) {
	f := newFixture(t, 50)
	orig := f.add(func(st *store.Statement) {
		st.Other = []store.Field{{Name: "Reference", Value: "T25-SG15-LS-123"}}
		st.StatusLine = "discussed at IETF 125"
		st.Cc = []store.Contact{{Addr: "ccamp-interest@ietf.example"}}
	})
	answer := f.add(func(st *store.Statement) {
		st.Direction, st.Title, st.Purpose, st.Deadline = store.Outgoing, "Reply on OTN", "response", ""
	})
	held := f.add(func(st *store.Statement) { st.State = store.StateHeld })
	err := f.store.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.AddRelation(answer.ID, orig.ID, store.RelRepliesTo); err != nil {
			return err
		}
		if err := tx.AddRelation(held.ID, orig.ID, store.RelRepliesTo); err != nil {
			return err
		}
		if err := tx.SetReplied(orig.ID, time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		if err := tx.InsertEvent(&store.Event{StatementID: orig.ID, At: now, Type: store.EventDeliveryFailed, By: "liaisond",
			Text: "notification to x@y.example could not be delivered: 550 5.1.1 mailbox unknown at mx7.internal.example"}); err != nil {
			return err
		}
		return tx.InsertEvent(&store.Event{StatementID: orig.ID, At: now, Type: "note", By: "alice@ccamp.example",
			Text: "forwarded from ls+1.abcdefghijklmnop@liaison.example to the list"})
	})
	if err != nil {
		t.Fatal(err)
	}
	p := f.page("/ls/1")
	for _, want := range []string{
		"<h1><span class=\"ref\">LS-1</span> LS on OTN control</h1>",
		"ITU-T Study Group 15", "IETF CCAMP Working Group", "For action", "2027-01-31", "sender@itu.example",
		"Rapporteur &lt;rapporteur@itu.example&gt;", "Expert One &lt;expert1@vendor.example&gt;", "ccamp-interest@ietf.example",
		`<dt>Reference</dt><dd>T25-SG15-LS-123</dd>`,
		`<a href="https://www.itu.example/md/LS-123.pdf" rel="nofollow noopener noreferrer">`,
		`<a href="/ls/1/att/1/LS-123.pdf" download>LS-123.pdf</a>`, "application/pdf",
		`<dd class="assignee">alice@ccamp.example</dd>`, `<dd class="state">open</dd>`, "replied on 2026-11-25",
		"discussed at IETF 125", "Dear CCAMP colleagues,\nplease review the attached.",
		`answered by <a href="/ls/2">LS-2</a> Reply on OTN`,
		"<b>submitted</b> by sender@itu.example", "<b>note</b> by alice@ccamp.example",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("/ls/1 lacks %q", want)
		}
	}
	if strings.Contains(p, "/ls/3") {
		t.Error("/ls/1 links the held LS-3")
	}
	if strings.Contains(p, "abcdefghijklmnop") {
		t.Error("/ls/1 shows a reply token")
	}
	if strings.Contains(p, "mx7.internal.example") || !strings.Contains(p, "<b>delivery-failed</b> by liaisond: <span class=\"text\">a mail about this statement could not be delivered</span>") {
		t.Error("/ls/1 shows the details of a delivery failure, or not the failure")
	}
	if !strings.Contains(f.page("/ls/2"), `in response to <a href="/ls/1">LS-1</a> LS on OTN control`) {
		t.Error("/ls/2 does not link back to LS-1")
	}
	if !strings.Contains(f.page("/ls/LS-2"), "Reply on OTN") {
		t.Error("/ls/LS-2 does not show LS-2")
	}
	for _, path := range []string{"/ls/3", "/ls/99", "/ls/abc", "/ls/0", "/ls/1/att/2/x", "/ls/1/att/0", "/ls/3/att/1/LS-123.pdf", "/nothing", "/api/statements/3"} {
		resp, body := f.get(path)
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
		checkPageHeaders(t, path, resp)
		if strings.Contains(body, "LS on OTN control") {
			t.Errorf("GET %s shows a held statement", path)
		}
	}
	// Closed: visibly in the archive.
	closedAt := now
	f.add(func(st *store.Statement) { st.State, st.ClosedAt = store.StateClosed, &closedAt })
	cp := f.page("/ls/4")
	if !strings.Contains(cp, `<body class="archive">`) || !strings.Contains(cp, "This statement is closed (since 2026-11-26)") {
		t.Error("/ls/4 (closed) does not look archived")
	}
}

func TestAttachmentDownload(t *testing.T) {
	f := newFixture(t, 50)
	f.add(nil)
	for _, path := range []string{"/ls/1/att/1/LS-123.pdf", "/ls/1/att/1", "/ls/1/att/1/any-name-at-all"} {
		resp, body := f.get(path)
		if resp.StatusCode != 200 || body != "%PDF-1.4 test" {
			t.Fatalf("GET %s: %s %q", path, resp.Status, body)
		}
		for k, want := range map[string]string{
			"Content-Type": "application/pdf", "Content-Disposition": `attachment; filename="LS-123.pdf"`,
			"X-Content-Type-Options": "nosniff",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

// TestHostileStatement: a statement whose every field carries markup,
// script and header-injection attempts shows them as text only.
func TestHostileStatement(t *testing.T) {
	f := newFixture(t, 50)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	f.add(func(st *store.Statement) {
		st.Title = "Title " + evil
		st.Body = "Body " + evil + "\r\nX-Injected: yes"
		st.From = store.BodyRef{Name: "SDO " + evil}
		st.To = []store.BodyRef{{ID: "ccamp", Name: "To " + evil}}
		st.ResponseContacts = []store.Contact{{Name: "Name " + evil, Addr: "a@b.example"}}
		st.TechnicalContacts = []store.Contact{{Name: `"><script>alert(2)</script>`, Addr: "c@d.example"}}
		st.Other = []store.Field{{Name: "X" + evil, Value: evil}}
		st.URLs = []string{"javascript:alert(3)", "https://ok.example/a\"onmouseover=\"alert(4)"}
		st.Attachments = []store.Attachment{
			{Name: "evil<script>.html\r\nContent-Type: text/html\r\n\r\n<script>alert(5)</script>", ContentType: "text/html\r\nX-Evil: 1", Data: []byte("<script>alert(6)</script>")},
			{Name: "../../../etc/passwd", ContentType: "image/svg+xml", Data: []byte("<svg onload=alert(7)>")},
			{Name: "Résumé – “final”.pdf", ContentType: "application/pdf; name=x", Data: []byte("%PDF")},
			{Name: "", ContentType: "", Data: []byte("x")},
		}
	})
	for _, path := range []string{"/", "/ls/1", "/outstanding", "/?q=alert"} {
		p := f.page(path)
		if regexp.MustCompile(`(?i)<script|<img|href="javascript:`).MatchString(p) {
			t.Errorf("GET %s carries live markup from mail:\n%s", path, p)
		}
		if !strings.Contains(p, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the title as text", path)
		}
	}
	p := f.page("/ls/1")
	if !strings.Contains(p, `href="#ZgotmplZ"`) {
		t.Error("a javascript: URL was not neutralised")
	}
	want := []struct {
		ctype, disposition, body string
	}{
		{"application/octet-stream", `attachment; filename="script_"`, "<script>alert(6)</script>"}, // "/" ends a directory
		{"application/octet-stream", `attachment; filename="passwd"`, "<svg onload=alert(7)>"},
		{"application/pdf", `attachment; filename="R_sum_ _ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%93%20%E2%80%9Cfinal%E2%80%9D.pdf`, "%PDF"},
		{"application/octet-stream", `attachment; filename="attachment-4"`, "x"},
	}
	links := regexp.MustCompile(`<a href="(/ls/1/att/\d+/[^"]*)" download>`).FindAllStringSubmatch(p, -1)
	if len(links) != len(want) {
		t.Fatalf("/ls/1 links %d attachments, want %d", len(links), len(want))
	}
	for i, w := range want {
		resp, body := f.get(strings.ReplaceAll(links[i][1], "&amp;", "&"))
		if resp.StatusCode != 200 || body != w.body {
			t.Errorf("attachment %d (%s): %s %q", i+1, links[i][1], resp.Status, body)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != w.ctype {
			t.Errorf("attachment %d: Content-Type %q, want %q", i+1, got, w.ctype)
		}
		if got := resp.Header.Get("Content-Disposition"); got != w.disposition {
			t.Errorf("attachment %d: Content-Disposition %q, want %q", i+1, got, w.disposition)
		}
		if resp.Header.Get("X-Evil") != "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("attachment %d: headers %v", i+1, resp.Header)
		}
	}
}

func TestAtomFeed(t *testing.T) {
	f := newFixture(t, 50)
	f.add(func(st *store.Statement) { st.Title = "First & <one>" })
	closedAt := now
	f.add(func(st *store.Statement) { st.Title = "Second"; st.State, st.ClosedAt = store.StateClosed, &closedAt })
	f.add(func(st *store.Statement) { st.Title = "Held"; st.State = store.StateHeld })
	resp, body := f.get("/feed.atom")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	feed, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, body)
	}
	if feed.FeedType != "atom" || len(feed.Items) != 2 {
		t.Fatalf("feed type %s with %d items, want atom with 2", feed.FeedType, len(feed.Items))
	}
	if it := feed.Items[1]; it.Title != "LS-1: First & <one>" || it.Link != "https://ls.example/ls/1" || !strings.Contains(it.Description, "Deadline 2027-01-31") {
		t.Errorf("item = %q %q %q", it.Title, it.Link, it.Description)
	}
	if it := feed.Items[0]; it.Title != "LS-2: Second" || it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(now) {
		t.Errorf("item = %q updated %v", it.Title, it.UpdatedParsed)
	}
}

func TestDeadlinesCalendar(t *testing.T) {
	f := newFixture(t, 50)
	long := "A very long title, with commas; semicolons \\ backslashes and a\nnewline, that goes on and on past seventy-five octets — ünïcödé too"
	f.add(func(st *store.Statement) { st.Title = long; st.Deadline = "2026-12-03" })
	f.add(func(st *store.Statement) { st.Deadline = "" })
	closedAt := now
	f.add(func(st *store.Statement) { st.State, st.ClosedAt = store.StateClosed, &closedAt })
	f.add(func(st *store.Statement) { st.Title = "Second"; st.Deadline = "2026-11-20" })
	resp, body := f.get("/deadlines.ics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("ics: %s", resp.Status)
	}
	for i, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if len(line) > 75 || strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d is %d octets or holds a bare line break: %q", i+1, len(line), line)
		}
	}
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("the calendar does not parse: %v\n%s", err, body)
	}
	events := cal.Events()
	if len(events) != 2 {
		t.Fatalf("%d events, want 2 (open statements with a deadline)", len(events))
	}
	type want struct{ uid, summary, start string }
	for i, w := range []want{
		{"ls-4-deadline@ls.example", "Deadline LS-4: Second", "2026-11-20"},
		{"ls-1-deadline@ls.example", "Deadline LS-1: " + long, "2026-12-03"},
	} {
		ev := events[i]
		uid, _ := ev.Props.Text(ical.PropUID)
		summary, _ := ev.Props.Text(ical.PropSummary)
		start, err := ev.DateTimeStart(time.UTC)
		if uid != w.uid || summary != w.summary || err != nil || start.Format("2006-01-02") != w.start {
			t.Errorf("event %d: uid %q summary %q start %v %v; want %+v", i, uid, summary, start, err, w)
		}
		if p := ev.Props.Get(ical.PropDateTimeStart); p == nil || p.ValueType() != ical.ValueDate {
			t.Errorf("event %d: DTSTART is not an all-day date", i)
		}
		if ev.Props.Get(ical.PropDateTimeStamp) == nil {
			t.Errorf("event %d has no DTSTAMP", i)
		}
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t, 50)
	f.add(nil)
	f.add(func(st *store.Statement) { st.Direction, st.Purpose, st.Deadline = store.Outgoing, "information", "" })
	closedAt := now
	f.add(func(st *store.Statement) { st.State, st.ClosedAt = store.StateClosed, &closedAt })
	f.add(func(st *store.Statement) { st.State = store.StateHeld })

	type listResp struct {
		Total      int                   `json:"total"`
		Offset     int                   `json:"offset"`
		Limit      int                   `json:"limit"`
		Statements []store.StatementJSON `json:"statements"`
	}
	list := func(q string) listResp {
		t.Helper()
		resp, body := f.get("/api/statements" + q)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("GET /api/statements%s: %s\n%s", q, resp.Status, body)
		}
		var l listResp
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ids := func(l listResp) string {
		var s []string
		for _, st := range l.Statements {
			s = append(s, st.Ref)
		}
		return strings.Join(s, " ")
	}
	for q, want := range map[string]string{
		"":                              "LS-3 LS-2 LS-1",
		"?state=open":                   "LS-2 LS-1",
		"?state=closed,open":            "LS-3 LS-2 LS-1",
		"?direction=outgoing":           "LS-2",
		"?purpose=action&sort=deadline": "LS-1 LS-3",
		"?deadline_from=2027-01-01&deadline_to=2027-02-01": "LS-3 LS-1",
		"?body=ccamp&q=review":                             "LS-3 LS-2 LS-1",
		"?limit=1&offset=1":                                "LS-2",
	} {
		if got := ids(list(q)); got != want {
			t.Errorf("/api/statements%s = %q, want %q", q, got, want)
		}
	}
	if l := list("?limit=1"); l.Total != 3 || l.Limit != 1 || l.Statements[0].Body != nil || l.Statements[0].Events != nil {
		t.Errorf("paged list: %+v", l)
	}
	for _, q := range []string{"?state=held", "?limit=0", "?limit=1000", "?offset=-1", "?sort=random", "?deadline_to=tomorrow", "?purpose=fun", "?body=%3Cx%3E"} {
		resp, body := f.get("/api/statements" + q)
		if resp.StatusCode != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("/api/statements%s: %s %s, want 400 with an error", q, resp.Status, body)
		}
	}
	// One statement: exactly the JSON of `show -json`.
	var st *store.Statement
	f.store.View(context.Background(), func(tx *store.Tx) error {
		var err error
		st, err = tx.Statement(1)
		return err
	})
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.Encode(st.JSON(true))
	if _, body := f.get("/api/statements/1"); body != want.String() {
		t.Errorf("/api/statements/1 =\n%s\nwant\n%s", body, want.String())
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, 50)
	f.add(nil)
	f.add(func(st *store.Statement) { st.State = store.StateHeld })
	err := f.store.Update(context.Background(), func(tx *store.Tx) error {
		for i, kind := range []string{"tickler", "tickler", "notification"} {
			m := &store.OutboxMail{StatementID: 1, Kind: kind, EnvelopeFrom: "a@b", Rcpt: "c@d", From: "a@b", Subject: "s",
				MessageID: fmt.Sprintf("m%d@x", i), Raw: []byte("x"), NextAttempt: now, CreatedAt: now}
			if err := tx.InsertOutbox(m); err != nil {
				return err
			}
			if i == 0 {
				if err := tx.MarkSent(m.ID, now); err != nil {
					return err
				}
			}
			if i == 2 {
				if err := tx.MarkFailed(m.ID, "550 no"); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.get("/healthz")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status": "ok"`) || !strings.Contains(body, `"queued": 1`) {
		t.Errorf("healthz: %s %s", resp.Status, body)
	}
	f.imap = [2]bool{true, true}
	_, m := f.get("/metrics")
	for _, want := range []string{
		`liaisond_statements{state="open"} 1`, `liaisond_statements{state="held"} 1`, `liaisond_statements{state="closed"} 0`,
		`liaisond_outbox_depth 1`, `liaisond_outbox_failed 1`, `liaisond_outbox_mails{state="sent"} 1`,
		`liaisond_reminders_sent_total 1`, `liaisond_imap_connected 1`, `liaisond_messages{outcome="processed"} 0`,
		`liaisond_store_up 1`, `go_goroutines`,
	} {
		if !strings.Contains(m, want+"\n") && !strings.Contains(m, want+" ") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	f.imap = [2]bool{true, false}
	if _, m := f.get("/metrics"); !strings.Contains(m, "liaisond_imap_connected 0\n") {
		t.Error("/metrics does not show IMAP disconnected")
	}
	f.imap = [2]bool{false, false}
	if _, m := f.get("/metrics"); strings.Contains(m, "liaisond_imap_connected") {
		t.Error("/metrics shows IMAP state without IMAP")
	}
}

func TestReadOnlyAndStyle(t *testing.T) {
	f := newFixture(t, 50)
	resp, err := http.Post(f.srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /: %s, want 405", resp.Status)
	}
	r, css := f.get("/style.css")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "@media") {
		t.Errorf("style.css: %s %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// TestTokensScrubbedEverywhere: one filter over every response removes
// reply tokens from pages, feeds and the API alike; an attachment is
// served byte for byte.
func TestTokensScrubbedEverywhere(t *testing.T) {
	f := newFixture(t, 50)
	const leak = "ls+1.abcdefghijklmnop@liaison.example"
	st := f.add(func(st *store.Statement) {
		st.Title = "About " + leak
		st.Body = "Reply to " + leak + " to act."
		st.Attachments = []store.Attachment{{Name: "notes.txt", ContentType: "text/plain", Data: []byte("raw " + leak)}}
	})
	err := f.store.Update(context.Background(), func(tx *store.Tx) error {
		return tx.InsertEvent(&store.Event{StatementID: st.ID, At: now, Type: store.EventCommandRefused, By: "alice@ccamp.example",
			Text: `"LS-1 forward ` + leak + `" refused`})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/ls/1", "/api/statements", "/api/statements/1", "/feed.atom", "/deadlines.ics"} {
		resp, body := f.get(p)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %s", p, resp.Status)
		}
		if strings.Contains(body, "abcdefghijklmnop") {
			t.Errorf("GET %s carries the token", p)
		}
	}
	if _, body := f.get("/ls/1/att/1/notes.txt"); body != "raw "+leak {
		t.Errorf("the attachment was changed: %q", body)
	}
}
