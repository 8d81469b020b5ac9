package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"liaisond/internal/benchmail"
)

// largeSubmission is a statement of about size bytes: a short text and a
// PDF-like attachment of random bytes (incompressible, as real PDFs
// mostly are), base64 in lines of 76.
func largeSubmission(size int) (msg string, pdf []byte) {
	pdf = make([]byte, size*3/4-4096)
	copy(pdf, "%PDF-1.7\n")
	rand.Read(pdf[16:])
	var b strings.Builder
	b.Grow(size + 8192)
	b.WriteString("From: Rapporteur <rapp@itu.example>\r\nTo: statements@liaison.example\r\nSubject: LS with the full draft Recommendation\r\n")
	fmt.Fprintf(&b, "Message-ID: <large-%d@itu.example>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n", time.Now().UnixNano())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("From: ITU-T SG15\r\nTo: IETF CCAMP WG\r\nTitle: Draft Recommendation G.large\r\nPurpose: For Information\r\n\r\n")
	b.WriteString("Dear colleagues, please find attached the full draft.\r\n")
	b.WriteString("--xx\r\nContent-Type: application/pdf; name=\"draft.pdf\"\r\nContent-Disposition: attachment; filename=\"draft.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(benchmail.Base64Lines(pdf))
	b.WriteString("--xx--\r\n")
	return b.String(), pdf
}

// vmHWM is a process's peak resident set size in MB (VmHWM in /proc).
func vmHWM(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// BenchmarkLargeSubmissionRSS sends one 24 MB statement (a PDF-like
// attachment) over SMTP to `liaisond serve` running as its own process and
// reports that process's peak RSS once the 250 has come and the
// notifications have gone; then the same message to Mailpit v1.33.1, for
// comparison.
func BenchmarkLargeSubmissionRSS(b *testing.B) {
	const size = 24 << 20
	msg, _ := largeSubmission(size)
	bin := filepath.Join(b.TempDir(), "liaisond")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for n := 0; n < b.N; n++ {
		rss, took := largeIntoLiaisond(b, bin, msg)
		b.ReportMetric(rss, "liaisond-peak-RSS-MB")
		fmt.Printf("large submission: %.1f MB over SMTP to liaisond serve: 250 after %.2fs; peak RSS of serve %.0f MB\n",
			float64(len(msg))/(1<<20), took.Seconds(), rss)
		mp := startMailpit(b)
		if err := sendSMTP(mp.SMTPAddr, "rapp@itu.example", []string{"statements@liaison.example"}, msg); err != nil {
			b.Fatalf("mailpit: %v", err)
		}
		mp.waitMessages(b, 1)
		mrss, err := vmHWM(mp.pid)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(mrss, "mailpit-peak-RSS-MB")
		fmt.Printf("large submission: the same message to Mailpit %s: peak RSS %.0f MB\n", mailpitVersion, mrss)
	}
}

const mailpitVersion = "v1.33.1"

// largeIntoLiaisond runs serve as a child process, sends msg, waits for the
// statement and its notifications, and returns the child's peak RSS.
func largeIntoLiaisond(b *testing.B, bin, msg string) (float64, time.Duration) {
	dir := b.TempDir()
	sink := startFaultSink(b, "")
	config := writeFile(b, dir, "liaisond.toml", fmt.Sprintf(`domain = "liaison.example"
data_dir = "data"
public_url = "http://liaison.example"
[smtp]
listen = "127.0.0.1:0"
max_message_bytes = %d
[http]
listen = ""
[outbound]
smarthost = %q
tls = "none"
retry_min = "1s"
retry_max = "2s"
`, 32<<20, sink.addr))
	var logs syncBuffer
	cmd, addr := startServeBinary(b, bin, config, &logs)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	t0 := time.Now()
	if err := sendSMTP(addr, "rapp@itu.example", []string{"statements@liaison.example"}, msg); err != nil {
		b.Fatalf("submission: %v\n%s", err, logs.String())
	}
	took := time.Since(t0)
	// The notification to the assignee and the receipt to the submitter.
	sink.wait(b, 2, logs.String)
	rss, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(logs.String(), "statement=1") {
		b.Fatalf("no statement stored:\n%s", logs.String())
	}
	return rss, took
}
