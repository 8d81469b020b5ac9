package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"liaisond/store"
	"liaisond/token"
)

// realMail reads a fixture of testdata/realmail: mail as SDO secretariats,
// document systems and list relays really send it (issue 10).
func realMail(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "realmail", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// crlf is a message as SMTP carries it.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func (d *daemon) page(t testing.TB, path string) string {
	t.Helper()
	code, body := d.fetch(t, path)
	if code != 200 {
		t.Fatalf("GET %s: %d", path, code)
	}
	return body
}

func eventsOf(st store.StatementJSON, typ string) []store.EventJSON {
	var out []store.EventJSON
	for _, ev := range st.Events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func otherOf(st store.StatementJSON) map[string]string {
	m := map[string]string{}
	for _, f := range st.Other {
		m[f.Name] = f.Value
	}
	return m
}

// mailsTo lists the subjects of every mail Mailpit holds for rcpt (To or Cc).
func (m *mailpit) mailsTo(t testing.TB, rcpt string) []string {
	var out []string
	for _, msg := range m.messages(t) {
		if contains(append(addrs(msg.To), addrs(msg.Cc)...), rcpt) {
			out = append(out, msg.Subject)
		}
	}
	return out
}

func (d *daemon) statementCount(t testing.TB) int {
	t.Helper()
	out, err := d.cli(t, "list", "-json", "-state", "all")
	if err != nil {
		t.Fatal(err, out)
	}
	return strings.Count(out, `"ref"`)
}

// TestRealMailEndToEnd drives the real shapes of issue 10 through
// `liaisond serve`: SMTP in, every mail out through Mailpit, and what the
// statement, its history, its page and each recipient's mail say.
//
// Each shape runs on its own daemon and Mailpit, so that one failing
// changes nothing for the others (statement numbers, mail counts).
func TestRealMailEndToEnd(t *testing.T) {
	var mp *mailpit
	var d *daemon
	var keys *token.Keys
	setup := func(t *testing.T) {
		mp = startMailpit(t)
		d = startDaemon(t, mp.SMTPAddr, "[trust]\nauthserv_id = \"mx.liaison.example\"\n")
		var err error
		if keys, err = token.LoadOrCreate(filepath.Join(d.dir, "data")); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(t *testing.T, fixture, mailFrom string) {
		t.Helper()
		if err := sendSMTP(d.smtpAddr, mailFrom, []string{"statements@liaison.example"}, crlf(realMail(t, fixture))); err != nil {
			t.Fatalf("%s refused: %v", fixture, err)
		}
	}

	t.Run("a statement relayed by a list is a statement; the relay gets nothing", func(t *testing.T) {
		setup(t)
		submit(t, "list-relay-statement.eml", "sa2-bounces@lists.3gpp.example")
		const subj = "[LS-1] New liaison statement: LS on PDU session handling"
		// The notification reaches the chair, the secretariat and the SDO's
		// liaison manager; the receipt the response contact alone.
		notif := mp.waitMail(t, "alice@ccamp.example", subj)
		for _, rcpt := range []string{"statements@ietf.example", "frank@lm.example", "ccamp@ietf.example"} {
			mp.waitMail(t, rcpt, subj)
		}
		receipt := mp.waitMail(t, "rapporteur@3gpp.example", "[LS-1] Received")
		if got := addrs(receipt.To); !equal(got, []string{"rapporteur@3gpp.example"}) || len(receipt.Cc) != 0 {
			t.Errorf("receipt To %v Cc %v, want the response contact alone", got, addrs(receipt.Cc))
		}
		for _, auto := range []string{"sa2-secretary@3gpp.example", "sa2-bounces@lists.3gpp.example"} {
			if got := mp.mailsTo(t, auto); len(got) != 0 {
				t.Errorf("mail to the automatic sender %s: %v", auto, got)
			}
		}

		st := d.show(t, 1)
		if st.State != "open" || st.Assignee != "alice@ccamp.example" || st.From.ID != "3gpp-sa2" || st.Purpose != "comment" {
			t.Errorf("LS-1: state %s, assignee %s, from %+v, purpose %s", st.State, st.Assignee, st.From, st.Purpose)
		}
		if len(st.TechnicalContacts) != 0 || fmt.Sprint(st.ResponseContacts) != "[rapporteur@3gpp.example]" {
			t.Errorf("contacts default to the automatic sender: technical %v, response %v", st.TechnicalContacts, st.ResponseContacts)
		}
		// Every addressee is kept, known or not.
		if fmt.Sprint(st.To) != "[{ccamp IETF CCAMP Working Group} { IETF Foo WG} { NETMODE}]" {
			t.Errorf("to = %v", st.To)
		}
		unknown := eventsOf(st, "unknown-addressee")
		if len(unknown) != 2 || !strings.Contains(unknown[0].Text, `"IETF Foo WG"`) ||
			!strings.Contains(unknown[1].Text, "netmod (Network Modeling Working Group)") {
			t.Errorf("unknown-addressee events = %+v", unknown)
		}
		if len(eventsOf(st, "automatic-sender")) != 1 {
			t.Errorf("no automatic-sender event: %+v", st.Events)
		}
		// Other identifiers: in JSON, the page, the notification.
		other := otherOf(st)
		if other["3GPP-Document"] != "S2-2601234" || other["Meeting"] != "SA2#163, Athens" {
			t.Errorf("other = %+v", st.Other)
		}

		body := mp.text(t, notif.ID)
		for _, want := range []string{"Other identifiers:", "3GPP-Document: S2-2601234", "Meeting: SA2#163, Athens",
			`The addressee "IETF Foo WG" matches no body in the directory`,
			`The addressee "NETMODE" matches no body in the directory; closest names: netmod (Network Modeling Working Group)`,
			"automatic sender (Precedence: list)"} {
			if !strings.Contains(body, want) {
				t.Errorf("notification lacks %q:\n%s", want, body)
			}
		}
		// The secretariat's and the liaison manager's copies say it too.
		for _, rcpt := range []string{"statements@ietf.example", "frank@lm.example"} {
			_, _ = mp.personalReplyTo(t, keys, 1, subj, rcpt)
		}
		body = mp.text(t, receipt.ID)
		for _, want := range []string{`"IETF Foo WG" matches no body in our directory`, "netmod (Network Modeling Working Group)", "3GPP-Document: S2-2601234"} {
			if !strings.Contains(body, want) {
				t.Errorf("receipt lacks %q:\n%s", want, body)
			}
		}
		page := d.page(t, "/ls/1")
		for _, want := range []string{"IETF Foo WG (not in the directory)", "NETMODE (not in the directory)", "S2-2601234", "SA2#163, Athens"} {
			if !strings.Contains(page, want) {
				t.Errorf("page /ls/1 lacks %q", want)
			}
		}
		// `liaisond show` says it as the page does.
		out, err := d.cli(t, "show", "LS-1")
		if err != nil || !strings.Contains(out, "IETF CCAMP Working Group, IETF Foo WG (not in the directory), NETMODE (not in the directory)") {
			t.Errorf("show LS-1 (%v):\n%s", err, out)
		}
	})

	t.Run("a document system's statement to no known body goes to the secretariat, saying why", func(t *testing.T) {
		setup(t)
		submit(t, "auto-generated-statement.eml", "docsystem@itu.example")
		notif := mp.waitMail(t, "statements@ietf.example", "[LS-1] New liaison statement: LS on OTN OAM")
		mp.waitMail(t, "dan@lm.example", "[LS-1] New liaison statement")
		st := d.show(t, 1)
		if st.Assignee != "statements@ietf.example" || st.State != "open" || otherOf(st)["ITU-T-Ref"] != "COM15-LS123" {
			t.Errorf("LS-1: assignee %s, state %s, other %+v", st.Assignee, st.State, st.Other)
		}
		body := mp.text(t, notif.ID)
		for _, want := range []string{`"IETF Nonexistent Area" matches no body`, "assigned to the IETF Secretariat because none of the addressed bodies is an IETF body in the directory",
			"ITU-T-Ref: COM15-LS123", "automatic sender (Auto-Submitted: auto-generated)"} {
			if !strings.Contains(body, want) {
				t.Errorf("notification lacks %q:\n%s", want, body)
			}
		}
		// No response contact: no receipt at all, nothing to the document system.
		for _, o := range d.outbox(t) {
			if o.Ref == "LS-1" && (o.Kind == "receipt" || o.Rcpt == "docsystem@itu.example") {
				t.Errorf("mail to the automatic sender: %+v", o)
			}
		}
	})

	t.Run("an out-of-office reply to statements@ stays ignored", func(t *testing.T) {
		setup(t)
		before, mails := d.statementCount(t), len(d.outbox(t))
		submit(t, "out-of-office-to-statements.eml", "rapporteur@3gpp.example")
		if got := d.statementCount(t); got != before {
			t.Errorf("statements %d -> %d after an out-of-office reply", before, got)
		}
		if got := len(d.outbox(t)); got != mails {
			t.Errorf("outbox %d -> %d after an out-of-office reply", mails, got)
		}
	})

	t.Run("In Response naming its statement in words is accepted and linked later", func(t *testing.T) {
		setup(t)
		// LS-1, the statement answered; LS-2 names it in words.
		submit(t, "same-message-id-1.eml", "rapp@itu.example")
		mp.waitMail(t, "alice@ccamp.example", "[LS-1] New liaison statement")
		submit(t, "in-response-words.eml", "rapp@itu.example")
		const subj = "[LS-2] New liaison statement: Reply LS on OAM for OTN"
		notif := mp.waitMail(t, "alice@ccamp.example", subj)
		const words = `CCAMP LS "OAM for OTN" of 2026-03-02`
		st := d.show(t, 2)
		if st.Purpose != "response" || otherOf(st)["In-Response-To"] != words || len(st.Related) != 0 {
			t.Errorf("LS-2: purpose %s, other %+v, related %+v", st.Purpose, st.Other, st.Related)
		}
		if body := mp.text(t, notif.ID); !strings.Contains(body, "In-Response-To: "+words) {
			t.Errorf("notification lacks the words:\n%s", body)
		}
		if page := d.page(t, "/ls/2"); !strings.Contains(page, "CCAMP LS &#34;OAM for OTN&#34; of 2026-03-02") {
			t.Errorf("page /ls/2 lacks the words")
		}

		// A chair may not link; the liaison manager of ITU-T SG15 may, by
		// a reply line to the personal copy of the notification.
		aliceAddr, _ := mp.personalReplyTo(t, keys, 2, subj, "alice@ccamp.example")
		danAddr, notifID := mp.personalReplyTo(t, keys, 2, subj, "dan@lm.example")
		replyWith := func(from, to, msgID, line string) {
			t.Helper()
			raw := crlf(fmt.Sprintf("From: <%s>\nTo: <%s>\nSubject: Re: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\n\n%s\n\nOn Monday, liaisond wrote:\n> %s\n",
				from, to, subj, msgID, notifID, line, subj))
			if err := sendSMTP(d.smtpAddr, from, []string{to}, raw); err != nil {
				t.Fatalf("reply refused: %v", err)
			}
		}
		replyWith("alice@ccamp.example", aliceAddr, "link-1@ccamp.example", "link LS-1")
		if ev := lastEvent(d.show(t, 2)); ev.Type != "command-refused" || !strings.Contains(ev.Text, "liaison manager") {
			t.Errorf("a chair's link: last event %+v, want refused", ev)
		}
		replyWith("dan@lm.example", danAddr, "link-2@lm.example", "link LS-1")
		st = d.show(t, 2)
		if fmt.Sprint(st.Related) != "[{LS-1 replies-to}]" || otherOf(st)["In-Response-To"] != words {
			t.Errorf("LS-2 after link: related %+v, other %+v", st.Related, st.Other)
		}
		if ev := lastEvent(st); ev.Type != "linked" || ev.By != "dan@lm.example" {
			t.Errorf("LS-2 last event %+v", ev)
		}
		orig := d.show(t, 1)
		if fmt.Sprint(orig.Related) != "[{LS-2 replied-by}]" || orig.RepliedAt == nil || lastEvent(orig).Type != "linked" {
			t.Errorf("LS-1 after link: related %+v, replied %v, last event %+v", orig.Related, orig.RepliedAt, lastEvent(orig))
		}
	})

	t.Run("the secretariat links at commands@", func(t *testing.T) {
		setup(t)
		submit(t, "same-message-id-1.eml", "rapp@itu.example")
		mp.waitMail(t, "alice@ccamp.example", "[LS-1] New liaison statement")
		submit(t, "in-response-words.eml", "rapp@itu.example")
		mp.waitMail(t, "alice@ccamp.example", "[LS-2] New liaison statement")
		if err := sendSMTP(d.smtpAddr, "statements@ietf.example", []string{"commands@liaison.example"}, crlf(realMail(t, "link-at-commands.eml"))); err != nil {
			t.Fatal(err)
		}
		st, orig := d.show(t, 2), d.show(t, 1)
		if fmt.Sprint(st.Related) != "[{LS-1 replies-to}]" || fmt.Sprint(orig.Related) != "[{LS-2 replied-by}]" {
			t.Errorf("related: LS-2 %+v, LS-1 %+v; last events %+v / %+v", st.Related, orig.Related, lastEvent(st), lastEvent(orig))
		}
		if ev := lastEvent(st); ev.Type != "linked" || ev.By != "statements@ietf.example" {
			t.Errorf("LS-2 last event %+v", ev)
		}
	})

	t.Run("attachments past the cap are named in the receipt and the history", func(t *testing.T) {
		setup(t)
		submit(t, "many-attachments.eml", "rapp@itu.example")
		receipt := mp.waitMail(t, "rapp@itu.example", "[LS-1] Received")
		st := d.show(t, 1)
		if len(st.Attachments) != 100 || st.Attachments[99].Name != "C100.txt" {
			t.Errorf("LS-1 has %d attachments", len(st.Attachments))
		}
		omitted := eventsOf(st, "attachments-omitted")
		if len(omitted) != 1 || !strings.Contains(omitted[0].Text, "C101.txt, C102.txt, C103.txt") {
			t.Errorf("attachments-omitted events = %+v", omitted)
		}
		body := mp.text(t, receipt.ID)
		if !strings.Contains(body, "C101.txt, C102.txt, C103.txt") {
			t.Errorf("receipt does not name the omitted attachments:\n%s", body)
		}
		// The stored raw mail keeps them.
		s, err := store.Open(context.Background(), filepath.Join(d.dir, "data", "liaisond.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var raw []byte
		err = s.View(context.Background(), func(tx *store.Tx) error {
			full, err := tx.Statement(1)
			if err != nil {
				return err
			}
			m, err := tx.Message(full.MessageID)
			if m != nil {
				raw = m.Raw
			}
			return err
		})
		if err != nil || !strings.Contains(string(raw), `filename="C103.txt"`) {
			t.Errorf("the stored mail lacks the omitted attachments (err %v)", err)
		}
	})

	t.Run("a re-delivery by another path is the same message", func(t *testing.T) {
		setup(t)
		submit(t, "no-message-id.eml", "rapp@itu.example")
		mp.waitMail(t, "alice@ccamp.example", "[LS-1] New liaison statement: LS without a Message-ID")
		submit(t, "same-message-id-1.eml", "rapp@itu.example")
		mp.waitMail(t, "alice@ccamp.example", "[LS-2] New liaison statement: LS on timing")
		statements, mails := d.statementCount(t), len(d.outbox(t))
		// The pipe gets LF line endings and the local delivery's trace fields.
		trace := "Return-Path: <rapp@itu.example>\nDelivered-To: statements@liaison.example\nX-Original-To: statements@liaison.example\n" +
			"Received: from mx.liaison.example by local; Mon, 30 Nov 2026 11:00:05 +0000\n"
		for _, fixture := range []string{"no-message-id.eml", "same-message-id-1.eml"} {
			lf := strings.ReplaceAll(realMail(t, fixture), "\r\n", "\n")
			path := filepath.Join(t.TempDir(), fixture)
			if err := os.WriteFile(path, []byte(trace+lf), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := d.cli(t, "ingest", path)
			if err != nil || !strings.Contains(out, "already received") {
				t.Errorf("%s by pipe: %v\n%s", fixture, err, out)
			}
		}
		if got := d.statementCount(t); got != statements {
			t.Errorf("statements %d -> %d after re-deliveries", statements, got)
		}
		if got := len(d.outbox(t)); got != mails {
			t.Errorf("outbox %d -> %d after re-deliveries", mails, got)
		}
	})

	t.Run("the same Message-ID with other content is a new statement, flagged on both", func(t *testing.T) {
		setup(t)
		submit(t, "same-message-id-1.eml", "rapp@itu.example")
		mp.waitMail(t, "dan@lm.example", "[LS-1] New liaison statement: LS on timing")
		submit(t, "same-message-id-2.eml", "rapp@itu.example")
		notif := mp.waitMail(t, "dan@lm.example", "[LS-2] New liaison statement: LS on synchronization")
		first, second := d.show(t, 1), d.show(t, 2)
		if second.Title != "LS on synchronization" {
			t.Errorf("LS-2 = %+v", second)
		}
		if evs := eventsOf(first, "message-id-reused"); len(evs) != 1 || !strings.Contains(evs[0].Text, "LS-2") {
			t.Errorf("LS-1 history: %+v", first.Events)
		}
		if evs := eventsOf(second, "message-id-reused"); len(evs) != 1 || !strings.Contains(evs[0].Text, "LS-1") {
			t.Errorf("LS-2 history: %+v", second.Events)
		}
		if body := mp.text(t, notif.ID); !strings.Contains(body, "Message-ID of LS-1, with other content") {
			t.Errorf("the liaison manager's notification does not flag it:\n%s", body)
		}
	})
}
