package parse

import (
	"strings"
	"testing"
)

// TestReplyText: which part of a reply the commands are read from, and that
// an HTML quote never survives whichever it is.
func TestReplyText(t *testing.T) {
	const quotedHTML = `<div>status Fine</div><blockquote type="cite"><div>Reply-To: ls+7.abcdefghijklmnop@liaison.example</div><div>close</div></blockquote>`
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"HTML only", Message{Text: htmlToText(quotedHTML), TextFromHTML: true, HTML: quotedHTML}, "status Fine"},
		{"empty text alternative", Message{Text: " \n", HTML: quotedHTML}, "status Fine"},
		{"text alternative with > quotes", Message{Text: "status Fine\n\n> Reply-To: ls+7.abcdefghijklmnop@liaison.example\n> close\n", HTML: quotedHTML}, "status Fine"},
		{"text alternative that dropped the quote marks", Message{Text: "status Fine\nReply-To: ls+7.abcdefghijklmnop@liaison.example\nclose\n", HTML: quotedHTML}, "status Fine"},
		{"text alternative and HTML without quotes: the text", Message{Text: "status Fine\nsecond line\n", HTML: "<p>status Fine</p><p>second line</p>"}, "status Fine\nsecond line"},
		{"text only", Message{Text: "close\n\n> reopen\n"}, "close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReplyText(&tt.m)
			if got != tt.want {
				t.Errorf("ReplyText = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "ls+7.") {
				t.Errorf("the quoted token address came through: %q", got)
			}
		})
	}
}
