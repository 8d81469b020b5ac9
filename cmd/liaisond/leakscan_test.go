package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"liaisond/store"
	"liaisond/token"
)

// anyToken is the shape of a personal reply address with its token: no
// public output may carry one (DESIGN 7).
var anyToken = regexp.MustCompile(`(?i)[a-z0-9_-]+(?:\+|&#43;|%2b)\d+\.[a-z2-7]{16}`)

// tokenWord finds what may be a bare token in any text: looked up in the
// tokens issued, so ordinary 16-letter words do not count.
var tokenWord = regexp.MustCompile(`(?i)\b[a-z2-7]{16}\b`)

// foreignTokens returns the issued tokens in text that do not belong to rcpt
// ("" for public text: none belongs).
func foreignTokens(text, rcpt string, tokens map[string]issuedToken) []issuedToken {
	var out []issuedToken
	for _, w := range tokenWord.FindAllString(text, -1) {
		if owner, ok := tokens[strings.ToLower(w)]; ok && owner.rcpt != rcpt {
			out = append(out, owner)
		}
	}
	return out
}

// issuedToken is one token liaisond put in a mail: it belongs to rcpt.
type issuedToken struct {
	statement int64
	rcpt      string
}

// assertNoTokenLeaks collects every public output of a running daemon (its
// pages, the API, the Atom feed and the calendar, for every statement) and
// every mail it queued, and fails the test if a token shows up where it
// does not belong: anywhere public, or in a mail to anyone but the token's
// own recipient. startDaemon runs it when each test ends; tests may call it
// at any point too.
func (d *daemon) assertNoTokenLeaks(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(d.dir, "data", "liaisond.db"))
	if err != nil {
		t.Errorf("token scan: %v", err)
		return
	}
	defer st.Close()
	type mailOut struct {
		rcpt, kind string
		text       string
	}
	var mails []mailOut
	tokens := map[string]issuedToken{}
	var maxID int64
	err = st.View(ctx, func(tx *store.Tx) error {
		rows, err := tx.Outbox(store.OutboxFilter{})
		if err != nil {
			return err
		}
		for _, r := range rows {
			m, err := tx.OutboxMail(r.ID)
			if err != nil {
				return err
			}
			text, replyTo := mailText(string(m.Raw))
			local, _, _ := strings.Cut(replyTo, "@")
			if id, tok, ok := token.ParseAddress("ls", local); ok {
				tokens[strings.ToLower(tok)] = issuedToken{id, strings.ToLower(m.Rcpt)}
			}
			mails = append(mails, mailOut{strings.ToLower(m.Rcpt), m.Kind, text})
		}
		maxID, err = tx.MaxStatementID()
		return err
	})
	if err != nil {
		t.Errorf("token scan: %v", err)
		return
	}
	for _, m := range mails {
		for _, owner := range foreignTokens(m.text, m.rcpt, tokens) {
			t.Errorf("token leak: a %s mail to %s carries the token of %s for LS-%d", m.kind, m.rcpt, owner.rcpt, owner.statement)
		}
	}
	if d.cancel == nil {
		return // stopped: no web to look at
	}
	paths := []string{"/", "/outstanding", "/archive", "/feed.atom", "/deadlines.ics",
		"/api/statements?limit=500", "/api/statements?limit=500&state=closed"}
	for id := int64(1); id <= min(maxID, 200); id++ {
		paths = append(paths, fmt.Sprintf("/ls/%d", id), fmt.Sprintf("/api/statements/%d", id))
	}
	for _, p := range paths {
		resp, err := http.Get("http://" + d.httpAddr + p)
		if err != nil {
			t.Errorf("token scan: GET %s: %v", p, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := anyToken.FindString(string(body)); m != "" {
			t.Errorf("token leak: GET %s shows %q", p, m)
		}
		for _, owner := range foreignTokens(string(body), "", tokens) {
			t.Errorf("token leak: GET %s shows the token of %s for LS-%d", p, owner.rcpt, owner.statement)
		}
	}
}

// mailText returns a mail's header values and decoded text, and its
// Reply-To address.
func mailText(raw string) (text, replyTo string) {
	m, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return raw, ""
	}
	var b strings.Builder
	dec := new(mime.WordDecoder)
	for name, vs := range m.Header {
		for _, v := range vs {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	rest, _ := io.ReadAll(body)
	b.Write(rest)
	if as, err := m.Header.AddressList("Reply-To"); err == nil && len(as) > 0 {
		replyTo = as[0].Address
	}
	return b.String(), replyTo
}
