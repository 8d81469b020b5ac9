package main

// The attacks of issue 9 on the trust model (DESIGN 3, 5, 6, 7), each tried
// as an attacker would: mail over SMTP to `liaisond serve` started through
// run(), then what every recipient, page and API answer shows. Every test
// also ends with the token scan of startDaemon (leakscan_test.go).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"liaisond/store"
	"liaisond/token"
)

const ourAuthserv = "mx.liaison.example"

// trustMail fills a fixture of testdata/trust.
func trustMail(t testing.TB, name string, vars map[string]string) string {
	t.Helper()
	return fillFixture(t, filepath.Join("testdata", "trust", name), vars)
}

// commandMail is a command mail from someone to an address of ours.
func commandMail(t testing.TB, headers, name, from, to, subject, msgID, body string) string {
	if headers != "" && !strings.HasSuffix(headers, "\n") {
		headers += "\n"
	}
	return trustMail(t, "command.eml", map[string]string{"HEADERS": headers, "NAME": name, "FROM": from, "TO": to,
		"SUBJECT": subject, "MSGID": msgID, "BODY": body})
}

// sendSMTPFrom submits raw from a chosen local address: 127.0.0.2 reaches a
// listener on 127.0.0.1 (Linux routes all of 127/8 to loopback) and is a
// peer that is not one of [trust] relays.
func sendSMTPFrom(localIP, addr, from string, to []string, raw string) error {
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: 10 * time.Second}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	if err := c.SendMail(from, to, strings.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

func (d *daemon) keys(t testing.TB) *token.Keys {
	t.Helper()
	k, err := token.LoadOrCreate(filepath.Join(d.dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (d *daemon) submit(t testing.TB, from, title, fields string, n int) {
	t.Helper()
	raw := trustMail(t, "submission.eml", map[string]string{"FROM": from, "TITLE": title, "FIELDS": fields,
		"MSGID": fmt.Sprintf("sub-%d-%d@itu.example", n, time.Now().UnixNano())})
	if err := sendSMTP(d.smtpAddr, from, []string{"statements@liaison.example"}, raw); err != nil {
		t.Fatalf("submission refused: %v", err)
	}
}

func (d *daemon) httpGet(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.httpAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func eventTypes(st store.StatementJSON) string {
	var types []string
	for _, ev := range st.Events {
		types = append(types, ev.Type)
	}
	return strings.Join(types, ",")
}

func outboxKinds(rows []store.OutboxJSON, rcpt string) map[string]int {
	n := map[string]int{}
	for _, r := range rows {
		if rcpt == "" || strings.EqualFold(r.Rcpt, rcpt) {
			n[r.Kind]++
		}
	}
	return n
}

// TestTokenExactLength: a personal address whose token has one character
// more (17 decode to the same 80 bits) or one less gives no command.
func TestTokenExactLength(t *testing.T) {
	d := startDaemon(t, "", "")
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	tok := d.keys(t).Make(1, "alice@ccamp.example")
	for i, bad := range []string{tok + "a", tok + "q", tok[:15]} {
		to := "ls+1." + bad + "@liaison.example"
		raw := commandMail(t, "", "Alice Chair", "alice@ccamp.example", to, "Re: [LS-1]", fmt.Sprintf("len-%d@ccamp.example", i), "close")
		if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{to}, raw); err != nil {
			t.Fatal(err)
		}
		if st := d.show(t, 1); st.State != "open" {
			t.Fatalf("a token of %d characters closed LS-1", len(bad))
		}
	}
	// The control: the real token works.
	to := "ls+1." + tok + "@liaison.example"
	if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{to},
		commandMail(t, "", "Alice Chair", "alice@ccamp.example", to, "Re: [LS-1]", "len-ok@ccamp.example", "close")); err != nil {
		t.Fatal(err)
	}
	if st := d.show(t, 1); st.State != "closed" {
		t.Errorf("the real token did not close LS-1: %s", st.State)
	}
}

// TestTokensStayPrivate: a refusal whose text quotes a token, a forged
// token's refusal, and an answer to the forger: none shows a token in the
// API or the page, and the forger's answer names the statement only.
func TestTokensStayPrivate(t *testing.T) {
	d := startDaemon(t, "", "")
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	keys := d.keys(t)
	alice := keys.Address("ls", "liaison.example", 1, "alice@ccamp.example")
	// Alice, authenticated, writes a line that is no command and quotes
	// her own address: the refusal is a public event.
	raw := commandMail(t, "", "Alice Chair", "alice@ccamp.example", alice, "Re: [LS-1]", "tok-1@ccamp.example",
		"LS-1 forward "+alice+" to the list")
	if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{alice}, raw); err != nil {
		t.Fatal(err)
	}
	// Mallory got hold of Alice's address.
	raw = commandMail(t, "", "Alice Chair", "mallory@evil.example", alice, "Re: [LS-1]", "tok-2@evil.example", "reassign mallory@evil.example")
	if err := sendSMTP(d.smtpAddr, "mallory@evil.example", []string{alice}, raw); err != nil {
		t.Fatal(err)
	}
	st := d.show(t, 1)
	if st.Assignee != "alice@ccamp.example" {
		t.Fatalf("assignee = %s after a forged reassign", st.Assignee)
	}
	tok := strings.TrimPrefix(strings.Split(alice, "@")[0], "ls+1.")
	for _, p := range []string{"/api/statements/1", "/ls/1"} {
		if _, body := d.httpGet(t, p); strings.Contains(body, tok) {
			t.Errorf("GET %s carries Alice's token", p)
		} else if !strings.Contains(body, "forward ls") {
			t.Errorf("GET %s lacks Alice's refused line", p)
		}
	}
	out, _ := d.cli(t, "show", "-json", "1")
	if strings.Contains(out, tok) {
		t.Errorf("show -json stores Alice's token in an event:\n%s", out)
	}
	// The answer to Mallory names the statement, not Alice's address.
	for _, r := range d.outbox(t) {
		if r.Rcpt == "mallory@evil.example" && r.Kind == "error" {
			d.assertNoTokenLeaks(t)
			return
		}
	}
	t.Errorf("Mallory got no answer: %v", outboxKinds(d.outbox(t), "mallory@evil.example"))
}

// TestForgedAuthResults: an Authentication-Results header with our
// authserv-id written by the sender is believed only from a relay.
func TestForgedAuthResults(t *testing.T) {
	mp := startMailpit(t)
	d := startDaemon(t, mp.SMTPAddr, "[trust]\nauthserv_id = \""+ourAuthserv+"\"\n")
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	forged := "Authentication-Results: " + ourAuthserv + "; dkim=pass header.d=ccamp.example header.s=sel; dmarc=pass header.from=ccamp.example"

	t.Run("from a peer that is not a relay, commands@ is refused", func(t *testing.T) {
		raw := commandMail(t, forged, "Alice Chair", "alice@ccamp.example", "commands@liaison.example", "LS-1", "forged-1@ccamp.example", "LS-1 close")
		if err := sendSMTPFrom("127.0.0.2", d.smtpAddr, "alice@ccamp.example", []string{"commands@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
		st := d.show(t, 1)
		if st.State != "open" {
			t.Fatalf("a forged header from 127.0.0.2 closed LS-1")
		}
		ev := lastEvent(st)
		if ev.Type != "command-refused" || !ev.Private || !strings.Contains(ev.Text, "no Authentication-Results") {
			t.Errorf("last event = %+v, want a private refusal saying the header was not there (removed)", ev)
		}
	})
	t.Run("from a peer that is not a relay, an outgoing statement waits for confirmation", func(t *testing.T) {
		raw := trustMail(t, "outgoing.eml", map[string]string{"HEADERS": forged + "\n", "MSGID": "out-forged@ccamp.example"})
		if err := sendSMTPFrom("127.0.0.2", d.smtpAddr, "alice@ccamp.example", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
		st := d.show(t, 2)
		if got := eventTypes(st); got != "submitted,confirmation-requested" {
			t.Errorf("LS-2 history = %s, want submitted,confirmation-requested", got)
		}
		mp.waitMail(t, "alice@ccamp.example", "Please confirm")
	})
	t.Run("the same header from a relay is believed (control)", func(t *testing.T) {
		raw := commandMail(t, forged, "Alice Chair", "alice@ccamp.example", "commands@liaison.example", "LS-1", "relay-1@ccamp.example", "LS-1 close")
		if err := sendSMTPFrom("127.0.0.1", d.smtpAddr, "alice@ccamp.example", []string{"commands@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
		if st := d.show(t, 1); st.State != "closed" {
			t.Errorf("from the relay, LS-1 is %s, want closed", st.State)
		}
		raw = trustMail(t, "outgoing.eml", map[string]string{"HEADERS": forged + "\n", "MSGID": "out-relay@ccamp.example"})
		if err := sendSMTPFrom("127.0.0.1", d.smtpAddr, "alice@ccamp.example", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
		if got := eventTypes(d.show(t, 3)); !strings.HasPrefix(got, "submitted,confirmed") {
			t.Errorf("LS-3 history = %s, want the confirmation skipped", got)
		}
	})
}

// dkimWorld is a DNS the test controls: ccamp.example publishes an Ed25519
// DKIM key under selector "sel" and DMARC p=reject.
type dkimWorld struct {
	key ed25519.PrivateKey
	txt map[string][]string
}

func newDKIMWorld(t testing.TB) *dkimWorld {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dkimWorld{key: key, txt: map[string][]string{
		"sel._domainkey.ccamp.example": {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)},
		"_dmarc.ccamp.example":         {"v=DMARC1; p=reject"},
	}}
}

func (w *dkimWorld) lookupTXT(domain string) ([]string, error) {
	if v, ok := w.txt[strings.ToLower(strings.TrimSuffix(domain, "."))]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: domain, IsNotFound: true}
}

func (w *dkimWorld) sign(t testing.TB, raw string) string {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, strings.NewReader(raw), &dkim.SignOptions{Domain: "ccamp.example", Selector: "sel", Signer: w.key,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestVerifyDKIM: liaisond as the MX checks DKIM and DMARC itself, with a
// resolver the test controls (never the network).
func TestVerifyDKIM(t *testing.T) {
	world := newDKIMWorld(t)
	d := startDaemon(t, "", "[trust]\nauthserv_id = \""+ourAuthserv+"\"\nrelays = []\nverify_dkim = true\n",
		func(ctx context.Context) context.Context { return withLookupTXT(ctx, world.lookupTXT) })
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	send := func(raw, to string) {
		t.Helper()
		if err := sendSMTP(d.smtpAddr, "alice@ccamp.example", []string{to}, raw); err != nil {
			t.Fatal(err)
		}
	}
	notes := func() int {
		n := 0
		for _, ev := range d.show(t, 1).Events {
			if ev.Type == "note" {
				n++
			}
		}
		return n
	}

	t.Run("a good signature authenticates commands@", func(t *testing.T) {
		send(world.sign(t, commandMail(t, "", "Alice Chair", "alice@ccamp.example", "commands@liaison.example", "LS-1", "dkim-1@ccamp.example",
			"LS-1 note Signed and verified.")), "commands@liaison.example")
		if notes() != 1 {
			t.Errorf("the signed note was not recorded: %s", eventTypes(d.show(t, 1)))
		}
	})
	t.Run("a body changed after signing does not", func(t *testing.T) {
		signed := world.sign(t, commandMail(t, "", "Alice Chair", "alice@ccamp.example", "commands@liaison.example", "LS-1", "dkim-2@ccamp.example",
			"LS-1 note Harmless."))
		send(strings.Replace(signed, "LS-1 note Harmless.", "LS-1 close", 1), "commands@liaison.example")
		st := d.show(t, 1)
		if st.State != "open" {
			t.Fatalf("a tampered mail closed LS-1")
		}
		if ev := lastEvent(st); ev.Type != "command-refused" || !ev.Private {
			t.Errorf("last event = %+v, want a private refusal", ev)
		}
	})
	t.Run("a forged pass on an unsigned mail is replaced by our own result", func(t *testing.T) {
		send(commandMail(t, "Authentication-Results: "+ourAuthserv+"; dkim=pass header.d=ccamp.example", "Alice Chair", "alice@ccamp.example",
			"commands@liaison.example", "LS-1", "dkim-3@ccamp.example", "LS-1 close"), "commands@liaison.example")
		if st := d.show(t, 1); st.State != "open" {
			t.Fatalf("a forged pass closed LS-1")
		}
	})
	t.Run("DMARC p=reject failure refuses even a valid token", func(t *testing.T) {
		alice := d.keys(t).Address("ls", "liaison.example", 1, "alice@ccamp.example")
		send(commandMail(t, "", "Alice Chair", "alice@ccamp.example", alice, "Re: [LS-1]", "dmarc-1@evil.example", "close"), alice)
		st := d.show(t, 1)
		if st.State != "open" {
			t.Fatalf("a mail failing DMARC closed LS-1 with Alice's token")
		}
		if ev := lastEvent(st); ev.Type != "command-refused" || !strings.Contains(ev.Text, "DMARC") {
			t.Errorf("last event = %+v, want a refusal naming DMARC", ev)
		}
		// The control: the same command, signed by ccamp.example.
		send(world.sign(t, commandMail(t, "", "Alice Chair", "alice@ccamp.example", alice, "Re: [LS-1]", "dmarc-2@ccamp.example", "close")), alice)
		if st := d.show(t, 1); st.State != "closed" {
			t.Errorf("the signed close with the token: LS-1 is %s", st.State)
		}
	})
}

// TestRecipientLimit: 1,000 Technical-Contact lines cause at most
// max_recipients copies; the contacts are kept on the statement and the
// receipt says that they were not mailed. The figures (mails, outbox
// bytes, time) are logged for the closing note.
func TestRecipientLimit(t *testing.T) {
	d := startDaemon(t, "", "")
	var fields strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&fields, "Technical-Contact: Expert %d <expert%d@vendor%d.example>\n", i, i, i%50)
	}
	start := time.Now()
	d.submit(t, "sender@itu.example", "LS with many contacts", strings.TrimSuffix(fields.String(), "\n"), 1)
	queued := time.Since(start)
	rows := d.outbox(t)
	sentDir := filepath.Join(d.dir, "data", "sent")
	var bytesOut int64
	for i := 0; i < 1200; i++ {
		files, _ := filepath.Glob(filepath.Join(sentDir, "*.eml"))
		if len(files) >= len(rows) {
			bytesOut = 0
			for _, f := range files {
				if fi, err := os.Stat(f); err == nil {
					bytesOut += fi.Size()
				}
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("1,000 Technical-Contact lines: %d mails queued, %d bytes written, %s to queue, %s to send", len(rows), bytesOut, queued.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	kinds := outboxKinds(rows, "")
	if kinds["notification"] > 50 || kinds["receipt"] > 50 {
		t.Errorf("copies: %v, want at most 50 of each mail", kinds)
	}
	for _, r := range rows {
		if n := len(r.To) + len(r.Cc); n > 50 {
			t.Errorf("a %s to %s has %d addresses in To and Cc", r.Kind, r.Rcpt, n)
			break
		}
	}
	st := d.show(t, 1)
	if len(st.TechnicalContacts) != 1000 {
		t.Errorf("%d technical contacts kept on LS-1, want 1000", len(st.TechnicalContacts))
	}
	receipt := ""
	for _, r := range rows {
		if r.Kind == "receipt" && r.Rcpt == "sender@itu.example" {
			files, _ := filepath.Glob(filepath.Join(sentDir, "*.eml"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if strings.Contains(string(b), r.MessageID) {
					receipt, _ = mailText(string(b))
				}
			}
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(receipt), " "), "were not sent a copy") {
		t.Errorf("the receipt does not say that contacts were not mailed:\n%s", receipt)
	}
}

// TestAnswerRate: twenty rejected submissions in a victim's name give the
// victim at most reply_rate_per_hour answers, and help shares that limit.
func TestAnswerRate(t *testing.T) {
	d := startDaemon(t, "", "")
	for i := 0; i < 20; i++ {
		raw := trustMail(t, "bad-submission.eml", map[string]string{"FROM": "victim@example.org", "MSGID": fmt.Sprintf("bad-%d@forger.example", i)})
		if err := sendSMTP(d.smtpAddr, "victim@example.org", []string{"statements@liaison.example"}, raw); err != nil {
			t.Fatal(err)
		}
	}
	raw := commandMail(t, "", "Victim", "victim@example.org", "commands@liaison.example", "help", "help-1@forger.example", "help")
	if err := sendSMTP(d.smtpAddr, "victim@example.org", []string{"commands@liaison.example"}, raw); err != nil {
		t.Fatal(err)
	}
	kinds := outboxKinds(d.outbox(t), "victim@example.org")
	if n := kinds["error"] + kinds["help"]; n != 5 {
		t.Errorf("the victim got %v for 20 forged submissions and a help, want 5 answers in all", kinds)
	}
	out, _ := d.cli(t, "list", "-json", "-state", "all")
	if strings.Contains(out, "LS-") {
		t.Errorf("a rejected submission became a statement:\n%s", out)
	}
}

// TestNoMailToOwnAddresses: contacts at liaisond's own addresses are never
// mailed (it would mail itself).
func TestNoMailToOwnAddresses(t *testing.T) {
	d := startDaemon(t, "", "")
	d.submit(t, "sender@itu.example", "LS with our own addresses", "Response-Contact: commands@liaison.example, statements@liaison.example\n"+
		"Technical-Contact: ls+1.aaaaaaaaaaaaaaaa@liaison.example, expert1@vendor.example\nCc: LS+7.bbbbbbbbbbbbbbbb@Liaison.Example", 1)
	rows := d.outbox(t)
	if len(rows) == 0 {
		t.Fatal("nothing was queued")
	}
	for _, r := range rows {
		if strings.HasSuffix(strings.ToLower(r.Rcpt), "@liaison.example") {
			t.Errorf("a %s was queued to our own %s", r.Kind, r.Rcpt)
		}
		for _, a := range append(append([]string{}, r.To...), r.Cc...) {
			if strings.HasSuffix(strings.ToLower(a), "@liaison.example") {
				t.Errorf("a %s to %s names our own %s", r.Kind, r.Rcpt, a)
			}
		}
	}
	if kinds := outboxKinds(rows, "expert1@vendor.example"); kinds["notification"] != 1 {
		t.Errorf("the real technical contact got %v", kinds)
	}
}

// TestBurstHoldsOnlyItsSender: one sender past the rate holds its own
// statements only; the next SDO's statement is notified.
func TestBurstHoldsOnlyItsSender(t *testing.T) {
	d := startDaemon(t, "", "[limits]\nstatements_per_sender_per_hour = 2\nstatements_per_hour = 3\n")
	for i := 1; i <= 6; i++ {
		d.submit(t, "flood@spam.example", fmt.Sprintf("Flood %d", i), "", i)
	}
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 7)
	if st := d.show(t, 7); st.State != "open" {
		t.Errorf("another sender's statement is %s after a burst from one sender, want open", st.State)
	}
	held := 0
	for i := int64(1); i <= 6; i++ {
		if d.show(t, i).State == "held" {
			held++
		}
	}
	if held != 4 {
		t.Errorf("%d of the flood's 6 statements held, want 4", held)
	}
}

// TestStrangerEventsArePrivate: a stranger's refused note at commands@ and
// a forged token's refusal are kept for the operator, never shown.
func TestStrangerEventsArePrivate(t *testing.T) {
	d := startDaemon(t, "", "")
	d.submit(t, "sender@itu.example", "LS on OTN control", "", 1)
	spam := "Buy cheap pills at pills.example"
	raw := commandMail(t, "", "Spammer", "spam@pills.example", "commands@liaison.example", "LS-1", "spam-1@pills.example", "LS-1 note "+spam)
	if err := sendSMTP(d.smtpAddr, "spam@pills.example", []string{"commands@liaison.example"}, raw); err != nil {
		t.Fatal(err)
	}
	alice := d.keys(t).Address("ls", "liaison.example", 1, "alice@ccamp.example")
	raw = commandMail(t, "", "Alice Chair", "mallory@evil.example", alice, "Re: [LS-1]", "spam-2@evil.example", "note Mallory was here")
	if err := sendSMTP(d.smtpAddr, "mallory@evil.example", []string{alice}, raw); err != nil {
		t.Fatal(err)
	}
	st := d.show(t, 1)
	private := 0
	for _, ev := range st.Events {
		if ev.Private {
			private++
		}
	}
	if private != 2 {
		t.Errorf("%d private events in show -json, want the 2 refusals: %+v", private, st.Events)
	}
	out, _ := d.cli(t, "show", "-json", "1")
	if !strings.Contains(out, `"private": true`) {
		t.Errorf("show -json does not mark private events:\n%s", out)
	}
	for _, p := range []string{"/ls/1", "/api/statements/1", "/feed.atom", "/api/statements"} {
		_, body := d.httpGet(t, p)
		for _, secret := range []string{"cheap pills", "Mallory was here", "mallory@evil.example", "spam@pills.example"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s shows %q", p, secret)
			}
		}
	}
}

// TestPipeExitCodes: in pipe mode a refused and answered command mail
// exits 0 (no MTA bounce on top of our answer); a rejected submission 65.
func TestPipeExitCodes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "liaisond.toml")
	if err := os.WriteFile(cfg, []byte("domain = \"liaison.example\"\ndata_dir = \"data\"\n[smtp]\nlisten = \"\"\n[http]\nlisten = \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ingestFile := func(name, raw, sender, rcpt string) error {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(raw), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"ingest", "-config", cfg, "-no-send", "-f", sender, "-r", rcpt, f}, strings.NewReader(""), &out, &errOut)
		t.Logf("ingest %s: %v\n%s", name, err, out.String())
		return err
	}
	code := func(err error) int {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if err != nil {
			return -1
		}
		return 0
	}
	sub := trustMail(t, "submission.eml", map[string]string{"FROM": "sender@itu.example", "TITLE": "LS on OTN control", "FIELDS": "", "MSGID": "pipe-1@itu.example"})
	if err := ingestFile("sub.eml", sub, "sender@itu.example", "statements@liaison.example"); err != nil {
		t.Fatalf("submission: %v", err)
	}
	stranger := commandMail(t, "", "Stranger", "someone@elsewhere.example", "commands@liaison.example", "LS-1", "pipe-2@elsewhere.example", "LS-1 close")
	if c := code(ingestFile("cmd.eml", stranger, "someone@elsewhere.example", "commands@liaison.example")); c != 0 {
		t.Errorf("a refused, answered command mail exits %d, want 0", c)
	}
	bad := trustMail(t, "bad-submission.eml", map[string]string{"FROM": "someone@elsewhere.example", "MSGID": "pipe-3@elsewhere.example"})
	if c := code(ingestFile("bad.eml", bad, "someone@elsewhere.example", "statements@liaison.example")); c != exitDataErr {
		t.Errorf("a rejected submission exits %d, want %d", c, exitDataErr)
	}
}
