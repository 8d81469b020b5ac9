package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// TestLargeSubmissionEndToEnd: a 6 MB statement (its raw bytes and its PDF
// are kept in pieces in the store) is taken over SMTP, and the PDF comes
// back whole from its page; the same message again is recognized.
func TestLargeSubmissionEndToEnd(t *testing.T) {
	dir := t.TempDir()
	d := startDaemonConfig(t, dir, fmt.Sprintf(`domain = "liaison.example"
data_dir = "data"
public_url = "http://liaison.example"
[smtp]
listen = "127.0.0.1:0"
max_message_bytes = %d
[http]
listen = "127.0.0.1:0"
`, 8<<20))
	msg, pdf := largeSubmission(6 << 20)
	for i := range 2 {
		if err := sendSMTP(d.smtpAddr, "rapp@itu.example", []string{"statements@liaison.example"}, msg); err != nil {
			t.Fatalf("submission %d refused: %v", i+1, err)
		}
	}
	resp, body := httpGet(t, "http://"+d.httpAddr+"/ls/1/att/1/draft.pdf")
	if resp.StatusCode != 200 || !bytes.Equal([]byte(body), pdf) {
		t.Errorf("the attachment: %s, %d bytes, want the %d bytes sent", resp.Status, len(body), len(pdf))
	}
	out, err := d.cli(t, "list", "-json")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count([]byte(out), []byte(`"ref": "LS-`)); n != 1 {
		t.Errorf("%d statements, want 1 (the second delivery is the same message)\n%s", n, out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "data", "spool", "*")); len(left) > 0 {
		t.Errorf("left in the spool directory: %v", left)
	}
}
