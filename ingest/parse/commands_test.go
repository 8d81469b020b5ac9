package parse

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		needRef bool
		want    []string // name:arg, "?" prefix for unknown
		reply   string
		rest    string
	}{
		{"one", "close done\n", false, []string{"close:done"}, "", ""},
		{"case and colon", "CLOSE: done", false, []string{"close:done"}, "", ""},
		{"several, blank lines between", "\n\ndeadline 2027-03-01\n\nstatus drafting\nThanks all", false,
			[]string{"deadline:2027-03-01", "status:drafting"}, "", "Thanks all"},
		{"reply takes the rest", "reply\nDear SG15,\n\nclose\nregards", false, []string{"reply:"}, "Dear SG15,\n\nclose\nregards", ""},
		{"text first: no commands", "Thanks, close this please\nclose", false, nil, "", "Thanks, close this please\nclose"},
		{"courtesy word is text", "Thanks\nclose", false, nil, "", "Thanks\nclose"},
		{"misspelt command", "clsoe", false, []string{"?clsoe:"}, "", ""},
		{"unrelated word is text", "Colleagues", false, nil, "", "Colleagues"},
		{"commands@ needs the reference", "close", true, nil, "", "close"},
		{"help needs none", "Help", true, []string{"help:"}, "", ""},
		{"commands@ with references", "LS-42 close superseded\n[LS-7] note hello\nLS 9 reopen", true,
			[]string{"42 close:superseded", "7 note:hello", "9 reopen:"}, "", ""},
		{"reference with unknown command", "LS-42 frobnicate now", true, []string{"?42 frobnicate:now"}, "", ""},
		{"link at commands@", "LS-42 link LS-17", true, []string{"42 link:LS-17"}, "", ""},
		{"link as a reply line", "link LS-17\nThanks", false, []string{"link:LS-17"}, "", "Thanks"},
		{"reference-looking prose", "LSA-1 is fine", true, nil, "", "LSA-1 is fine"},
		{"empty", "", false, nil, "", ""},
		{"CRLF", "close\r\n", false, []string{"close:"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseCommands(tc.text, tc.needRef)
			var names []string
			for _, c := range got.List {
				s := c.Name + ":" + c.Arg
				if c.Ref != 0 {
					s = fmt.Sprint(c.Ref) + " " + s
				}
				if !c.Known {
					s = "?" + s
				}
				names = append(names, s)
			}
			if strings.Join(names, "|") != strings.Join(tc.want, "|") {
				t.Errorf("commands = %q, want %q", names, tc.want)
			}
			if got.ReplyText != tc.reply {
				t.Errorf("reply text = %q, want %q", got.ReplyText, tc.reply)
			}
			if got.Rest != tc.rest {
				t.Errorf("rest = %q, want %q", got.Rest, tc.rest)
			}
		})
	}
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"close\n", "reply\nx", "LS-1 close\nLS-2 note x", "clsoe", "\n\nstatus a\nb", "[LS-99999999999999999999] x"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, needRef bool) {
		got := ParseCommands(text, needRef)
		for _, c := range got.List {
			if c.Ref < 0 || (needRef && c.Ref == 0 && c.Name != CmdHelp) {
				t.Errorf("ref %d (needRef %v) from %q", c.Ref, needRef, c.Line)
			}
			if c.Known {
				if _, ok := knownCommands[c.Name]; !ok {
					t.Errorf("known command %q", c.Name)
				}
			}
			if !strings.Contains(text, c.Line) {
				t.Errorf("line %q not in the input", c.Line)
			}
		}
		if len(got.ReplyText) > len(text) || len(got.Rest) > len(text) {
			t.Errorf("output longer than input")
		}
	})
}

func TestTrustedAuth(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		from    string
		want    bool
	}{
		{"dkim pass aligned", []string{"mx.example; dkim=pass header.d=ccamp.example"}, "a@ccamp.example", true},
		{"dkim pass parent domain", []string{"mx.example; dkim=pass header.d=ccamp.example"}, "a@mail.ccamp.example", true},
		{"dkim pass other domain", []string{"mx.example; dkim=pass header.d=evil.example"}, "a@ccamp.example", false},
		{"dmarc pass", []string{"mx.example; spf=fail; dmarc=pass header.from=ccamp.example"}, "a@ccamp.example", true},
		{"dkim fail", []string{"mx.example; dkim=fail header.d=ccamp.example"}, "a@ccamp.example", false},
		{"other authserv-id", []string{"evil.example; dkim=pass header.d=ccamp.example"}, "a@ccamp.example", false},
		{"forged below the real one", []string{"mx.example; dkim=none", "mx.example; dkim=pass header.d=ccamp.example"}, "a@ccamp.example", false},
		{"a bare TLD aligns nothing", []string{"mx.example; dkim=pass header.d=example"}, "a@ccamp.example", false},
		{"suffix is not alignment", []string{"mx.example; dkim=pass header.d=camp.example"}, "a@ccamp.example", false},
		{"none", nil, "a@ccamp.example", false},
	}
	for _, tc := range tests {
		h := mail.Header{}
		if tc.headers != nil {
			h["Authentication-Results"] = tc.headers
		}
		got, why := TrustedAuth(h, "mx.example", tc.from)
		if got != tc.want {
			t.Errorf("%s: TrustedAuth = %v (%s), want %v", tc.name, got, why, tc.want)
		}
	}
	if ok, _ := TrustedAuth(mail.Header{"Authentication-Results": {"mx.example; dkim=pass header.d=a.example"}}, "", "x@a.example"); ok {
		t.Error("trusted with no authserv-id configured")
	}
}

func TestParseDSN(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example\r\nMessage-ID: <dsn@liaison.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nOriginal-Recipient: rfc822;orig@x.example\r\nFinal-Recipient: rfc822; <Bob@X.example>\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 mailbox full\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <notification.abc@liaison.example>\r\nSubject: x\r\n\r\nbody\r\n--b--\r\n"
	d := ParseDSN([]byte(raw), "liaison.example", "dsn@liaison.example")
	if len(d.MessageIDs) != 1 || d.MessageIDs[0] != "notification.abc@liaison.example" {
		t.Errorf("message ids = %v", d.MessageIDs)
	}
	if d.Recipient != "bob@x.example" || d.Action != "failed" || d.Status != "5.2.2" || !strings.Contains(d.Diagnostic, "mailbox full") {
		t.Errorf("dsn = %+v", d)
	}
}
