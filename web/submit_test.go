package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"liaisond/store"
	"liaisond/templates"
)

func TestSubmitCheck(t *testing.T) {
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var checked []string
	h, err := New(Options{Store: s, Now: func() time.Time { return now }, PublicURL: "https://ls.example/", Templates: templates.Web(),
		SubmitAddress: "statements@ls.example",
		CheckSubmission: func(text, subject string) SubmitCheck {
			checked = append(checked, text)
			return SubmitCheck{Direction: "incoming", Problems: []string{`Deadline: "soon" is not a date <b>`},
				Fields: []SubmitField{{Name: "To", Value: "IETF CCAMP Working Group", BodyID: "ccamp"}}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/submit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /submit: %s", resp.Status)
	}
	post := func(form url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/submit", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"a draft is read and its problems named, escaped", url.Values{"draft": {"From: SG15\r\nDeadline: soon\r\n\r\nText"}}, 200,
			[]string{`Deadline: &#34;soon&#34; is not a date &lt;b&gt;`, `<a href="/?body=ccamp">IETF CCAMP Working Group</a>`, "From: SG15\nDeadline: soon"}},
		{"too large", url.Values{"draft": {strings.Repeat("x", maxDraftBytes+1)}}, 413, []string{"too long to check"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.form)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %q", w)
				}
			}
		})
	}
	if len(checked) != 1 || strings.Contains(checked[0], "\r") {
		t.Errorf("checked %d drafts (%q), want the one that fit, with LF line ends", len(checked), checked)
	}
	// One client gets checksPerWindow checks in a window, then 429.
	var last int
	for i := 0; i < checksPerWindow; i++ {
		last, _ = post(url.Values{"draft": {"x"}})
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("check %d of a window: %d, want 429", checksPerWindow+2, last)
	}
}
