package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"liaisond/store"
	"liaisond/token"
)

const submission = "From: Rapporteur <sender@itu.example>\r\n" +
	"To: statements@liaison.example\r\n" +
	"Subject: LS on OTN control\r\n" +
	"Message-ID: <ls-otn-1@itu.example>\r\n" +
	"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"From: ITU-T SG15\r\n" +
	"To: IETF CCAMP WG\r\n" +
	"Title: Response to LS on OTN control\r\n" +
	"Purpose: For Action\r\n" +
	"Deadline: 31 January 2027\r\n" +
	"Response-Contact: rapporteur@itu.example\r\n" +
	"Technical-Contact: expert1@vendor.example, Expert Two <expert2@op.example>\r\n" +
	"Cc: ccamp-interest@ietf.example\r\n" +
	"Attachment-URL: https://www.itu.example/md/T25-SG15-LS-123.pdf\r\n" +
	"\r\n" +
	"Dear CCAMP colleagues,\r\n\r\nplease review the attached.\r\n" +
	"--b1\r\n" +
	"Content-Type: application/pdf; name=\"T25-SG15-LS-123.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"T25-SG15-LS-123.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==\r\n" +
	"--b1--\r\n"

// TestEndToEndSubmission drives `liaisond serve` as its users do: a statement
// in over SMTP, every mail out through a real SMTP server (Mailpit), and the
// CLI's JSON.
func TestEndToEndSubmission(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")

	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatalf("submission refused: %v", err)
	}

	// The notification: one personal copy per recipient (DESIGN 3 and 5).
	wantTo := []string{"alice@ccamp.example"}
	wantCc := []string{
		"expert1@vendor.example", "expert2@op.example", // technical contacts
		"carol@ietf.example", "rick@ietf.example", // supervisors: the Routing ADs
		"dan@lm.example",              // ITU-T SG15's liaison manager
		"ccamp@ietf.example",          // the alias
		"statements@ietf.example",     // the secretariat
		"bob@ccamp.example",           // the other chair
		"ccamp-interest@ietf.example", // the statement's Cc
	}
	// The receipt: to the submitter, copying the response contacts.
	receiptRcpts := []string{"sender@itu.example", "rapporteur@itu.example"}
	msgs := mp.waitMessages(t, len(wantTo)+len(wantCc)+len(receiptRcpts))

	keys, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	gotNotified := map[string]bool{}
	gotReceipt := map[string]bool{}
	replyTos := map[string]bool{}
	for _, m := range msgs {
		raw := mp.raw(t, m.ID)
		pm, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		h := pm.Header
		for _, name := range []string{"Auto-Submitted", "X-Liaisond-Loop", "Message-Id", "In-Reply-To", "References"} {
			if h.Get(name) == "" {
				t.Errorf("mail %q lacks %s", m.Subject, name)
			}
		}
		if !strings.Contains(h.Get("References"), "ls-otn-1@itu.example") {
			t.Errorf("References = %q, want the statement's thread", h.Get("References"))
		}
		switch {
		case strings.HasPrefix(m.Subject, "[LS-1] New liaison statement: Response to LS on OTN control"):
			if got := addrs(m.To); !equal(got, wantTo) {
				t.Errorf("notification To = %v, want %v", got, wantTo)
			}
			if got := addrs(m.Cc); !equal(got, wantCc) {
				t.Errorf("notification Cc = %v, want %v", got, wantCc)
			}
			if h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("notification Auto-Submitted = %q", h.Get("Auto-Submitted"))
			}
			rcpt := recipientByToken(t, keys, h.Get("Reply-To"), append(append([]string{}, wantTo...), wantCc...), replyTos)
			if gotNotified[rcpt] {
				t.Errorf("two notification copies for %s", rcpt)
			}
			gotNotified[rcpt] = true
		case strings.HasPrefix(m.Subject, "[LS-1] Received:"):
			if got := addrs(m.To); !equal(got, receiptRcpts[:1]) {
				t.Errorf("receipt To = %v", got)
			}
			if got := addrs(m.Cc); !equal(got, receiptRcpts[1:]) {
				t.Errorf("receipt Cc = %v", got)
			}
			body := mp.text(t, m.ID)
			for _, want := range []string{"LS-1", "http://liaison.example/ls/1", "alice@ccamp.example"} {
				if !strings.Contains(body, want) {
					t.Errorf("receipt lacks %q:\n%s", want, body)
				}
			}
			rcpt := recipientByToken(t, keys, h.Get("Reply-To"), receiptRcpts, replyTos)
			gotReceipt[rcpt] = true
		default:
			t.Errorf("unexpected mail %q", m.Subject)
		}
	}
	if got := keysOf(gotNotified); !equal(got, append(append([]string{}, wantTo...), wantCc...)) {
		t.Errorf("notification delivered to %v", got)
	}
	if got := keysOf(gotReceipt); !equal(got, receiptRcpts) {
		t.Errorf("receipt delivered to %v", got)
	}

	// show -json: DESIGN 9's keys and values.
	out, err := d.cli(t, "show", "-json", "LS-1")
	if err != nil {
		t.Fatalf("show: %v\n%s", err, out)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("show -json: %v\n%s", err, out)
	}
	for key, want := range map[string]any{
		"id": 1.0, "ref": "LS-1", "direction": "incoming", "state": "open", "title": "Response to LS on OTN control",
		"purpose": "action", "deadline": "2027-01-31", "submitter": "sender@itu.example", "assignee": "alice@ccamp.example",
		"replied_at": nil, "closed_at": nil,
	} {
		if st[key] != want {
			t.Errorf("show -json %s = %v, want %v", key, st[key], want)
		}
	}
	if from := st["from"].(map[string]any); from["id"] != "itu-t-sg15" || from["name"] != "ITU-T Study Group 15" {
		t.Errorf("from = %v", from)
	}
	if to := st["to"].([]any); len(to) != 1 || to[0].(map[string]any)["id"] != "ccamp" {
		t.Errorf("to = %v", to)
	}
	if fmt.Sprint(st["technical_contacts"]) != "[expert1@vendor.example expert2@op.example]" ||
		fmt.Sprint(st["response_contacts"]) != "[rapporteur@itu.example]" || fmt.Sprint(st["cc"]) != "[ccamp-interest@ietf.example]" {
		t.Errorf("contacts = %v / %v / %v", st["technical_contacts"], st["response_contacts"], st["cc"])
	}
	if fmt.Sprint(st["urls"]) != "[https://www.itu.example/md/T25-SG15-LS-123.pdf]" {
		t.Errorf("urls = %v", st["urls"])
	}
	if !strings.HasPrefix(st["body"].(string), "Dear CCAMP colleagues,") {
		t.Errorf("body = %q", st["body"])
	}
	atts := st["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["name"] != "T25-SG15-LS-123.pdf" || atts[0].(map[string]any)["content_type"] != "application/pdf" {
		t.Errorf("attachments = %v", atts)
	}
	evs := st["events"].([]any)
	if len(evs) == 0 || evs[0].(map[string]any)["type"] != "submitted" || evs[0].(map[string]any)["by"] != "sender@itu.example" {
		t.Errorf("events = %v", evs)
	}

	// outbox -json: every mail sent once.
	out, err = d.cli(t, "outbox", "-json")
	if err != nil {
		t.Fatal(err, out)
	}
	var ob []store.OutboxJSON
	if err := json.Unmarshal([]byte(out), &ob); err != nil {
		t.Fatal(err)
	}
	if len(ob) != len(msgs) {
		t.Errorf("outbox has %d entries, mailpit %d messages", len(ob), len(msgs))
	}
	for _, m := range ob {
		if m.State != "sent" || m.Attempts != 1 || m.Ref != "LS-1" || (m.Kind != "notification" && m.Kind != "receipt") {
			t.Errorf("outbox entry %+v", m)
		}
	}

	// list -json shows it without body and events.
	out, _ = d.cli(t, "list", "-json")
	var list []map[string]any
	json.Unmarshal([]byte(out), &list)
	if len(list) != 1 || list[0]["ref"] != "LS-1" || list[0]["body"] != nil || list[0]["events"] != nil {
		t.Errorf("list -json = %s", out)
	}

	// Re-delivery of the same message (another MTA hop added a header) changes nothing.
	again := "Received: from relay.example by mx.liaison.example; Thu, 26 Nov 2026 10:05:00 +0000\r\n" + submission
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, again); err != nil {
		t.Fatalf("re-delivery refused: %v", err)
	}
	out, _ = d.cli(t, "list", "-json")
	json.Unmarshal([]byte(out), &list)
	out2, _ := d.cli(t, "outbox", "-json")
	json.Unmarshal([]byte(out2), &ob)
	if len(list) != 1 || len(ob) != len(msgs) {
		t.Errorf("after re-delivery: %d statements, %d outbox entries", len(list), len(ob))
	}
}

