package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// only returns the one mail of ms delivered to rcpt, failing otherwise.
func only(t testing.TB, ms []delivered, rcpt string) delivered {
	t.Helper()
	got := to(ms, rcpt)
	if len(got) != 1 {
		var have []string
		for _, m := range ms {
			have = append(have, m.Kind+" to "+m.Rcpt+": "+m.Subject)
		}
		t.Fatalf("%d mails to %s, want 1; have:\n  %s", len(got), rcpt, strings.Join(have, "\n  "))
	}
	return got[0]
}

// says checks that a mail's text contains every want and none of unwanted.
func says(t testing.TB, m delivered, want []string, unwanted ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(m.Body, w) {
			t.Errorf("%s mail to %s (%q) lacks %q:\n%s", m.Kind, m.Rcpt, m.Subject, w, m.Body)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(m.Body, u) {
			t.Errorf("%s mail to %s (%q) has %q:\n%s", m.Kind, m.Rcpt, m.Subject, u, m.Body)
		}
	}
}

func rcpts(ms []delivered) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rcpt)
	}
	slices.Sort(out)
	return out
}

func sameSet(t testing.TB, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s = %v\n want %v", what, g, w)
	}
}

func (d *daemon) fetch(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.httpAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// The commands a chair's copy offers (templates/mail/_offer.txt).
const (
	offersClose    = "close [reason]"
	offersRedirect = "redirect BODY"
)

// TestReplyLifeEndToEnd follows one statement from arrival to close as
// the people in it see it (DESIGN 5, 6, 8): per-role copies, a reminder,
// the chair's reply waiting for the AD (RFC 4052 via RFC 4053 3.2.2.4),
// the approval, no reminder after the answer, the close; every mail each
// person receives, and the pages, feeds and API between the steps.
func TestReplyLifeEndToEnd(t *testing.T) {
	clock := &testClock{now: time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)}
	d := startDaemon(t, "", "[reminders]\nscan_interval = \"1s\"\n", clock.hook)
	fm := newFileMail(d)
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	// LS-2: the same statement once more, left unanswered: its reminders
	// show that a reminder pass ran when LS-1 gets none.
	control := strings.ReplaceAll(strings.ReplaceAll(submission, "ls-otn-1@", "ls-otn-2@"), "Title: Response to LS on OTN control", "Title: Control statement")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, control); err != nil {
		t.Fatal(err)
	}
	arrival := about(fm.fresh(t), "LS-1")

	t.Run("arrival: each copy says what its reader may do", func(t *testing.T) {
		notif := func(rcpt string) delivered {
			for _, m := range to(arrival, rcpt) {
				if m.Kind == "notification" {
					return m
				}
			}
			t.Fatalf("no notification to %s", rcpt)
			return delivered{}
		}
		alice := notif("alice@ccamp.example")
		sameSet(t, "notification To", alice.To, []string{"alice@ccamp.example"})
		sameSet(t, "notification Cc", alice.Cc, []string{"expert1@vendor.example", "expert2@op.example", "carol@ietf.example", "rick@ietf.example",
			"dan@lm.example", "ccamp@ietf.example", "statements@ietf.example", "bob@ccamp.example", "ccamp-interest@ietf.example"})
		says(t, alice, []string{"It is assigned to you", "LS-1 is yours to act on", offersClose, "reply  "}, offersRedirect)
		says(t, notif("bob@ccamp.example"), []string{"It is assigned to alice@ccamp.example", "As a chair of IETF CCAMP Working Group, you may act", offersClose}, offersRedirect, "yours to act on")
		says(t, notif("carol@ietf.example"), []string{"As a supervisor of IETF CCAMP Working Group", offersClose}, offersRedirect)
		says(t, notif("dan@lm.example"), []string{"As the IETF's liaison manager for ITU-T Study Group 15", offersClose, offersRedirect})
		says(t, notif("statements@ietf.example"), []string{"As the secretariat", offersRedirect})
		for _, outsider := range []string{"expert1@vendor.example", "expert2@op.example", "ccamp-interest@ietf.example"} {
			says(t, notif(outsider), []string{"This copy is for your information", "handled by alice@ccamp.example"}, offersClose, "reply  ", "deadline DATE", "reassign")
		}
		says(t, notif("ccamp@ietf.example"), []string{"This copy went to the list"}, offersClose)
	})
	aliceAddr := only(t, about(arrival, "LS-1"), "alice@ccamp.example").ReplyTo

	t.Run("a reminder before the reply", func(t *testing.T) {
		clock.Set(time.Date(2027, 1, 24, 9, 0, 0, 0, time.UTC))
		var ms []delivered
		for i := 0; i < 300 && len(to(about(ms, "LS-1", "LS-2"), "alice@ccamp.example")) < 2; i++ {
			time.Sleep(50 * time.Millisecond)
			ms = append(ms, fm.fresh(t)...)
		}
		tick := only(t, about(ms, "LS-1"), "alice@ccamp.example")
		if tick.Kind != "tickler" {
			t.Fatalf("mail to alice: %s %q", tick.Kind, tick.Subject)
		}
		says(t, tick, []string{"It is assigned to you.", "LS-1 is yours to act on", offersClose})
		if slices.Contains(tick.Cc, "ccamp@ietf.example") || !slices.Contains(tick.Cc, "carol@ietf.example") {
			t.Errorf("tickler Cc = %v", tick.Cc)
		}
	})

	t.Run("the chair's reply waits for the AD and is not public", func(t *testing.T) {
		sendCommand(t, d, "alice@ccamp.example", aliceAddr, "[LS-1] New liaison statement", "reply\n\nCCAMP thanks SG15 and will take the work on.\n\n> quoted original")
		ms := fm.fresh(t)
		sameSet(t, "mails on the reply", rcpts(ms), []string{"alice@ccamp.example", "alice@ccamp.example", "carol@ietf.example", "rick@ietf.example"})
		ask := only(t, ms, "carol@ietf.example")
		if ask.Kind != "approval" || !strings.Contains(ask.Subject, "[LS-3] Approval needed") {
			t.Fatalf("carol got %s %q", ask.Kind, ask.Subject)
		}
		sameSet(t, "approval To", ask.To, []string{"carol@ietf.example", "rick@ietf.example"})
		sameSet(t, "approval Cc", ask.Cc, []string{"alice@ccamp.example"})
		says(t, ask, []string{"CCAMP thanks SG15", "It answers LS-1 from ITU-T Study Group 15", "Dear CCAMP colleagues", "http://liaison.example/ls/1", "approve", "reject REASON"}, "quoted original")
		var done delivered
		for _, m := range to(ms, "alice@ccamp.example") {
			if m.Kind == "done" {
				done = m
			}
		}
		if done.Kind != "done" || !strings.Contains(done.Subject, "[LS-1] Done") {
			t.Fatalf("alice has no done mail: %v", to(ms, "alice@ccamp.example"))
		}
		says(t, done, []string{"your reply to LS-1 is LS-3", "waits for the approval of carol@ietf.example or rick@ietf.example", "http://liaison.example/ls/1"})
		if st := d.show(t, 3); st.State != "pending" {
			t.Errorf("LS-3 is %s, want pending", st.State)
		}
		if st := d.show(t, 1); st.RepliedAt != nil {
			t.Errorf("LS-1 counts as answered before its reply is approved")
		}
		// Nowhere public until approved (DESIGN 8).
		for _, p := range []string{"/ls/3", "/api/statements/3"} {
			if code, _ := d.fetch(t, p); code != 404 {
				t.Errorf("GET %s = %d, want 404 while pending", p, code)
			}
		}
		for _, p := range []string{"/", "/feed.atom", "/api/statements", "/ls/1"} {
			if _, body := d.fetch(t, p); strings.Contains(body, "LS-3") || strings.Contains(body, "/ls/3") {
				t.Errorf("GET %s shows the pending reply LS-3", p)
			}
		}
	})

	t.Run("the AD approves: sent, and LS-1 is answered", func(t *testing.T) {
		var carolAddr string
		for name := range fm.seen {
			if m := readDelivered(t, name); m.Rcpt == "carol@ietf.example" && m.Kind == "approval" {
				carolAddr = m.ReplyTo
			}
		}
		sendCommand(t, d, "carol@ietf.example", carolAddr, "[LS-3] Approval needed", "approve")
		ms := fm.fresh(t)
		resp := only(t, ms, "rapporteur@itu.example")
		if resp.Kind != "response" || !strings.Contains(resp.Subject, "[LS-3] Liaison statement: Response to LS on OTN control") {
			t.Fatalf("rapporteur got %s %q", resp.Kind, resp.Subject)
		}
		sameSet(t, "response To", resp.To, []string{"rapporteur@itu.example"})
		sameSet(t, "response Cc", resp.Cc, []string{"dan@lm.example", "alice@ccamp.example", "expert1@vendor.example", "expert2@op.example",
			"bob@ccamp.example", "ccamp@ietf.example", "statements@ietf.example"})
		says(t, resp, []string{"In-Response-To: LS-1", "CCAMP thanks SG15"})
		done := only(t, ms, "carol@ietf.example")
		if done.Kind != "done" {
			t.Fatalf("carol got %s", done.Kind)
		}
		says(t, done, []string{"LS-3 is approved and sent to ITU-T Study Group 15", "http://liaison.example/ls/3"})
		if len(to(ms, "rick@ietf.example")) != 0 {
			t.Errorf("rick heard of carol's approval")
		}
		st := d.show(t, 1)
		if st.RepliedAt == nil || st.RepliedAt.Format("2006-01-02") != "2027-01-24" || st.State != "open" {
			t.Fatalf("LS-1: replied_at %v, state %s; want answered on 2027-01-24 and still open", st.RepliedAt, st.State)
		}
		var api struct {
			RepliedAt *time.Time `json:"replied_at"`
		}
		getJSON(t, "http://"+d.httpAddr+"/api/statements/1", &api)
		if api.RepliedAt == nil {
			t.Errorf("/api/statements/1 has no replied_at")
		}
		if _, body := d.fetch(t, "/outstanding"); strings.Contains(body, `href="/ls/1"`) || !strings.Contains(body, `href="/ls/2"`) {
			t.Errorf("/outstanding: LS-1 (answered) shown or LS-2 (not answered) missing")
		}
		if _, body := d.fetch(t, "/"); !strings.Contains(body, `href="/ls/1"`) || !strings.Contains(body, "replied on 2027-01-24") || !strings.Contains(body, `href="/ls/3"`) {
			t.Errorf("/ does not show LS-1 answered on 2027-01-24 and the sent reply LS-3")
		}
		if _, body := d.fetch(t, "/ls/1"); !strings.Contains(body, "replied on 2027-01-24") || !strings.Contains(body, "answered by") {
			t.Errorf("/ls/1 does not say it was answered")
		}
	})

	t.Run("no reminder after the reply; the unanswered one gets its own", func(t *testing.T) {
		clock.Set(time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC)) // the day before the deadline
		var ms []delivered
		for i := 0; i < 300 && len(to(about(ms, "LS-2"), "alice@ccamp.example")) == 0; i++ {
			time.Sleep(50 * time.Millisecond)
			ms = append(ms, fm.fresh(t)...)
		}
		if len(to(about(ms, "LS-2"), "alice@ccamp.example")) != 1 {
			t.Fatalf("no reminder for LS-2: %v", rcpts(ms))
		}
		if got := about(ms, "LS-1"); len(got) != 0 {
			t.Errorf("LS-1 was reminded after its reply: %v", rcpts(got))
		}
		if out, err := d.cli(t, "tickle", "-now", "2027-02-07T09:00:00Z", "-dry-run"); err != nil || strings.Contains(out, "LS-1") || !strings.Contains(out, "LS-2") {
			t.Errorf("a later pass would remind LS-1 or not LS-2 (%v):\n%s", err, out)
		}
	})

	t.Run("close: done to the actor, the liaison manager told", func(t *testing.T) {
		sendCommand(t, d, "alice@ccamp.example", aliceAddr, "[LS-1] New liaison statement", "close answered by LS-3")
		ms := fm.fresh(t)
		sameSet(t, "mails on close", rcpts(ms), []string{"alice@ccamp.example", "dan@lm.example"})
		says(t, only(t, ms, "alice@ccamp.example"), []string{"LS-1 is closed", "http://liaison.example/ls/1"})
		lm := only(t, ms, "dan@lm.example")
		if !strings.Contains(lm.Subject, "[LS-1] Closed") || !slices.Equal(lm.To, []string{"dan@lm.example"}) {
			t.Errorf("dan got %q to %v", lm.Subject, lm.To)
		}
		says(t, lm, []string{"alice@ccamp.example has closed the liaison statement LS-1", "answered by LS-3", "reopen"})
		if st := d.show(t, 1); st.State != "closed" {
			t.Errorf("LS-1 is %s", st.State)
		}
	})
}

