package main

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/store"
	"liaisond/token"
)

// reply fills a fixture of testdata/replies with the test's addresses.
func reply(t testing.TB, name string, vars map[string]string) string {
	t.Helper()
	return fillFixture(t, filepath.Join("testdata", "replies", name), vars)
}

// fillFixture reads a mail fixture, replaces its ${NAME} placeholders with
// vars (every one must be filled) and gives it CRLF line endings.
func fillFixture(t testing.TB, name string, vars map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	if i := strings.Index(s, "${"); i >= 0 {
		t.Fatalf("%s: unfilled placeholder at %q", name, s[i:min(len(s), i+20)])
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func (d *daemon) show(t testing.TB, id int64) store.StatementJSON {
	t.Helper()
	out, err := d.cli(t, "show", "-json", fmt.Sprint(id))
	if err != nil {
		t.Fatalf("show %d: %v\n%s", id, err, out)
	}
	var st store.StatementJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("show %d: %v\n%s", id, err, out)
	}
	return st
}

func (d *daemon) outbox(t testing.TB) []store.OutboxJSON {
	t.Helper()
	out, err := d.cli(t, "outbox", "-json")
	if err != nil {
		t.Fatalf("outbox: %v\n%s", err, out)
	}
	var rows []store.OutboxJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("outbox: %v\n%s", err, out)
	}
	return rows
}

func lastEvent(st store.StatementJSON) store.EventJSON {
	if len(st.Events) == 0 {
		return store.EventJSON{}
	}
	return st.Events[len(st.Events)-1]
}