// TestEndToEndBadInput: an auto-reply, an oversize mail, a broken MIME mail
// and a submission with problems, each answered as DESIGN 4 and 5 say.
func TestEndToEndBadInput(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")

	// An out-of-office reply is stored and answered with nothing.
	ooo := "From: Alice <alice@ccamp.example>\r\nTo: statements@liaison.example\r\nSubject: Out of office\r\n" +
		"Message-ID: <ooo-1@ccamp.example>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n"
	if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{"statements@liaison.example"}, ooo); err != nil {
		t.Fatal(err)
	}

	// Over the size limit (1 MiB in this config): 552, nothing stored.
	big := "From: x@itu.example\r\nTo: statements@liaison.example\r\nSubject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 1000)+"\r\n", 1100)
	err := sendSMTP(d.smtpAddr, "x@itu.example", []string{"statements@liaison.example"}, big)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("oversize mail: got %v, want 552", err)
	}

	// A recipient that is not ours: 550.
	err = sendSMTP(d.smtpAddr, "x@itu.example", []string{"someone@liaison.example"}, ooo)
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("unknown recipient: got %v, want 550", err)
	}

	// Broken MIME: stored, and one error reply to the sender.
	broken, err := os.ReadFile("../../testdata/mail/multipart-no-boundary-unreadable.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, string(broken)); err != nil {
		t.Fatal(err)
	}

	// Problems in the fields: one error reply listing every problem.
	bad := "From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: Incomplete LS\r\n" +
		"Message-ID: <bad-1@itu.example>\r\n\r\nFrom: ITU-T SG15\r\nPurpose: For Action\r\n\r\nSome text.\r\n"
	if err := sendSMTP(d.smtpAddr, "rapp@itu.example", []string{"statements@liaison.example"}, bad); err != nil {
		t.Fatal(err)
	}

	msgs := mp.waitMessages(t, 2)
	byRcpt := map[string]mpMessage{}
	for _, m := range msgs {
		byRcpt[addrs(m.To)[0]] = m
	}
	if len(msgs) != 2 {
		t.Errorf("got %d mails, want 2 error replies: %+v", len(msgs), msgs)
	}
	m, ok := byRcpt["rapp@itu.example"]
	if !ok {
		t.Fatalf("no error reply to rapp@itu.example: %+v", msgs)
	}
	body := mp.text(t, m.ID)
	for _, want := range []string{"To:", "Deadline:", "Incomplete LS"} {
		if !strings.Contains(body+m.Subject, want) {
			t.Errorf("error reply lacks %q:\n%s", want, body)
		}
	}
	if _, ok := byRcpt["user@broken.example"]; !ok {
		t.Errorf("no error reply for the broken mail: %+v", msgs)
	}
	raw := mp.raw(t, m.ID)
	if !strings.Contains(raw, "Auto-Submitted: auto-replied") || !strings.Contains(raw, "In-Reply-To: <bad-1@itu.example>") {
		t.Errorf("error reply headers:\n%s", raw)
	}

	out, _ := d.cli(t, "list", "-json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("statements after bad input: %s", out)
	}
	// Every message that was accepted is stored: the auto-reply, the broken one, the bad one.
	var health struct{ Messages map[string]int }
	getJSON(t, "http://"+d.httpAddr+"/healthz", &health)
	if health.Messages["ignored"] != 1 || health.Messages["rejected"] != 2 {
		t.Errorf("stored messages by state = %v, want 1 ignored, 2 rejected", health.Messages)
	}
}