// TestReassignRedirectEndToEnd: recipients follow the assignee after a
// reassign to another WG's chair; a redirect notifies the new body as a
// new statement would and the page keeps the first addressee; a forged
// outgoing statement is nowhere public; ?body= narrows the feeds.
func TestReassignRedirectEndToEnd(t *testing.T) {
	clock := &testClock{now: time.Date(2027, 1, 10, 10, 0, 0, 0, time.UTC)}
	d := startDaemon(t, "", "[reminders]\nscan_interval = \"1s\"\n", clock.hook)
	fm := newFileMail(d)
	for i := 1; i <= 2; i++ {
		raw := strings.ReplaceAll(submission, "ls-otn-1@", fmt.Sprintf("ls-otn-%d@", i))
		if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
	}
	arrival := fm.fresh(t)
	tokenOf := func(rcpt, ref string) string {
		return only(t, about(to(arrival, rcpt), ref), rcpt).ReplyTo
	}
	notifOnly := func(ms []delivered) []delivered {
		var out []delivered
		for _, m := range ms {
			if m.Kind == "notification" {
				out = append(out, m)
			}
		}
		return out
	}
	arrival = notifOnly(arrival)

	t.Run("reassign to another WG's chair", func(t *testing.T) {
		sendCommand(t, d, "alice@ccamp.example", tokenOf("alice@ccamp.example", "LS-1"), "[LS-1] New liaison statement", "reassign opsawg")
		ms := fm.fresh(t)
		sameSet(t, "mails on reassign", rcpts(ms), []string{"alice@ccamp.example", "olga@opsawg.example", "dan@lm.example"})
		olga := only(t, ms, "olga@opsawg.example")
		sameSet(t, "reassigned To", olga.To, []string{"olga@opsawg.example"})
		sameSet(t, "reassigned Cc", olga.Cc, []string{"dan@lm.example"})
		says(t, olga, []string{"has assigned the liaison statement LS-1 to you", "LS-1 is yours to act on", offersClose})
		says(t, only(t, ms, "dan@lm.example"), []string{"to olga@opsawg.example", offersRedirect})
		says(t, only(t, ms, "alice@ccamp.example"), []string{"LS-1 is assigned to olga@opsawg.example"})
	})

	t.Run("reminders copy the new body's ADs", func(t *testing.T) {
		clock.Set(time.Date(2027, 1, 24, 9, 0, 0, 0, time.UTC))
		var ms []delivered
		for i := 0; i < 300 && len(to(about(ms, "LS-1"), "olga@opsawg.example")) == 0; i++ {
			time.Sleep(50 * time.Millisecond)
			ms = append(ms, fm.fresh(t)...)
		}
		tick := only(t, about(ms, "LS-1"), "olga@opsawg.example")
		sameSet(t, "tickler To", tick.To, []string{"olga@opsawg.example"})
		sameSet(t, "tickler Cc", tick.Cc, []string{"expert1@vendor.example", "expert2@op.example", "olivia@ietf.example", "oscar@ietf.example",
			"dan@lm.example", "statements@ietf.example", "otto@opsawg.example", "ccamp-interest@ietf.example"})
		says(t, only(t, about(ms, "LS-1"), "otto@opsawg.example"), []string{"As a chair of Operations and Management Area Working Group", offersClose})
	})

	t.Run("redirect notifies the new body and keeps the first addressee", func(t *testing.T) {
		sendCommand(t, d, "dan@lm.example", tokenOf("dan@lm.example", "LS-2"), "[LS-2] New liaison statement", "redirect mpls")
		ms := fm.fresh(t)
		sameSet(t, "mails on redirect", rcpts(ms), []string{"dan@lm.example", "mike@mpls.example", "mary@mpls.example", "carol@ietf.example", "rick@ietf.example",
			"mpls@ietf.example", "statements@ietf.example", "expert1@vendor.example", "expert2@op.example", "ccamp-interest@ietf.example", "alice@ccamp.example"})
		mike := only(t, ms, "mike@mpls.example")
		if mike.Kind != "notification" || !strings.Contains(mike.Subject, "[LS-2] Redirected to Multiprotocol Label Switching Working Group") {
			t.Fatalf("mike got %s %q", mike.Kind, mike.Subject)
		}
		sameSet(t, "redirect To", mike.To, []string{"mike@mpls.example"})
		says(t, mike, []string{"dan@lm.example has redirected", "it was addressed to IETF CCAMP Working Group", "It is assigned to you", offersClose})
		says(t, only(t, ms, "alice@ccamp.example"), []string{"It is assigned to mike@mpls.example", "handled by mike@mpls.example"}, offersClose)
		says(t, only(t, ms, "mpls@ietf.example"), []string{"This copy went to the list"})
		says(t, only(t, ms, "dan@lm.example"), []string{"LS-2 is redirected to Multiprotocol Label Switching Working Group and assigned to mike@mpls.example"})
		_, page := d.fetch(t, "/ls/2")
		for _, want := range []string{"addressed to IETF CCAMP Working Group, redirected to Multiprotocol Label Switching Working Group by dan@lm.example",
			`href="/?body=mpls"`, "Dan Manager &lt;dan@lm.example&gt;", "Liaison manager"} {
			if !strings.Contains(page, want) {
				t.Errorf("/ls/2 lacks %q", want)
			}
		}
		if st := d.show(t, 2); !strings.Contains(lastEvent(st).Text, "redirected from IETF CCAMP Working Group to Multiprotocol Label Switching Working Group") {
			t.Errorf("history: %+v", lastEvent(st))
		}
	})

	t.Run("a forged outgoing statement in a chair's name is nowhere public", func(t *testing.T) {
		forged := "From: Alice Chair <alice@ccamp.example>\r\nTo: statements@liaison.example\r\nSubject: Forged LS\r\nMessage-ID: <forged-1@evil.example>\r\n" +
			"Content-Type: text/plain\r\n\r\nFrom: IETF CCAMP WG\r\nTo: ITU-T SG15\r\nTitle: Forged withdrawal of all CCAMP work\r\nPurpose: For Information\r\n\r\nWe withdraw.\r\n"
		if err := sendSMTP(d.smtpAddr, "mallory@evil.example", []string{"statements@liaison.example"}, forged); err != nil {
			t.Fatal(err)
		}
		if st := d.show(t, 3); st.State != "pending" {
			t.Fatalf("LS-3 is %s", st.State)
		}
		for _, p := range []string{"/", "/feed.atom", "/api/statements", "/ls/3", "/api/statements/3", "/?body=ccamp", "/deadlines.ics"} {
			if _, body := d.fetch(t, p); strings.Contains(body, "Forged withdrawal") {
				t.Errorf("GET %s shows the unconfirmed outgoing statement", p)
			}
		}
	})

	t.Run("?body= gives one body's statements", func(t *testing.T) {
		_, feed := d.fetch(t, "/feed.atom?body=mpls")
		if !strings.Contains(feed, "/ls/2") || strings.Contains(feed, "/ls/1<") {
			t.Errorf("feed of mpls:\n%s", feed)
		}
		_, ics := d.fetch(t, "/deadlines.ics?body=mpls")
		if !strings.Contains(ics, "UID:ls-2-deadline") || strings.Contains(ics, "UID:ls-1-deadline") {
			t.Errorf("calendar of mpls:\n%s", ics)
		}
		_, ccampICS := d.fetch(t, "/deadlines.ics?body=ccamp")
		if !strings.Contains(ccampICS, "UID:ls-1-deadline") || strings.Contains(ccampICS, "UID:ls-2-deadline") {
			t.Errorf("calendar of ccamp:\n%s", ccampICS)
		}
		var list struct {
			Statements []struct {
				Ref string `json:"ref"`
			} `json:"statements"`
		}
		getJSON(t, "http://"+d.httpAddr+"/api/statements?body=ccamp", &list)
		if len(list.Statements) != 1 || list.Statements[0].Ref != "LS-1" {
			t.Errorf("/api/statements?body=ccamp = %+v", list)
		}
		if code, _ := d.fetch(t, "/feed.atom?body=<x>"); code != 400 {
			t.Errorf("feed with a bad body id: %d", code)
		}
		_, home := d.fetch(t, "/")
		if !strings.Contains(home, `href="/?body=mpls"`) || !strings.Contains(home, `href="/?body=itu-t-sg15"`) {
			t.Errorf("/ does not link the bodies' names")
		}
		_, mpls := d.fetch(t, "/?body=mpls")
		for _, want := range []string{`href="/feed.atom?body=mpls"`, `href="/deadlines.ics?body=mpls"`, `href="/api/statements?body=mpls"`} {
			if !strings.Contains(mpls, want) {
				t.Errorf("/?body=mpls lacks %s", want)
			}
		}
	})
}

