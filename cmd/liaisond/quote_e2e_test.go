package main

import (
	"fmt"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"liaisond/token"
)

// tokenAddrPattern matches a personal address of LS-1 (DESIGN 3).
var tokenAddrPattern = regexp.MustCompile(`ls\+1\.[a-z2-7]{16}`)

// TestHTMLQuoteEndToEnd: quoted text in HTML replies never runs and never
// becomes part of a statement (DESIGN 7, issue 9). Chairs reply HTML-only
// or with an empty text alternative, quoting the notification with their
// personal address in a blockquote without a "wrote:" line; over SMTP to
// the running daemon, every mail out through Mailpit, pages over HTTP.
func TestHTMLQuoteEndToEnd(t *testing.T) {
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
	const alice = "alice@ccamp.example"
	aliceAddr, notifID := mp.personalReplyTo(t, keys, 1, subject, alice)

	// The notification as Alice's mail client quotes it: its text, as HTML.
	var notification string
	for _, msg := range mp.messages(t) {
		if len(msg.ReplyTo) > 0 && strings.EqualFold(msg.ReplyTo[0].Address, aliceAddr) {
			notification = mp.text(t, msg.ID)
		}
	}
	if notification == "" {
		t.Fatal("no notification to alice")
	}
	var quote strings.Builder
	for _, l := range strings.Split(strings.ReplaceAll(notification, "\r\n", "\n"), "\n") {
		fmt.Fprintf(&quote, "<div>%s<br></div>", html.EscapeString(l))
	}
	quote.WriteString("<div>close</div>")

	n := 0
	send := func(fixture, envFrom string) {
		t.Helper()
		n++
		vars := map[string]string{"FROM": alice, "TO": aliceAddr, "SUBJECT": subject, "INREPLYTO": notifID,
			"MSGID": fmt.Sprintf("quote-%d@client.example", n), "REPLYTO": aliceAddr, "QUOTE": quote.String()}
		if err := sendSMTP(d.smtpAddr, envFrom, []string{aliceAddr}, reply(t, fixture, vars)); err != nil {
			t.Fatalf("%s refused: %v", fixture, err)
		}
	}

	t.Run("a close inside a blockquote does not close", func(t *testing.T) {
		send("html-blockquote-close.eml", alice)
		if st := d.show(t, 1); st.State != "open" {
			t.Fatalf("state = %s after <blockquote>close</blockquote>", st.State)
		}
	})

	t.Run("Outlook, empty text alternative: the command runs, the quote does not", func(t *testing.T) {
		send("outlook-alternative-empty-text.eml", alice)
		st := d.show(t, 1)
		if st.State != "open" {
			t.Errorf("state = %s: the quoted close ran", st.State)
		}
		if st.StatusLine != "Under review by the design team" {
			t.Errorf("status line = %q, want the command's text alone", st.StatusLine)
		}
	})

	t.Run("Apple Mail HTML-only reply: the response holds no quote and no token", func(t *testing.T) {
		send("apple-html-reply-quoted.eml", alice)
		resp := d.show(t, 2)
		body := ""
		if resp.Body != nil {
			body = *resp.Body
		}
		if body != "CCAMP has reviewed the statement and agrees with the proposed OTN control approach." {
			t.Errorf("LS-2 body is not the reply text alone:\n%s", body)
		}
		// A chair's reply waits for the area's AD (RFC 4052 via RFC 4053 3.2.2.4).
		carolAddr, _ := mp.personalReplyTo(t, keys, 2, "Approval needed", "carol@ietf.example")
		approve := "From: carol@ietf.example\r\nTo: " + carolAddr + "\r\nSubject: Re: LS-2\r\nMessage-ID: <approve-quote@client.example>\r\nContent-Type: text/plain\r\n\r\napprove\r\n"
		if err := sendSMTP(d.smtpAddr, "carol@ietf.example", []string{carolAddr}, approve); err != nil {
			t.Fatal(err)
		}
		msg := mp.waitMail(t, "rapporteur@itu.example", "[LS-2]")
		sdoMail := mp.text(t, msg.ID)
		if !strings.Contains(sdoMail, "CCAMP has reviewed the statement") {
			t.Errorf("mail to the SDO lacks the response:\n%s", sdoMail)
		}
		_, page := httpGet(t, "http://"+d.httpAddr+"/ls/2")
		_, api := httpGet(t, "http://"+d.httpAddr+"/api/statements/2")
		for where, text := range map[string]string{"LS-2 body": body, "mail to the SDO": sdoMail, "/ls/2": page, "/api/statements/2": api} {
			if tokenAddrPattern.MatchString(strings.ToLower(text)) {
				t.Errorf("%s carries a personal address: %s", where, tokenAddrPattern.FindString(strings.ToLower(text)))
			}
			for _, quoted := range []string{"Reply-To: ls+", "Reply-To: <a", "A liaison statement has arrived", "please give it appropriate consideration"} {
				if strings.Contains(text, quoted) {
					t.Errorf("%s carries the quote (%q)", where, quoted)
				}
			}
		}
	})

	t.Run("no leaked token, so no takeover with a forged From", func(t *testing.T) {
		// What the SDO and the public see: every personal address of LS-1
		// that verifies for alice is tried as an attacker would.
		var seen []string
		for _, msg := range mp.messages(t) {
			if contains(addrs(msg.To), "rapporteur@itu.example") {
				seen = append(seen, mp.raw(t, msg.ID))
			}
		}
		for _, path := range []string{"/ls/1", "/ls/2", "/api/statements/1", "/api/statements/2", "/feed.atom"} {
			_, s := httpGet(t, "http://"+d.httpAddr+path)
			seen = append(seen, s)
		}
		leaked := map[string]bool{}
		for _, s := range seen {
			for _, m := range tokenAddrPattern.FindAllString(strings.ToLower(s), -1) {
				if keys.Verify(1, alice, strings.TrimPrefix(m, "ls+1.")) {
					leaked[m+"@liaison.example"] = true
				}
			}
		}
		for addr := range leaked {
			t.Errorf("alice's personal address %s leaked", addr)
			raw := fmt.Sprintf("From: Alice Chair <%s>\r\nTo: %s\r\nSubject: Re: %s\r\nMessage-ID: <takeover@evil.example>\r\n\r\nreassign mallory@evil.example\r\n", alice, addr, subject)
			if err := sendSMTP(d.smtpAddr, "mallory@evil.example", []string{addr}, raw); err != nil {
				t.Fatal(err)
			}
		}
		if st := d.show(t, 1); st.Assignee == "mallory@evil.example" {
			t.Errorf("LS-1 was taken over: assignee %s", st.Assignee)
		}
	})
}
