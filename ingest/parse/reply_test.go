package parse

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestStripReply(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello\n\nWorld\n\n", "Hello\n\nWorld"},
		{"empty", "", ""},
		{"crlf and trailing space", "a \r\nb\t\r\n\r\n", "a\nb"},
		{"quote cuts", "Top\n> quoted\nmore", "Top"},
		{"quote with leading space", "Top\n   > quoted", "Top"},
		{"html-escaped quote", "Top\n&gt; quoted", "Top"},
		{"gmail attribution", "Yes.\n\nOn Mon, Mar 4, 2024 at 10:12 AM A B <a@b.example> wrote:\n\n> x", "Yes."},
		{"attribution without blank line", "Yes.\nOn Mon, Mar 4, 2024 at 10:12 AM A B <a@b.example> wrote:\n> x", "Yes."},
		{"attribution wrapped over three lines", "Yes.\n\nOn Dec 16, 2011, at 12:47 PM, Corey\n<reply@reply.github.com>\nwrote:\n\n> x", "Yes."},
		{"attribution ending in >: line", "Yes.\n\ntir. 18. apr. 2017 kl. 13:09 skrev A <a@b.example\n>:\n\n> x", "Yes."},
		{"attribution without quote marks", "Mine.\n\nOn Nov 26, 2013 you wrote:\n\nclose", "Mine."},
		{"zoho attribution", "Mine.\n\n---- On Wed, 24 Feb 2021 14:02:50 +0530 a@b.example wrote ----\n\nclose", "Mine."},
		{"'wrote:' in a sentence stays", "He wrote: fine.\nThe text I wrote:\nmore", "He wrote: fine.\nThe text I wrote:\nmore"},
		{"'On' sentences stay", "On Thursday:\n\nOn average it works.", "On Thursday:\n\nOn average it works."},
		{"outlook block", "Done.\n\nFrom: A <a@b.example>\nSent: Monday, 4 March 2024 10:12\nTo: c@d.example\nSubject: x\n\nclose", "Done."},
		{"outlook block with bold markers", "Done.\n\n*From:* A [mailto:a@b.example]\n*Sent:* Monday\n*To:* c\n*Subject:* x\n\nclose", "Done."},
		{"outlook block wrapped From", "Done.\n\nFrom: Human Resources\n<hr@b.example>\nSent: Monday\nTo: x\nSubject: y\n\nclose", "Done."},
		{"liaison fields are text", "From: IETF\nTo: ITU-T SG15\nSubject: Reply\n\nText.", "From: IETF\nTo: ITU-T SG15\nSubject: Reply\n\nText."},
		{"two fields are not a block", "From: a@b.example\nTo: c@d.example\n\nText.", "From: a@b.example\nTo: c@d.example\n\nText."},
		{"original message", "Ok.\n\n-----Original Message-----\nclose", "Ok."},
		{"original message lowercase", "Ok.\n\n-----original message-----\nclose", "Ok."},
		{"forwarded", "See below.\n\n---------- Forwarded message ---------\nclose", "See below."},
		{"begin forwarded message", "See below.\n\nBegin forwarded message:\n\nclose", "See below."},
		{"phrase without dashes is text", "This is the original message we sent.\nMore.", "This is the original message we sent.\nMore."},
		{"signature delimiter", "Text.\n\n-- \nJane\nChair", "Text."},
		{"signature delimiter without space", "Text.\n--\nJane", "Text."},
		{"double dash in a line stays", "a -- b\n-- first point\nend", "a -- b\n-- first point\nend"},
		{"underscore separator", "Text.\n________________________________\nFrom: x", "Text."},
		{"markdown rules stay", "A\n----\nB\n====\nC", "A\n----\nB\n====\nC"},
		{"iphone footer", "Yes.\n\nSent from my iPhone", "Yes."},
		{"multi-word footer", "Yes.\n\nSent from my Verizon Wireless BlackBerry", "Yes."},
		{"footer with link", "Yes.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>", "Yes."},
		{"french footer", "Oui.\n\nEnvoyé de mon iPhone", "Oui."},
		{"german footer", "Ja.\n\nVon meinem iPhone gesendet", "Ja."},
		{"spanish footer", "Sí.\n\nEnviado desde mi iPhone", "Sí."},
		{"'sent from' sentence stays", "Yes.\n\nSent from my desk, is much easier then my mobile phone.", "Yes.\n\nSent from my desk, is much easier then my mobile phone."},
		{"'sent from' inside a line stays", "It was sent from my iPhone app.", "It was sent from my iPhone app."},
		{"sign-off with signature block", "Fine.\n\nBest regards,\nJane Doe\nIETF Liaison Manager\n+1 555 0100", "Fine."},
		{"sign-off with a name stays", "Fine.\n\nThanks,\nJane", "Fine.\n\nThanks,\nJane"},
		{"regards in a sentence stays", "With regards to the payment.\n\nMore text here.", "With regards to the payment.\n\nMore text here."},
		{"bottom post", "On 4 Mar 2024, Alice <a@b.example> wrote:\n> question?\n\nanswer", "answer"},
		{"inline answers", "On 4 Mar 2024, Alice <a@b.example> wrote:\n> q1\n\na1\n\n> q2\n\na2\n\n-- \nsig", "a1\n\na2"},
		{"bottom post drops wrapped quote lines", "On 4 Mar 2024, Alice <a@b.example> wrote:\n> " + strings.Repeat("word ", 14) + "\nwrapped rest\n> short\nanswer", "answer"},
		{"only quotes", "> a\n> b", ""},
		{"greeting then bottom post", "Hi,\nOn 4 Mar 2024, Alice <a@b.example> wrote:\n> q\n\nanswer", "Hi,\n\nanswer"},
		{"a command with a comma is no greeting", "close,\nOn 4 Mar 2024, Alice <a@b.example> wrote:\n> q\n\nreopen", "close,"},
		{"two lines above a quote are the reply", "Hi,\nclose\nOn 4 Mar 2024, Alice <a@b.example> wrote:\n> q\n\nreopen", "Hi,\nclose"},
		{"top text keeps only the top", "close\n\nOn 4 Mar 2024, A <a@b.example> wrote:\n> x\nreopen", "close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StripReply(tt.in)
			if got != tt.want {
				t.Errorf("StripReply(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkStripped(t, tt.in, got)
			if again := StripReply(got); again != got {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestStripReplyHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"gmail", `<div dir="ltr">Yes.</div><div class="gmail_quote">On Mon, A wrote:<blockquote>close</blockquote></div>`, "Yes."},
		{"thunderbird", `Yes.<br><div class="moz-cite-prefix">On 4.3.2024, A wrote:</div><blockquote type="cite">close</blockquote>`, "Yes."},
		{"yahoo", `<div>Yes.</div><div class="yahoo_quoted"><div>close</div></div>`, "Yes."},
		{"outlook web", `<div>Yes.</div><div id="divRplyFwdMsg"><b>From:</b> x</div><div>close</div>`, "Yes."},
		{"outlook desktop separator", `<p>Yes.</p><div style="border:none; border-top:solid #E1E1E1 1.0pt"><p><b>From:</b> x</p></div><p>close</p>`, "Yes."},
		{"outlook 2003 header in text", `<p>Yes.</p><hr><p><b>From:</b> A [mailto:a@b.example]<br><b>Sent:</b> Monday<br><b>To:</b> c<br><b>Subject:</b> x</p><p>close</p>`, "Yes."},
		{"no quote", `<p>Just <b>this</b>.</p>`, "Just this."},
		{"quote marks in html text", `<p>Yes.</p><p>&gt; quoted</p>`, "Yes."},
		{"blockquote alone", `<blockquote>close</blockquote>`, ""},
		{"blockquote without attribution", `<div>reply</div><div>Our text.</div><blockquote type="cite"><div>Reply-To: ls+7.abcdefghijklmnop@x</div></blockquote>`, "reply\nOur text."},
		{"bottom posted below blockquote", `<div class="moz-cite-prefix">On 1.1.2024, A wrote:</div><blockquote type="cite">close</blockquote><p>status Fine</p>`, "status Fine"},
		{"greeting then answer below", `<p>Hi,</p><blockquote>close</blockquote><p>note Fine</p>`, "Hi,\n\nnote Fine"},
		{"text between two quotes is dropped when text is above", `<p>note A</p><blockquote>x</blockquote><p>reopen</p>`, "note A"},
		{"outlook web forwarded classes", `<div>Yes.</div><div class="x_gmail_quote">close</div>`, "Yes."},
		{"outlook separator with a header field, other borders", `<p>Yes.</p><div style="border-top: solid #B5C4DF 1pt; padding: 3pt"><p><b>Von:</b> x</p></div><p>close</p>`, "Yes."},
		{"a top border without a header field is kept", `<div style="border-top:solid red 1px">Yes.</div><p>More.</p>`, "Yes.\n\nMore."},
		{"yahoo ydp", `<div>Yes.</div><div class="ydp1234yahoo_quoted yahoo_quoted">close</div>`, "Yes."},
		{"word paragraphs are lines", `<p class=MsoNormal>close<o:p></o:p></p><p class=MsoNormal>Done.<o:p></o:p></p>`, "close\nDone."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripReplyHTML(tt.in); got != tt.want {
				t.Errorf("StripReplyHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestStripReplyQuotedCommands: a command line inside quoted text, or in an
// original below a quote header or separator, never reaches the output, for
// every combination of new text, header shape and command.
func TestStripReplyQuotedCommands(t *testing.T) {
	tops := []string{"", "Hi,\n", "close,\n", "Thanks.\n", "close\n", "reply\nOur answer.\n\n", "Fine.\n\nSent from my iPhone\n"}
	headers := []string{
		"On Mon, Mar 4, 2024 at 10:12 AM Alice <alice@example.org> wrote:\n",
		"On Mon, Mar 4, 2024 at 10:12 AM Alice <\nalice@example.org> wrote:\n",
		"Le lun. 4 mars 2024 à 10:12, Alice <alice@example.org> a écrit :\n",
		"Am Mo., 4. März 2024 um 10:12 Uhr schrieb Alice <alice@example.org>:\n",
		"From: Alice <alice@example.org>\nSent: Monday, March 4, 2024 10:12 AM\nTo: b@example.org\nSubject: LS-42\n\n",
		"De : Alice <alice@example.org>\nEnvoyé : lundi 4 mars 2024 10:12\nÀ : b@example.org\nObjet : LS-42\n\n",
		"Von: Alice <alice@example.org>\nGesendet: Montag, 4. März 2024 10:12\nAn: b@example.org\nBetreff: LS-42\n\n",
		"________________________________\nFrom: Alice <alice@example.org>\nSent: Monday\nTo: b@example.org\nSubject: LS-42\n\n",
		"-----Original Message-----\n",
		"---------- Forwarded message ---------\n",
		"-- \n",
	}
	commands := []string{"close superseded", "reopen again", "reply now", "LS-42 close x", "reassign x@example.org"}
	for _, top := range tops {
		for _, h := range headers {
			for _, c := range commands {
				for _, quoted := range []bool{false, true} {
					body := c + "\nOriginal text.\n"
					if quoted {
						body = "> " + c + "\n> Original text.\n"
					}
					in := top + h + body
					out := StripReply(in)
					if slices.Contains(strings.Split(out, "\n"), c) {
						t.Errorf("command %q from the quoted part in the output:\n--- in\n%s--- out\n%s", c, in, out)
					}
				}
			}
		}
	}
}

// BenchmarkStripReply strips every corpus reply (text through StripReply,
// HTML through StripReplyHTML) per iteration and prints the throughput, the
// allocations and the per-reply latency percentiles.
func BenchmarkStripReply(b *testing.B) {
	type input struct {
		s    string
		html bool
	}
	var in []input
	total := 0
	for _, f := range replyFixtureFiles(b) {
		buf, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		in = append(in, input{string(buf), strings.HasSuffix(f, ".html")})
		total += len(buf)
	}
	strip := func(x input) string {
		if x.html {
			return StripReplyHTML(x.s)
		}
		return StripReply(x.s)
	}
	// Latency of each reply, from one pass outside the timed loop.
	var lat []time.Duration
	for _, x := range in {
		t0 := time.Now()
		strip(x)
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, x := range in {
			strip(x)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(in)), "replies/op")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs/reply")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs/reply")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs/reply")
}

// TestStripReplyOnHTMLText: HTML-only replies reach the command parser as
// Message.Text, converted by htmlToText without the HTML quote markers; the
// text-level rules must still find the quote headers. The talon HTML replies
// must give the same text as through StripReplyHTML.
func TestStripReplyOnHTMLText(t *testing.T) {
	files, err := filepath.Glob("testdata/replies/talon/html_replies/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no talon HTML fixtures: %v", err)
	}
	noSpace := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := StripReply(htmlToText(string(b)))
		if noSpace(got) != noSpace("Hi. I am fine.\n\nThanks,\nAlex") {
			t.Errorf("%s: text path gave %q", filepath.Base(f), got)
		}
		if viaHTML := StripReplyHTML(string(b)); noSpace(viaHTML) != noSpace(got) {
			t.Errorf("%s: StripReplyHTML %q, text path %q", filepath.Base(f), viaHTML, got)
		}
	}
}

// TestStripReplyAttributionForms: the attribution forms of issue 10, each
// above a quote holding a command, and look-alikes that are new text.
func TestStripReplyAttributionForms(t *testing.T) {
	const quote = "\n> close\n> more\n"
	tests := []struct{ name, in, want string }{
		{"german date first", "ok\n\nAm Fr., 28. Apr. 2017 um 11:53 Uhr schrieb A <a@b.example>:" + quote, "ok"},
		{"german name first", "ok\n\nA <a@b.example> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:" + quote, "ok"},
		{"german name first wrapped", "ok\n\nA <a@b.example> schrieb am\nFr., 28. Apr. 2017 um 11:53 Uhr:" + quote, "ok"},
		{"russian pishet", "ok\n\n28.04.2017 11:53, A пишет:" + quote, "ok"},
		{"ukrainian pyshe", "ok\n\nA <a@b.example> пише:" + quote, "ok"},
		{"chinese traditional", "ok\n\nA <a@b.example> 於 2017年4月28日 週五 上午11:53寫道：" + quote, "ok"},
		{"numeric date no colon", "ok\n\n2016/7/20 A <a@b.example>" + quote, "ok"},
		{"iso date gmt", "ok\n\n2016-03-03 17:21 GMT+01:00 A <a@b.example>:" + quote, "ok"},
		{"pipe quote", "ok\n| close\n| more", "ok"},
		{"pipe quote empty line", "ok\n|\n| close", "ok"},
		{"mailto split over three lines", "ok\n\nOn Fri, Apr 28, 2017 at 11:53 AM, A\n< mailto:a@b.example>\nwrote:" + quote, "ok"},
		{"tracking character", "ok\n\u1427\n\nA\nCCAMP chair", "ok"},
		{"numeric date and address without quote stay", "Met on 2027/1/20 A <a@b.example>\nmore", "Met on 2027/1/20 A <a@b.example>\nmore"},
		{"numeric date line without quote below", "ok\n2016/7/20 A <a@b.example>\nnext", "ok\n2016/7/20 A <a@b.example>\nnext"},
		{"plain-text table stays", "ok\n| a | b |\n| 1 | 2 |", "ok\n| a | b |\n| 1 | 2 |"},
		{"a colon and a digit is not an attribution", "Agenda for 28 April:\n1. intro", "Agenda for 28 April:\n1. intro"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripReply(tt.in); got != tt.want {
				t.Errorf("StripReply(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}
