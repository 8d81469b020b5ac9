package main

import (
	"strings"
	"testing"
)

// TestApprovalRejectedEndToEnd: the AD turns down a chair's reply; the
// chair's mail gives the reason as written, read from the event's typed
// payload (not cut back out of the history's text), and the reply is
// rejected and never sent.
func TestApprovalRejectedEndToEnd(t *testing.T) {
	d := startDaemon(t, "", "")
	fm := newFileMail(d)
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	aliceAddr := only(t, about(fm.fresh(t), "LS-1"), "alice@ccamp.example").ReplyTo
	sendCommand(t, d, "alice@ccamp.example", aliceAddr, "[LS-1] New liaison statement", "reply\n\nCCAMP thanks SG15.\n")
	ask := only(t, fm.fresh(t), "carol@ietf.example")
	if ask.Kind != "approval" || !strings.Contains(ask.Subject, "[LS-2] Approval needed") {
		t.Fatalf("carol got %s %q", ask.Kind, ask.Subject)
	}
	sendCommand(t, d, "carol@ietf.example", ask.ReplyTo, "[LS-2] Approval needed", "reject rejected: by the WG, not yet agreed")
	ms := fm.fresh(t)
	var told delivered
	for _, m := range to(ms, "alice@ccamp.example") {
		if m.Kind == "approval" {
			told = m
		}
	}
	if told.Kind != "approval" {
		t.Fatalf("alice was not told of the rejection: %v", ms)
	}
	says(t, told, []string{"carol@ietf.example", "Reason: rejected: by the WG, not yet agreed"})
	for _, m := range ms {
		if m.Rcpt == "rapporteur@itu.example" {
			t.Errorf("a rejected reply went to the SDO: %s %q", m.Kind, m.Subject)
		}
	}
	if st := d.show(t, 2); st.State != "rejected" {
		t.Errorf("LS-2 is %s, want rejected", st.State)
	}
}