// waitMail waits for a mail at Mailpit to rcpt whose subject contains subj,
// one that no earlier call returned.
func (m *mailpit) waitMail(t testing.TB, rcpt, subj string) mpMessage {
	t.Helper()
	if m.taken == nil {
		m.taken = map[string]bool{}
	}
	for i := 0; i < 600; i++ {
		for _, msg := range m.messages(t) {
			if !m.taken[msg.ID] && strings.Contains(msg.Subject, subj) && contains(append(addrs(msg.To), addrs(msg.Cc)...), rcpt) {
				m.taken[msg.ID] = true
				return msg
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail to %s with subject %q; have:\n%s", rcpt, subj, m.summary(t))
	return mpMessage{}
}

func (m *mailpit) summary(t testing.TB) string {
	var b strings.Builder
	for _, msg := range m.messages(t) {
		fmt.Fprintf(&b, "  %q to %v cc %v\n", msg.Subject, addrs(msg.To), addrs(msg.Cc))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// personalReplyTo finds the copy of a mail made for rcpt among Mailpit's
// messages with that subject: the one whose Reply-To token verifies for it.
func (m *mailpit) personalReplyTo(t testing.TB, keys *token.Keys, id int64, subj, rcpt string) (replyTo, messageID string) {
	t.Helper()
	m.waitMail(t, rcpt, subj)
	// The mail waited for may be another recipient's copy naming rcpt in
	// its To or Cc (all copies share those headers): rcpt's own copy may
	// still be on its way from the outbox.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, msg := range m.messages(t) {
			if !strings.Contains(msg.Subject, subj) || len(msg.ReplyTo) == 0 {
				continue
			}
			local, _, _ := strings.Cut(msg.ReplyTo[0].Address, "@")
			if gotID, tok, ok := token.ParseAddress("ls", local); ok && gotID == id && keys.Verify(id, rcpt, tok) {
				pm, err := mail.ReadMessage(strings.NewReader(m.raw(t, msg.ID)))
				if err != nil {
					t.Fatal(err)
				}
				return msg.ReplyTo[0].Address, strings.Trim(pm.Header.Get("Message-Id"), "<>")
			}
		}
	}
	t.Fatalf("no copy of %q for %s", subj, rcpt)
	return "", ""
}

// TestCommandsEndToEnd drives the commands of DESIGN 6 as chairs send them:
// replies from real mail clients' shapes to the personal address of their
// notification, over SMTP to the running daemon, with every mail out
// through Mailpit.
func TestCommandsEndToEnd(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "[trust]\nauthserv_id = \"mx.liaison.example\"\n")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatalf("submission refused: %v", err)
	}
	keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	const subject = "[LS-1] New liaison statement: Response to LS on OTN control"
	aliceAddr, notifID := mp.personalReplyTo(t, keys, 1, subject, "alice@ccamp.example")
	n := 0
	send := func(fixture, from, to string, extra map[string]string) {
		t.Helper()
		n++
		vars := map[string]string{"FROM": from, "TO": to, "SUBJECT": subject, "INREPLYTO": notifID,
			"MSGID": fmt.Sprintf("reply-%d@client.example", n)}
		for k, v := range extra {
			vars[k] = v
		}
		if err := sendSMTP(d.smtpAddr, from, []string{to}, reply(t, fixture, vars)); err != nil {
			t.Fatalf("%s refused: %v", fixture, err)
		}
	}
	outboxLen := func() int { return len(d.outbox(t)) }

	t.Run("token with another From changes nothing and is answered", func(t *testing.T) {
		before := outboxLen()
		send("forged-from.eml", "mallory@evil.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.State != "open" {
			t.Errorf("state = %s after a forged close", st.State)
		}
		if ev := lastEvent(st); ev.Type != "command-refused" || ev.By != "mallory@evil.example" || !strings.Contains(ev.Text, "personal") {
			t.Errorf("last event = %+v, want command-refused by mallory saying why", ev)
		}
		if got := outboxLen(); got != before+1 {
			t.Errorf("outbox grew by %d, want one error reply", got-before)
		}
		msg := mp.waitMail(t, "mallory@evil.example", "Not done")
		if body := mp.text(t, msg.ID); !strings.Contains(body, "forwarded mails give no rights") {
			t.Errorf("error reply does not say why:\n%s", body)
		}
	})

	t.Run("out-of-office auto-reply changes nothing and gets nothing", func(t *testing.T) {
		before, events := outboxLen(), len(d.show(t, 1).Events)
		send("out-of-office.eml", "alice@ccamp.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.State != "open" || len(st.Events) != events || outboxLen() != before {
			t.Errorf("auto-reply changed something: state %s, events %d->%d, outbox %d->%d", st.State, events, len(st.Events), before, outboxLen())
		}
	})

	t.Run("forged Authentication-Results at commands@ is refused", func(t *testing.T) {
		send("commands-at.eml", "alice@ccamp.example", "commands@liaison.example",
			map[string]string{"AUTHRES": "evil.example; dkim=pass header.d=ccamp.example"})
		st := d.show(t, 1)
		if ev := lastEvent(st); ev.Type != "command-refused" || !strings.Contains(ev.Text, "could not verify") {
			t.Errorf("last event = %+v, want command-refused (not authenticated)", ev)
		}
		msg := mp.waitMail(t, "alice@ccamp.example", "Not done")
		if body := mp.text(t, msg.ID); !strings.Contains(body, "could not verify") {
			t.Errorf("error reply does not say why:\n%s", body)
		}
		for _, ev := range st.Events {
			if ev.Type == "note" {
				t.Errorf("a note was recorded from an unauthenticated mail: %+v", ev)
			}
		}
	})

	t.Run("trusted DKIM pass at commands@ adds a note", func(t *testing.T) {
		send("commands-at.eml", "alice@ccamp.example", "commands@liaison.example",
			map[string]string{"AUTHRES": "mx.liaison.example; dkim=pass header.d=ccamp.example header.s=sel"})
		if ev := lastEvent(d.show(t, 1)); ev.Type != "note" || !strings.Contains(ev.Text, "interim on 10 December") {
			t.Errorf("last event = %+v, want the note", ev)
		}
	})

	t.Run("a command in quoted text never runs; the reply is a comment", func(t *testing.T) {
		before := outboxLen()
		send("thunderbird-quoted-command.eml", "alice@ccamp.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.State != "open" {
			t.Errorf("state = %s: a quoted close ran", st.State)
		}
		ev := lastEvent(st)
		if ev.Type != "comment" || !strings.Contains(ev.Text, "next interim") || strings.Contains(ev.Text, "close") {
			t.Errorf("last event = %+v, want a comment without the quote", ev)
		}
		if outboxLen() != before {
			t.Errorf("a comment was answered")
		}
	})

	t.Run("an unknown command gets one error reply", func(t *testing.T) {
		before := outboxLen()
		send("unknown-command.eml", "alice@ccamp.example", aliceAddr, nil)
		if ev := lastEvent(d.show(t, 1)); ev.Type != "command-refused" || !strings.Contains(ev.Text, "clsoe") {
			t.Errorf("last event = %+v", ev)
		}
		if got := outboxLen(); got != before+1 {
			t.Errorf("outbox grew by %d, want 1", got-before)
		}
		msg := mp.waitMail(t, "alice@ccamp.example", "Not done")
		body := mp.text(t, msg.ID)
		for _, want := range []string{`"clsoe" is not a command`, "reassign ADDR|BODY"} {
			if !strings.Contains(body, want) {
				t.Errorf("error reply lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("Gmail reply: deadline and status", func(t *testing.T) {
		send("gmail-deadline-status.eml", "alice@ccamp.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.Deadline == nil || *st.Deadline != "2027-03-01" {
			t.Errorf("deadline = %v, want 2027-03-01", st.Deadline)
		}
		if !strings.Contains(st.StatusLine, "Discussed at IETF 125") {
			t.Errorf("status line = %q", st.StatusLine)
		}
		if st.State != "open" {
			t.Errorf("state = %s: the quoted close ran", st.State)
		}
	})

	t.Run("Outlook HTML reply becomes the response, sent to the SDO once the AD approves", func(t *testing.T) {
		send("outlook-html-reply.eml", "alice@ccamp.example", aliceAddr, nil)
		if resp := d.show(t, 2); resp.State != "pending" || d.show(t, 1).RepliedAt != nil {
			t.Fatalf("a chair's reply is %s before approval (RFC 4052), LS-1 replied_at %v", resp.State, d.show(t, 1).RepliedAt)
		}
		carolAddr, _ := mp.personalReplyTo(t, keys, 2, "Approval needed", "carol@ietf.example")
		n++
		approve := fmt.Sprintf("From: carol@ietf.example\r\nTo: %s\r\nSubject: Re: LS-2\r\nMessage-ID: <approve-%d@client.example>\r\nContent-Type: text/plain\r\n\r\napprove\r\n", carolAddr, n)
		if err := sendSMTP(d.smtpAddr, "carol@ietf.example", []string{carolAddr}, approve); err != nil {
			t.Fatal(err)
		}
		orig := d.show(t, 1)
		if orig.RepliedAt == nil {
			t.Errorf("LS-1 has no replied_at")
		}
		if len(orig.Related) != 1 || orig.Related[0].Ref != "LS-2" || orig.Related[0].Relation != "replied-by" {
			t.Errorf("LS-1 related = %+v, want replied-by LS-2", orig.Related)
		}
		resp := d.show(t, 2)
		if resp.Direction != "outgoing" || resp.Purpose != "response" || resp.From.ID != "ccamp" || resp.To[0].ID != "itu-t-sg15" {
			t.Errorf("LS-2 = %s %s from %s to %+v, want an outgoing response from ccamp to itu-t-sg15", resp.Direction, resp.Purpose, resp.From.ID, resp.To)
		}
		if len(resp.Related) != 1 || resp.Related[0].Ref != "LS-1" || resp.Related[0].Relation != "replies-to" {
			t.Errorf("LS-2 related = %+v", resp.Related)
		}
		body := ""
		if resp.Body != nil {
			body = *resp.Body
		}
		if !strings.Contains(body, "CCAMP thanks you") || strings.Contains(body, "Sent:") || strings.Contains(body, "close") || strings.HasPrefix(body, "reply") {
			t.Errorf("LS-2 body is not the reply text alone:\n%s", body)
		}
		if len(resp.Attachments) != 1 || resp.Attachments[0].Name != "CCAMP-comments.pdf" {
			t.Errorf("LS-2 attachments = %+v", resp.Attachments)
		}
		msg := mp.waitMail(t, "rapporteur@itu.example", "[LS-2]")
		if got := addrs(msg.To); !equal(got, []string{"rapporteur@itu.example"}) {
			t.Errorf("response To = %v, want the response contact", got)
		}
		for _, want := range []string{"dan@lm.example", "alice@ccamp.example", "statements@ietf.example"} {
			if !contains(addrs(msg.Cc), want) {
				t.Errorf("response Cc = %v lacks %s", addrs(msg.Cc), want)
			}
		}
		if text := mp.text(t, msg.ID); !strings.Contains(text, "In-Response-To: LS-1") || !strings.Contains(text, "CCAMP thanks you") {
			t.Errorf("response mail:\n%s", text)
		}
	})

	t.Run("Apple Mail reply in German: reassign", func(t *testing.T) {
		send("apple-de-reassign.eml", "alice@ccamp.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.Assignee != "bob@ccamp.example" {
			t.Errorf("assignee = %s, want bob", st.Assignee)
		}
		if st.State != "open" {
			t.Errorf("state = %s: the quoted close ran", st.State)
		}
		msg := mp.waitMail(t, "bob@ccamp.example", "Assigned to bob@ccamp.example")
		if got := addrs(msg.To); !equal(got, []string{"bob@ccamp.example"}) {
			t.Errorf("reassigned To = %v", got)
		}
	})

	t.Run("Outlook reply in French: close moves it to the archive", func(t *testing.T) {
		send("outlook-fr-close.eml", "alice@ccamp.example", aliceAddr, nil)
		st := d.show(t, 1)
		if st.State != "closed" || st.ClosedAt == nil {
			t.Fatalf("state = %s, want closed", st.State)
		}
		if ev := lastEvent(st); ev.Type != "closed" || !strings.Contains(ev.Text, "Réponse envoyée") {
			t.Errorf("last event = %+v", ev)
		}
		out, err := d.cli(t, "list", "-json", "-state", "closed")
		if err != nil || !strings.Contains(out, `"ref": "LS-1"`) && !strings.Contains(out, `"ref":"LS-1"`) {
			t.Errorf("list -state closed: %v\n%s", err, out)
		}
	})

	t.Run("help is answered, at most reply_rate_per_hour times an hour", func(t *testing.T) {
		before := outboxLen()
		for i := 0; i < 7; i++ {
			raw := fmt.Sprintf("From: someone@anywhere.example\r\nTo: commands@liaison.example\r\nSubject: help\r\nMessage-ID: <help-%d@anywhere.example>\r\n\r\nhelp\r\n", i)
			if err := sendSMTP(d.smtpAddr, "someone@anywhere.example", []string{"commands@liaison.example"}, raw); err != nil {
				t.Fatal(err)
			}
		}
		if got := outboxLen() - before; got != 5 {
			t.Errorf("%d help answers queued for 7 requests, want 5 (the default rate)", got)
		}
		msg := mp.waitMail(t, "someone@anywhere.example", "Commands")
		if body := mp.text(t, msg.ID); !strings.Contains(body, "deadline DATE") {
			t.Errorf("help answer:\n%s", body)
		}
	})

	t.Run("a bounce of our notification is recorded and not answered", func(t *testing.T) {
		before := outboxLen()
		dsn := "From: MAILER-DAEMON@mx.vendor.example\r\nTo: statements@liaison.example\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"Message-ID: <dsn-1@mx.vendor.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n" +
			"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
			"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.vendor.example\r\n\r\n" +
			"Final-Recipient: rfc822; alice@ccamp.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n" +
			"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: statements@liaison.example\r\nMessage-ID: <" + notifID + ">\r\nSubject: x\r\n" +
			"--r--\r\n"
		if err := sendSMTP(d.smtpAddr, "", []string{"statements@liaison.example"}, dsn); err != nil {
			t.Fatal(err)
		}
		ev := lastEvent(d.show(t, 1))
		if ev.Type != "bounced" || !strings.Contains(ev.Text, "5.1.1") || !strings.Contains(ev.Text, "alice@ccamp.example") {
			t.Errorf("last event = %+v, want the bounce", ev)
		}
		if outboxLen() != before {
			t.Errorf("a bounce was answered")
		}
	})
}

// TestOutgoingStatementEndToEnd: a WG chair sends an outgoing statement; it
// is confirmed by a round trip, approved by the area's AD (RFC 4052), and
// only then sent to the SDO's contacts.
func TestOutgoingStatementEndToEnd(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")
	keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	out := "From: Alice Chair <alice@ccamp.example>\r\nTo: statements@liaison.example\r\nSubject: LS on OTN control plane\r\n" +
		"Message-ID: <out-1@ccamp.example>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"From: IETF CCAMP WG\r\nTo: ITU-T SG15\r\nTitle: LS on OTN control plane\r\nPurpose: For Comment\r\nDeadline: 2027-02-15\r\n\r\n" +
		"Dear SG15 colleagues,\r\n\r\nCCAMP would welcome your comments.\r\n"
	if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{"statements@liaison.example"}, out); err != nil {
		t.Fatal(err)
	}
	if st := d.show(t, 1); st.State != "pending" || st.Direction != "outgoing" {
		t.Fatalf("LS-1 is %s %s, want a pending outgoing statement", st.State, st.Direction)
	}
	cmd := func(to, from, text string, n int) {
		t.Helper()
		raw := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: LS-1\r\nMessage-ID: <cmd-%d@client.example>\r\nContent-Type: text/plain\r\n\r\n%s\r\n", from, to, n, text)
		if err := sendSMTP(d.smtpAddr, from, []string{to}, raw); err != nil {
			t.Fatal(err)
		}
	}
	confirmAddr, _ := mp.personalReplyTo(t, keys, 1, "Please confirm", "alice@ccamp.example")
	// Someone else cannot confirm with Alice's address.
	cmd(confirmAddr, "bob@ccamp.example", "confirm", 1)
	if st := d.show(t, 1); lastEvent(st).Type != "command-refused" {
		t.Errorf("bob confirmed alice's statement: %+v", lastEvent(st))
	}
	cmd(confirmAddr, "alice@ccamp.example", "confirm\r\n\r\nThanks", 2)
	if ev := lastEvent(d.show(t, 1)); ev.Type != "approval-requested" {
		t.Fatalf("after confirm: last event %+v, want approval-requested", ev)
	}
	carolAddr, _ := mp.personalReplyTo(t, keys, 1, "Approval needed", "carol@ietf.example")
	for _, m := range mp.messages(t) {
		if strings.Contains(m.Subject, "Liaison statement:") {
			t.Fatalf("the statement went out before approval: %q to %v", m.Subject, addrs(m.To))
		}
	}
	cmd(carolAddr, "carol@ietf.example", "approve", 3)
	st := d.show(t, 1)
	if st.State != "open" {
		t.Errorf("after approval state = %s, want open", st.State)
	}
	var types []string
	for _, ev := range st.Events {
		types = append(types, ev.Type)
	}
	if got, want := strings.Join(types, ","), "submitted,confirmation-requested,command-refused,confirmed,approval-requested,approved,transmitted"; got != want {
		t.Errorf("history = %s\nwant      %s", got, want)
	}
	msg := mp.waitMail(t, "tsbsg15@itu.example", "[LS-1] Liaison statement: LS on OTN control plane")
	if got := addrs(msg.To); !equal(got, []string{"tsbsg15@itu.example"}) {
		t.Errorf("outgoing To = %v, want the SDO's contacts", got)
	}
	if text := mp.text(t, msg.ID); !strings.Contains(text, "Purpose: For Comment") || !strings.Contains(text, "CCAMP would welcome") {
		t.Errorf("outgoing mail:\n%s", text)
	}

	// A person without a role in the From body cannot send one at all.
	bad := strings.ReplaceAll(strings.ReplaceAll(out, "alice@ccamp.example", "eve@elsewhere.example"), "out-1@", "out-2@")
	if err := sendSMTP(d.smtpAddr, "eve@elsewhere.example", []string{"statements@liaison.example"}, bad); err != nil {
		t.Fatal(err)
	}
	mp.waitMail(t, "eve@elsewhere.example", "Not accepted")
}