// TestDoneRateEndToEnd: done mails share the per-address hourly limit of
// error and help replies (reply_rate_per_hour, DESIGN 7); the commands are
// done all the same, and the event says why no mail went.
func TestDoneRateEndToEnd(t *testing.T) {
	d := startDaemon(t, "", "[trust]\nreply_rate_per_hour = 3\n")
	fm := newFileMail(d)
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	alice := only(t, fm.fresh(t), "alice@ccamp.example").ReplyTo
	var dones int
	for i := 1; i <= 5; i++ {
		sendCommand(t, d, "alice@ccamp.example", alice, "[LS-1] New liaison statement", fmt.Sprintf("note step %d", i))
		for _, m := range fm.fresh(t) {
			if m.Kind == "done" && m.Rcpt == "alice@ccamp.example" {
				dones++
				says(t, m, []string{"your note is on the history of LS-1", "http://liaison.example/ls/1"})
			}
		}
	}
	if dones != 3 {
		t.Errorf("%d done mails for 5 commands, want 3 (reply_rate_per_hour)", dones)
	}
	notes := 0
	for _, ev := range d.show(t, 1).Events {
		if ev.Type == "note" {
			notes++
		}
	}
	if notes != 5 {
		t.Errorf("%d notes recorded, want all 5", notes)
	}
}
