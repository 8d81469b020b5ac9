package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"liaisond/directory"
	"liaisond/store"
	"liaisond/templates"
	"liaisond/token"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func demo(t testing.TB) *directory.Directory {
	t.Helper()
	d, err := directory.Parse(directory.Demo, "demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNotificationRecipients(t *testing.T) {
	dir := demo(t)
	tests := []struct {
		name   string
		st     store.Statement
		to     string
		cc     []string
		noList bool
	}{
		{
			name: "wg from a known SDO",
			st: store.Statement{From: store.BodyRef{ID: "itu-t-sg15"}, To: []store.BodyRef{{ID: "ccamp"}}, Assignee: "alice@ccamp.example",
				TechnicalContacts: []store.Contact{{Addr: "expert@vendor.example"}}, Cc: []store.Contact{{Addr: "x@ietf.example"}}},
			to: "alice@ccamp.example",
			cc: []string{"expert@vendor.example", "carol@ietf.example", "rick@ietf.example", "dan@lm.example", "ccamp@ietf.example",
				"statements@ietf.example", "bob@ccamp.example", "x@ietf.example"},
		},
		{
			name: "area: supervisor is the IETF chair",
			st:   store.Statement{From: store.BodyRef{Name: "Unknown SDO"}, To: []store.BodyRef{{ID: "ops"}}, Assignee: "olivia@ietf.example"},
			to:   "olivia@ietf.example",
			cc:   []string{"chair@ietf.example", "ops-ads@ietf.example", "statements@ietf.example", "oscar@ietf.example"},
		},
		{
			name: "two wgs: both chairs' sets, each once",
			st: store.Statement{From: store.BodyRef{ID: "3gpp-sa2"}, To: []store.BodyRef{{ID: "ccamp"}, {ID: "mpls"}}, Assignee: "alice@ccamp.example",
				TechnicalContacts: []store.Contact{{Addr: "alice@ccamp.example"}}},
			to: "alice@ccamp.example",
			cc: []string{"carol@ietf.example", "rick@ietf.example", "frank@lm.example", "ccamp@ietf.example", "mpls@ietf.example",
				"statements@ietf.example", "bob@ccamp.example", "mike@mpls.example", "mary@mpls.example"},
		},
		{
			name: "no known IETF body: the secretariat alone",
			st:   store.Statement{From: store.BodyRef{ID: "bbf"}, To: []store.BodyRef{{Name: "Nobody"}}, Assignee: "statements@ietf.example"},
			to:   "statements@ietf.example",
			cc:   []string{"bbf-lm@lm.example"},
		},
		{
			name:   "tickler form: no alias",
			st:     store.Statement{From: store.BodyRef{ID: "itu-t-sg15"}, To: []store.BodyRef{{ID: "ccamp"}}, Assignee: "alice@ccamp.example"},
			to:     "alice@ccamp.example",
			cc:     []string{"carol@ietf.example", "rick@ietf.example", "dan@lm.example", "statements@ietf.example", "bob@ccamp.example"},
			noList: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.st.From.ID == "bbf" {
				tt.cc = []string{dir.Body("bbf").LiaisonManagers[0].Addr}
			}
			to, cc := NotificationRecipients(dir, &tt.st, !tt.noList)
			if len(to) != 1 || to[0].addr != tt.to {
				t.Errorf("To = %v, want %s", to, tt.to)
			}
			var got []string
			for _, r := range cc {
				got = append(got, r.addr)
				isList := r.addr == "ccamp@ietf.example" || r.addr == "mpls@ietf.example" || r.addr == "ops-ads@ietf.example"
				if r.list != isList {
					t.Errorf("%s: list flag %v, want %v", r.addr, r.list, isList)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.cc, " ") {
				t.Errorf("Cc =\n  %v\nwant\n  %v", got, tt.cc)
			}
		})
	}
}

func newTestStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newComposer(t testing.TB) *Composer {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	dir := demo(t)
	return &Composer{
		Config: Config{Domain: "liaison.example", From: mail.Address{Name: "LSM", Address: "statements@liaison.example"},
			PublicURL: "https://liaison.example/", TokenPrefix: "ls", CommandsLocal: "commands", ReplyMargin: 7 * 24 * time.Hour},
		Keys: token.NewKeys(1, []byte("0123456789abcdef")), Templates: tmpl,
		Directory: func() *directory.Directory { return dir }, Now: func() time.Time { return t0 },
	}
}

// TestComposeNotification checks the rendered mails: headers, personal
// Reply-To per copy, and what the notification says.
func TestComposeNotification(t *testing.T) {
	s := newTestStore(t)
	c := newComposer(t)
	ctx := context.Background()
	st := &store.Statement{Direction: store.Incoming, State: store.StateOpen, From: store.BodyRef{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"},
		To: []store.BodyRef{{ID: "ccamp", Name: "IETF CCAMP Working Group"}}, Title: "OTN — control", Purpose: "action", Deadline: "2027-01-31",
		Submitter: "rapp@itu.example", Assignee: "alice@ccamp.example", ReceivedAt: t0, Body: "Dear colleagues", ThreadID: "orig@itu.example",
		ResponseContacts: []store.Contact{{Addr: "rapp@itu.example"}},
		Attachments:      []store.Attachment{{Name: "LS 123.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}}}
	err := s.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertStatement(st); err != nil {
			return err
		}
		ev := &store.Event{StatementID: st.ID, At: t0, Type: store.EventSubmitted, Data: []byte(`{"warnings":["a warning"]}`)}
		if err := tx.InsertEvent(ev); err != nil {
			return err
		}
		return c.Compose(ctx, tx, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows []*store.OutboxMail
	s.View(ctx, func(tx *store.Tx) error {
		rows, _ = tx.Outbox(store.OutboxFilter{})
		for _, r := range rows {
			full, _ := tx.OutboxMail(r.ID)
			r.Raw = full.Raw
		}
		return nil
	})
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.Kind]++
		m, err := mail.ReadMessage(strings.NewReader(string(r.Raw)))
		if err != nil {
			t.Fatalf("%s to %s does not parse: %v", r.Kind, r.Rcpt, err)
		}
		h := m.Header
		if h.Get("X-Liaisond-Loop") != "liaison.example" || h.Get("In-Reply-To") != "<orig@itu.example>" || h.Get("Message-Id") != "<"+r.MessageID+">" {
			t.Errorf("%s headers: %v", r.Kind, h)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		body, _ := io.ReadAll(m.Body)
		text := decodeQP(string(body))
		switch r.Kind {
		case "notification":
			if subj != "[LS-1] New liaison statement: OTN — control" || h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("notification subject %q, Auto-Submitted %q", subj, h.Get("Auto-Submitted"))
			}
			for _, want := range []string{"Deadline:   2027-01-31", "Reply by:   2027-01-24", "https://liaison.example/ls/1",
				"https://liaison.example/ls/1/att/1/LS%20123.pdf", "Dear colleagues", "For Action"} {
				if !strings.Contains(text, want) {
					t.Errorf("notification to %s lacks %q:\n%s", r.Rcpt, want, text)
				}
			}
		case "receipt":
			if h.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(text, "a warning") {
				t.Errorf("receipt: %v\n%s", h, text)
			}
		}
		rt, _ := mail.ParseAddress(h.Get("Reply-To"))
		if r.Rcpt == "ccamp@ietf.example" {
			if rt.Address != "commands@liaison.example" {
				t.Errorf("alias Reply-To = %s", rt.Address)
			}
			continue
		}
		local, _, _ := strings.Cut(rt.Address, "@")
		id, tok, ok := token.ParseAddress("ls", local)
		if !ok || id != 1 || !c.Keys.Verify(1, r.Rcpt, tok) {
			t.Errorf("%s to %s: Reply-To %s does not verify", r.Kind, r.Rcpt, rt.Address)
		}
	}
	if kinds["notification"] != 7 || kinds["receipt"] != 1 {
		t.Errorf("kinds = %v, want 7 notifications, 1 receipt", kinds)
	}
}

// fakeTransport answers from a script of errors, one per call.
type fakeTransport struct {
	mu     sync.Mutex
	script []error
	sent   []string
}

func (f *fakeTransport) Send(ctx context.Context, m *store.OutboxMail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if len(f.script) > 0 {
		err, f.script = f.script[0], f.script[1:]
	}
	if err == nil {
		f.sent = append(f.sent, m.Rcpt)
	}
	return err
}
func (f *fakeTransport) Idle() {}

func TestSenderRetries(t *testing.T) {
	tests := []struct {
		name      string
		script    []error
		wantState string
		wantSent  int
		wantEvent bool
	}{
		{"delivered", nil, store.OutboxSent, 1, false},
		{"451 then success", []error{&DeliveryError{Temporary: true, Code: 451, Err: errors.New("451 try later")}}, store.OutboxSent, 1, false},
		{"550 is permanent", []error{&DeliveryError{Code: 550, Err: errors.New("550 no such user")}}, store.OutboxFailed, 0, true},
		{"network error is temporary", []error{errors.New("connection refused"), errors.New("connection refused")}, store.OutboxSent, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			ctx := context.Background()
			now := t0
			var stID int64
			s.Update(ctx, func(tx *store.Tx) error {
				st := &store.Statement{Direction: "incoming", State: "open", Title: "x", Purpose: "information", Submitter: "a", Assignee: "a", ReceivedAt: t0}
				tx.InsertStatement(st)
				stID = st.ID
				return tx.InsertOutbox(&store.OutboxMail{StatementID: st.ID, Kind: "notification", EnvelopeFrom: "s@d", Rcpt: "r@x", From: "s@d",
					Subject: "s", MessageID: "m@d", Raw: []byte("x"), CreatedAt: t0})
			})
			ft := &fakeTransport{script: tt.script}
			snd := &Sender{Store: s, Transport: ft, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
				RetryMin: time.Minute, RetryMax: time.Hour}
			for i := 0; i < 5; i++ {
				if _, err := snd.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				now = now.Add(2 * time.Minute) // past any backoff so far
			}
			var m *store.OutboxMail
			var evs []store.Event
			s.View(ctx, func(tx *store.Tx) error {
				m, _ = tx.OutboxMail(1)
				evs, _ = tx.Events(stID)
				return nil
			})
			if m.State != tt.wantState || len(ft.sent) != tt.wantSent {
				t.Errorf("state %s, sent %d; want %s, %d", m.State, len(ft.sent), tt.wantState, tt.wantSent)
			}
			if got := len(evs) > 0 && evs[0].Type == store.EventDeliveryFailed; got != tt.wantEvent {
				t.Errorf("delivery-failed event = %v, want %v (%v)", got, tt.wantEvent, evs)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s := &Sender{RetryMin: time.Minute, RetryMax: time.Hour}
	for attempt, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 10: time.Hour, 50: time.Hour} {
		for i := 0; i < 20; i++ {
			got := s.backoff(attempt)
			if got < want*8/10 || got > want*12/10 {
				t.Errorf("backoff(%d) = %v, want %v ±20%%", attempt, got, want)
			}
		}
	}
}

// failingBackend is a go-smtp server that answers RCPT for some addresses with a fixed error.
type failingBackend struct {
	mu       sync.Mutex
	rcptErr  map[string]*smtp.SMTPError
	received []string
}

func (b *failingBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &failingSession{b: b}, nil
}

type failingSession struct {
	b    *failingBackend
	rcpt []string
}

func (s *failingSession) Reset()                               { s.rcpt = nil }
func (s *failingSession) Logout() error                        { return nil }
func (s *failingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *failingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if e := s.b.rcptErr[to]; e != nil {
		return e
	}
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *failingSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	s.b.mu.Lock()
	s.b.received = append(s.b.received, s.rcpt...)
	s.b.mu.Unlock()
	return nil
}

func TestSMTPTransportCodes(t *testing.T) {
	be := &failingBackend{rcptErr: map[string]*smtp.SMTPError{
		"busy@x.example": {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "try later"},
		"gone@x.example": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
	}}
	srv := smtp.NewServer(be)
	srv.Domain = "sink.example"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &SMTPTransport{Addr: ln.Addr().String(), TLS: "none", Timeout: 10 * time.Second}
	defer tr.Idle()
	send := func(rcpt string) error {
		return tr.Send(context.Background(), &store.OutboxMail{EnvelopeFrom: "s@liaison.example", Rcpt: rcpt, Raw: []byte("Subject: x\r\n\r\nhi\r\n")})
	}
	// Several mails over one kept connection, with failures between them.
	for _, tt := range []struct {
		rcpt     string
		ok, temp bool
		code     int
	}{{"a@x.example", true, false, 0}, {"busy@x.example", false, true, 451}, {"b@x.example", true, false, 0},
		{"gone@x.example", false, false, 550}, {"c@x.example", true, false, 0}} {
		err := send(tt.rcpt)
		var de *DeliveryError
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.rcpt, err)
			}
			continue
		}
		if !errors.As(err, &de) || de.Temporary != tt.temp || de.Code != tt.code {
			t.Errorf("%s: %v, want code %d temporary %v", tt.rcpt, err, tt.code, tt.temp)
		}
	}
	if strings.Join(be.received, " ") != "a@x.example b@x.example c@x.example" {
		t.Errorf("received %v", be.received)
	}
	// Nobody listening: temporary.
	down := &SMTPTransport{Addr: "127.0.0.1:1", TLS: "none", Timeout: time.Second}
	var de *DeliveryError
	if err := down.Send(context.Background(), &store.OutboxMail{Rcpt: "a@x.example"}); !errors.As(err, &de) || !de.Temporary {
		t.Errorf("server down: %v", err)
	}
}

func decodeQP(s string) string {
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s)))
	if err != nil {
		return s
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// TestTransferEncoding: ASCII text in short lines goes as it is (7bit);
// anything else as quoted-printable; both read back as the text.
func TestTransferEncoding(t *testing.T) {
	long := strings.Repeat("x", 999)
	for _, tc := range []struct {
		text, cte, want string // want: the text read back, when not text
	}{
		{"Dear colleagues,\nplain text.\n", "7bit", ""},
		{"Grüße aus Genf\n", "quoted-printable", ""},
		{long + "\n", "quoted-printable", ""},
		{strings.Repeat("y", 998) + "\n", "7bit", ""},
		{"a\x00b\n", "quoted-printable", ""},
		{"bare\rCR\n", "quoted-printable", "bare\nCR\n"}, // as before: a CR alone ends a line
	} {
		if tc.want == "" {
			tc.want = tc.text
		}
		c := newComposer(t)
		row, err := c.render(1, 1, outgoing{kind: "notification", rcpt: "alice@ccamp.example", to: []recipient{{addr: "alice@ccamp.example"}},
			subject: "s", body: tc.text})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(row.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get("Content-Transfer-Encoding"); got != tc.cte {
			t.Errorf("%.20q: Content-Transfer-Encoding %s, want %s", tc.text, got, tc.cte)
		}
		var r io.Reader = m.Body
		if tc.cte == "quoted-printable" {
			r = quotedprintable.NewReader(m.Body)
		}
		body, _ := io.ReadAll(r)
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != tc.want {
			t.Errorf("%.20q: read back as %.40q", tc.text, got)
		}
	}
}