func (m *mailpit) text(t testing.TB, id string) string {
	var res struct{ Text string }
	m.get(t, "/api/v1/message/"+id, &res)
	return res.Text
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	mp := &mailpit{API: url}
	mp.get(t, "", v)
}

// recipientByToken finds whose personal copy a mail is: the one candidate
// for which its Reply-To token verifies (DESIGN 3). The alias copy carries no
// token and answers to commands@.
func recipientByToken(t testing.TB, keys *token.Keys, replyTo string, candidates []string, seen map[string]bool) string {
	t.Helper()
	a, err := mail.ParseAddress(replyTo)
	if err != nil {
		t.Errorf("Reply-To %q: %v", replyTo, err)
		return ""
	}
	if a.Address == "commands@liaison.example" {
		return "ccamp@ietf.example"
	}
	if seen[a.Address] {
		t.Errorf("Reply-To %s used twice", a.Address)
	}
	seen[a.Address] = true
	local, domain, _ := strings.Cut(a.Address, "@")
	id, tok, ok := token.ParseAddress("ls", local)
	if !ok || domain != "liaison.example" || id != 1 {
		t.Errorf("Reply-To %q is not a personal address for LS-1", replyTo)
		return ""
	}
	var found []string
	for _, c := range candidates {
		if keys.Verify(1, c, tok) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Errorf("Reply-To %q verifies for %v, want exactly one recipient", replyTo, found)
		return ""
	}
	return found[0]
}

func addrs(as []mpAddress) []string {
	var out []string
	for _, a := range as {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func equal(a, b []string) bool {
	a, b = append([]string{}, a...), append([]string{}, b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, ",") == strings.Join(b, ",")
}
