package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutlookHTMLSubmissionEndToEnd: an Outlook HTML-only submission, each
// field line its own <p class="MsoNormal"> (also in a Word table, and as
// multipart/alternative whose text part has an empty line after each
// field), sent over SMTP, becomes a
// statement with its fields, notified to the addressed body and receipted
// to the sender (issue 10, DESIGN 4), not an error reply saying "To:
// missing".
func TestOutlookHTMLSubmissionEndToEnd(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")
	for _, fixture := range []string{"outlook_word_html_only.eml", "outlook_word_table.eml", "outlook_alternative.eml"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "ingest", "parse", "testdata", "submissions", fixture))
		if err != nil {
			t.Fatal(err)
		}
		if err := sendSMTP(d.smtpAddr, "tsbsg15@itu.example", []string{"statements@liaison.example"}, string(raw)); err != nil {
			t.Fatalf("%s refused: %v", fixture, err)
		}
	}
	for _, id := range []int64{1, 2, 3} {
		ref := "[LS-" + string(rune('0'+id)) + "]"
		st := d.show(t, id)
		if st.State != "open" || st.Direction != "incoming" || st.Purpose != "action" || st.From.ID != "itu-t-sg15" ||
			len(st.To) != 1 || st.To[0].ID != "ccamp" || st.Deadline == nil || *st.Deadline != "2027-01-31" ||
			st.Title != "Response to LS on OTN control" {
			t.Errorf("LS-%d = %s %s %s from %q to %+v deadline %v title %q", id, st.State, st.Direction, st.Purpose, st.From.ID, st.To, st.Deadline, st.Title)
		}
		if st.Body == nil || !strings.HasPrefix(*st.Body, "Dear CCAMP colleagues,") || strings.Contains(*st.Body, "Purpose:") {
			t.Errorf("LS-%d body = %v", id, st.Body)
		}
		n := mp.waitMail(t, "alice@ccamp.example", ref+" New liaison statement: Response to LS on OTN control")
		for _, want := range []string{"expert1@vendor.example", "statements@ietf.example", "ccamp@ietf.example"} {
			if !contains(addrs(n.Cc), want) {
				t.Errorf("%s notification Cc = %v lacks %s", ref, addrs(n.Cc), want)
			}
		}
		r := mp.waitMail(t, "tsbsg15@itu.example", ref+" Received:")
		if !contains(addrs(r.Cc), "rapporteur@itu.example") {
			t.Errorf("%s receipt Cc = %v lacks the response contact", ref, addrs(r.Cc))
		}
	}
	for _, m := range mp.messages(t) {
		if contains(addrs(m.To), "tsbsg15@itu.example") && !strings.Contains(m.Subject, "Received:") {
			t.Errorf("the sender got %q", m.Subject)
		}
	}
}
