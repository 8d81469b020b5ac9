package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebPathPrefix: with public_url = "http://HOST/liaison/" (the display
// behind a reverse proxy under /liaison/), a real browser opens the pages
// there, the stylesheet loads, every link on every page carries the prefix,
// and following them (statement, menu, search form) stays under it.
func TestWebPathPrefix(t *testing.T) {
	chromium := findChromium(t)
	httpAddr := freePort(t)
	dir := t.TempDir()
	d := startDaemonConfig(t, dir, fmt.Sprintf(`domain = "liaison.example"
data_dir = "data"
public_url = "http://%s/liaison/"
[smtp]
listen = "127.0.0.1:0"
[http]
listen = %q
`, httpAddr, httpAddr))
	if err := sendSMTP(d.smtpAddr, "sender@itu.example", []string{"statements@liaison.example"}, submission); err != nil {
		t.Fatal(err)
	}
	base := "http://" + httpAddr + "/liaison"

	// The mail's links carry the prefix and lead to the page.
	files := waitFiles(t, d.dir+"/data/sent", 9)
	mailText := readFile(t, files[0])
	if !strings.Contains(strings.ReplaceAll(mailText, "=\r\n", ""), base+"/ls/1") {
		t.Errorf("the mail does not link to %s/ls/1:\n%s", base, mailText)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// links: every same-origin URL the page refers to (links, stylesheet,
	// feed, form actions), as the browser resolved it.
	const links = `Array.from(document.querySelectorAll('a[href], link[href], form[action]'))
		.map(e => e.href || e.action).filter(u => u.startsWith(location.origin))`
	// styled: the stylesheet loaded and applies.
	const styled = `Array.from(document.styleSheets).some(s => { try { return s.cssRules.length > 0 } catch (e) { return false } })`
	check := func(page string) {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](links))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](styled))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if !strings.HasPrefix(loc, base+"/") {
			t.Errorf("%s: the browser is at %s, outside %s/", page, loc, base)
		}
		if !ok {
			t.Errorf("%s: the stylesheet did not load", page)
		}
		if len(urls) < 5 {
			t.Errorf("%s: only %d links: %v", page, len(urls), urls)
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, base+"/") {
				t.Errorf("%s: link %s is outside %s/", page, u, base)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`li.ls a.title`))); err != nil {
		t.Fatalf("open %s/: %v\n%s", base, err, d.stderr.String())
	}
	check("/")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`li.ls a.title`)), chromedp.WaitVisible(chromedp.CSS(`article.statement h1`))); err != nil {
		t.Fatalf("follow the statement: %v", err)
	}
	check("the statement")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if loc != base+"/ls/1" {
		t.Errorf("the statement link led to %s", loc)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href$="/outstanding"]`)), chromedp.WaitVisible(chromedp.CSS(`li.ls a.title`))); err != nil {
		t.Fatalf("follow the menu to Outstanding: %v", err)
	}
	check("/outstanding")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href$="/archive"]`)), chromedp.WaitVisible(chromedp.CSS(`form.filters`)),
		chromedp.SetValue(chromedp.CSS(`form.filters input[name="q"]`), "rapporteur"),
		chromedp.Submit(chromedp.CSS(`form.filters`)), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
		t.Fatalf("search from the archive: %v", err)
	}
	// Submit returns before the new page: wait for its address.
	for i := 0; i < 100 && !strings.Contains(loc, "?"); i++ {
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(loc, base+"/archive?") {
		t.Errorf("the search form led to %s", loc)
	}
	check("the archive search")
	// A body's name leads to its statements, whose feeds are linked; the
	// submission page's check posts under the prefix too.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`li.ls a.title`)),
		chromedp.Click(chromedp.CSS(`li.ls a.body[href$="?body=ccamp"]`)), chromedp.WaitVisible(chromedp.CSS(`#body-links`))); err != nil {
		t.Fatalf("follow a body's name: %v", err)
	}
	check("a body's statements")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href$="/submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#draft`)),
		chromedp.SetValue(chromedp.CSS(`#draft`), "From: ITU-T SG15\nTo: IETF CCAMP WG\n\nText"),
		chromedp.Click(chromedp.CSS(`#check`)), chromedp.WaitVisible(chromedp.CSS(`#check-result`))); err != nil {
		t.Fatalf("check a draft on /submit: %v", err)
	}
	check("the submission check")
}
