package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The PDF the e2e submission attaches.
var submissionPDF, _ = base64.StdEncoding.DecodeString("JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==")

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestWebEndToEnd: a statement submitted over SMTP appears on the daemon's
// pages; every link the notification mail carries (public_url) leads to a
// page or attachment that exists; the API's JSON is `show -json`.
func TestWebEndToEnd(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatalf("submission refused: %v", err)
	}
	base := "http://" + d.httpAddr

	// The links in the notification, pointed at this daemon instead of public_url.
	var notification string
	for _, m := range mp.waitMessages(t, 1) {
		if strings.Contains(m.Subject, "[LS-1]") && len(m.To) > 0 && m.To[0].Address == "alice@ccamp.example" {
			notification = mp.raw(t, m.ID)
		}
	}
	if notification == "" {
		t.Fatal("no notification to the assignee")
	}
	unfolded := strings.ReplaceAll(strings.ReplaceAll(notification, "=\r\n", ""), "=\n", "")
	links := regexp.MustCompile(`http://liaison\.example(/[^\s>"]*)`).FindAllStringSubmatch(unfolded, -1)
	seen := map[string]bool{}
	for _, l := range links {
		seen[l[1]] = true
	}
	if !seen["/ls/1"] || !seen["/ls/1/att/1/T25-SG15-LS-123.pdf"] {
		t.Fatalf("the notification links %v, want the page and the attachment", seen)
	}
	for path := range seen {
		resp, body := httpGet(t, base+path)
		if resp.StatusCode != 200 {
			t.Errorf("link %s from the mail: %s", path, resp.Status)
		}
		if strings.Contains(path, "/att/") {
			if body != string(submissionPDF) || resp.Header.Get("Content-Disposition") != `attachment; filename="T25-SG15-LS-123.pdf"` {
				t.Errorf("attachment %s: %q %v", path, body, resp.Header)
			}
		} else if !strings.Contains(body, "Response to LS on OTN control") {
			t.Errorf("page %s does not show the statement", path)
		}
	}

	for path, want := range map[string]string{
		"/":               `<a class="ref" href="/ls/1">LS-1</a>`,
		"/outstanding":    `<a class="ref" href="/ls/1">LS-1</a>`,
		"/archive":        "No closed statement matches.",
		"/?q=rapporteur":  `<a class="ref" href="/ls/1">LS-1</a>`,
		"/feed.atom":      "<id>http://liaison.example/ls/1</id>",
		"/deadlines.ics":  "DTSTART;VALUE=DATE:20270131\r\n",
		"/api/statements": `"total": 1`,
		"/healthz":        `"processed": 1`,
		"/metrics":        "liaisond_statements{state=\"open\"} 1\n",
	} {
		resp, body := httpGet(t, base+path)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %s, want %q in\n%s", path, resp.Status, want, body)
		}
	}

	show, err := d.cli(t, "show", "-json", "LS-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, api := httpGet(t, base+"/api/statements/1"); api != show {
		t.Errorf("/api/statements/1 differs from `show -json`:\n%s\n---\n%s", api, show)
	}
}

// findChromium finds Debian's Chromium (or another Chrome); none fails the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: install it with `apt-get install -y chromium` (.ci/run does)")
	return ""
}

// TestWebInBrowser drives a real Chromium against `liaisond serve`: a
// statement (its title carrying a script) comes in over SMTP; the browser
// opens /, follows the statement, checks what is shown, downloads the
// attachment through its link, and saves screenshots (desktop and phone).
func TestWebInBrowser(t *testing.T) {
	chromium := findChromium(t)
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "")
	hostile := strings.Replace(submission, "Title: Response to LS on OTN control", `Title: Response to LS on OTN control <script>alert("pwned")</script>`, 1)
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, hostile); err != nil {
		t.Fatalf("submission refused: %v", err)
	}
	base := "http://" + d.httpAddr
	shots := t.TempDir()
	if dir := os.Getenv("LIAISOND_SCREENSHOTS"); dir != "" { // keep them to look at
		shots = dir
	}
	downloads := t.TempDir()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// Open the tab first, so that the listeners miss nothing.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", chromium, err)
	}
	var mu sync.Mutex
	var dialogs []string
	var suggested string
	done := make(chan string, 4)
	onEvent := func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		case *browser.EventDownloadWillBegin:
			mu.Lock()
			suggested = ev.SuggestedFilename
			mu.Unlock()
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted {
				done <- ev.GUID
			}
		}
	}
	if err := chromedp.Listen(ctx, onEvent); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.ListenBrowser(ctx, onEvent); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &yes}); err != nil {
		t.Fatal(err)
	}

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil || len(img) < 1000 {
			t.Fatalf("screenshot %s: %v (%d bytes)", name, err, len(img))
		}
		if err := os.WriteFile(filepath.Join(shots, name), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`li.ls a.title`))); err != nil {
		t.Fatalf("open /: %v\n%s", err, d.stderr.String())
	}
	listTitle := text(`li.ls a.title`)
	shot("index-desktop.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`li.ls a.title`)), chromedp.WaitVisible(chromedp.CSS(`article.statement h1`))); err != nil {
		t.Fatalf("follow the statement: %v", err)
	}
	location, _ := chromedp.Run(ctx, chromedp.Location())
	h1, assignee, deadline, body := text(`article.statement h1`), text(`dd.assignee`), text(`dd.deadline`), text(`pre.body`)
	shot("detail-desktop.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	shot("detail-phone.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`ul.attachments a`))); err != nil {
		t.Fatalf("follow the attachment link: %v", err)
	}
	t.Logf("screenshots in %s", shots)

	if location != base+"/ls/1" {
		t.Errorf("the statement link led to %s", location)
	}
	wantTitle := `Response to LS on OTN control <script>alert("pwned")</script>`
	if listTitle != wantTitle {
		t.Errorf("/ shows title %q, want %q as text", listTitle, wantTitle)
	}
	if h1 != "LS-1 "+wantTitle {
		t.Errorf("the statement page heading is %q", h1)
	}
	if assignee != "alice@ccamp.example" || !strings.HasPrefix(deadline, "2027-01-31") || !strings.Contains(body, "please review the attached.") {
		t.Errorf("the statement page shows assignee %q, deadline %q, body %q", assignee, deadline, body)
	}
	select {
	case guid := <-done:
		got, err := os.ReadFile(filepath.Join(downloads, guid))
		if err != nil || !bytes.Equal(got, submissionPDF) {
			t.Errorf("the downloaded attachment: %v, %d bytes, want the PDF sent", err, len(got))
		}
	case <-ctx.Done():
		t.Fatal("the attachment download did not complete")
	}
	mu.Lock()
	defer mu.Unlock()
	if suggested != "T25-SG15-LS-123.pdf" {
		t.Errorf("the browser saved the attachment as %q", suggested)
	}
	if len(dialogs) > 0 {
		t.Errorf("a script from the mail ran in the page: dialogs %q", dialogs)
	}
}
