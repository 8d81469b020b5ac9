package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSubmitInBrowser: an SDO secretary opens /submit in a real Chromium,
// finds the address and a template, pastes a draft with a problem (an
// action without a deadline) and sees it named, with what liaisond read;
// nothing is stored or sent.
func TestSubmitInBrowser(t *testing.T) {
	chromium := findChromium(t)
	d := startDaemon(t, "", "")
	base := "http://" + d.httpAddr
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`header nav`)),
		chromedp.Click(chromedp.CSS(`nav a[href="/submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#submit-template`))); err != nil {
		t.Fatalf("open /submit from the menu: %v\n%s", err, d.stderr.String())
	}
	if got := text(`#submit-address`); got != "statements@liaison.example" {
		t.Errorf("/submit names the address %q", got)
	}
	if tmpl := text(`#submit-template`); !strings.Contains(tmpl, "Purpose: For Action") || !strings.Contains(tmpl, "Deadline: 2027-01-31") {
		t.Errorf("the template:\n%s", tmpl)
	}
	draft := "From: ITU-T SG15\nTo: IETF CCAMP WG, IETF Teleportation WG\nTitle: LS on OTN control\nPurpose: For Action\nSG15-Ref: COM15-LS123\n\nDear CCAMP colleagues, please act.\n"
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#draft`), draft), chromedp.Click(chromedp.CSS(`#check`)),
		chromedp.WaitVisible(chromedp.CSS(`#check-result`))); err != nil {
		t.Fatalf("check the draft: %v", err)
	}
	problems, read, warnings := text(`ul.problems`), text(`dl.read`), text(`ul.warnings`)
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil && os.Getenv("LIAISOND_SCREENSHOTS") != "" {
		os.WriteFile(filepath.Join(os.Getenv("LIAISOND_SCREENSHOTS"), "submit-check.png"), img, 0o644)
	}
	if !strings.Contains(problems, "Deadline: a statement for action needs a deadline") {
		t.Errorf("the missing deadline is not named:\n%s", problems)
	}
	for _, want := range []string{"ITU-T Study Group 15", "IETF CCAMP Working Group", "IETF Teleportation WG", "not in our directory", "COM15-LS123"} {
		if !strings.Contains(read, want) {
			t.Errorf("what liaisond read lacks %q:\n%s", want, read)
		}
	}
	if !strings.Contains(warnings, "Teleportation") {
		t.Errorf("warnings:\n%s", warnings)
	}
	if draftNow, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#draft`))); draftNow != draft {
		t.Errorf("the draft was not kept in the form for fixing: %q", draftNow)
	}
	if out, err := d.cli(t, "list", "-json", "-state", "all"); err != nil || strings.Contains(out, "LS-1") {
		t.Errorf("the check stored a statement: %v\n%s", err, out)
	}
	if ob := outboxOf(t, d.config); len(ob) != 0 {
		t.Errorf("the check queued mail: %+v", ob)
	}
}
