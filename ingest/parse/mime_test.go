package parse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func readMailFixture(t testing.TB, name string) []byte {
	t.Helper()
	buf, err := os.ReadFile(filepath.Join("..", "..", "testdata", "mail", name+".eml"))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return buf
}

func parseMailFixture(t testing.TB, name string) *Message {
	t.Helper()
	m, err := ParseMessage(readMailFixture(t, name))
	if err != nil {
		t.Fatalf("%s: ParseMessage: %v", name, err)
	}
	return m
}

// fields is the envelope most fixtures start their text with.
const fixtureFields = "From: ITU-T Study Group 15\nTo: IETF CCAMP Working Group\nTitle: Response to LS on OTN control\nPurpose: For Action\nDeadline: 2027-01-31\n"

type wantAttachment struct {
	name, contentType string
	size              int
	prefix            string // start of Data
}

const (
	pdfSize  = 598 // the PDFs in the fixtures
	pdf2Size = 588
	docxSize = 926
	docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

func TestParseMessageFixtures(t *testing.T) {
	tests := []struct {
		file         string
		messageID    string
		subject      string
		from         Address
		text         string   // exact, when set
		textHas      []string // substrings, with textPrefix when text is not set
		textPrefix   string
		textFromHTML bool
		attachments  []wantAttachment
		problems     []string // substrings of the problems, in order; nil: none
		severe       bool
	}{
		{
			file:       "plain-ascii",
			messageID:  "ls-2026-0117.sg15@itu.int",
			subject:    "LS on OTN control plane",
			from:       Address{"ITU-T SG15 Secretariat", "tsbsg15@itu.int"},
			textPrefix: fixtureFields + "\nDear CCAMP colleagues,\n\nITU-T Study Group 15 thanks you",
			textHas:    []string{"Chair, ITU-T SG15\n"},
		},
		{
			file:      "plain-utf8-8bit",
			messageID: "20261014101500.5f3a@etsi.org",
			subject:   "Réponse à la déclaration de liaison — Genève",
			from:      Address{"Jürgen Weiß", "juergen.weiss@etsi.org"},
			textPrefix: "From: ETSI TC ATTM\nTo: IETF OPSAWG\nTitle: Réponse à la déclaration de liaison sur les réseaux optiques\n" +
				"Purpose: For Information\n\nChers collègues,\n",
			textHas: []string{"s’est réuni à Genève et à Zürich", "Grüßen,\nJürgen Weiß\n"},
		},
		{
			file:      "qp-latin1",
			messageID: "qp.latin1.0007@itu.int",
			subject:   "Liaison sur les réseaux",
			from:      Address{"François Dupré", "francois.dupre@itu.int"},
			text: "From: ITU-T Study Group 13\nTo: IETF OPS Area\nTitle: Liaison sur les réseaux de prochaine génération\n" +
				"Purpose: For Comment\nDeadline: 2026-12-15\n\nChers collègues,\n\n" +
				"Le Rapporteur M. Müller (Genève) a préparé une réponse détaillée sur les exigences de gestion de réseau = voir annexe.\n\n" +
				"Cordialement,\nFrançois Dupré\n",
		},
		{
			file:       "utf8-declared-latin1",
			messageID:  "mislabeled.42@example.com",
			subject:    "LS on timing",
			from:       Address{"Rapporteur Q6", "q6@example.com"},
			textPrefix: "From: ITU-T Study Group 15\nTo: IETF TICTOC\n",
			textHas:    []string{"Dear colleagues, the meeting in Genève agreed on the résumé of Q13 and the Müller proposal.\n"},
			problems:   []string{`message: text declared as "utf-8" is not valid UTF-8, read as Windows-1252`},
		},
		{
			file:      "unknown-charset",
			messageID: "unknown.cs.1@example.org",
			subject:   "LS with odd charset",
			from:      Address{"", "someone@example.org"},
			text:      "From: BBF\nTo: IETF\nTitle: Café network\nPurpose: For Information\n\nVoilà.\n",
			problems:  []string{`message: unknown charset "x-unknown", read as Windows-1252`},
		},
		{
			file:      "html-only",
			messageID: "html.only.17@bbf.example",
			subject:   "LS from BBF",
			from:      Address{"Broadband Forum", "liaisons@broadband-forum.example"},
			text: "From: Broadband Forum\nTo: IETF OPSAWG\nTitle: LS on YANG models & TR-181\nPurpose: For Action\nDeadline: 2027-03-01\n\n" +
				"Dear OPSAWG colleagues,\n\n" +
				"Please see the LS text <https://www.broadband-forum.example/ls/2026-17.pdf> and https://datatracker.ietf.org/wg/opsawg/.\n\n" +
				"- First item\n- Second <item>\n\n" +
				"Contact: Jane Doe <jane.doe@example.org>, café été\n\n" +
				"Regards,\nBBF Technical Committee",
			textFromHTML: true,
		},
		{
			file:      "alternative-text-html",
			messageID: "alt.2026.55@ieee.example",
			subject:   "IEEE 802.1 liaison on TSN",
			from:      Address{"IEEE 802.1 WG Chair", "chair@ieee802.example"},
			text: "From: IEEE 802.1 Working Group\nTo: IETF DetNet Working Group\nTitle: LS on Time-Sensitive Networking\nPurpose: For Information\n\n" +
				"Dear DetNet colleagues, please find our update – plain version.\n",
		},
		{
			file:      "subject-b-utf8",
			messageID: "b.enc.1@ietf.example",
			subject:   "Réponse: LS on OTN — Zürich meeting",
			from:      Address{"Jürgen Müller", "juergen.mueller@example.com"},
			text:      "From: ITU-T SG15\nTo: IETF CCAMP\nTitle: Réponse\nPurpose: For Information\n",
		},
		{
			file:      "subject-q-latin1",
			messageID: "q.enc.2@ietf.example",
			subject:   "Réponse à la déclaration de liaison (suite)",
			from:      Address{"M. André", "andre@example.fr"},
			text:      "From: ETSI\nTo: IETF\nTitle: Réponse\nPurpose: For Information\n",
		},
		{
			file:      "rfc2231-filenames",
			messageID: "rfc2231.names@etsi.example",
			subject:   "LS with annexes",
			from:      Address{"ETSI Secretariat", "secretariat@etsi.example"},
			text:      fixtureFields + "\nPlease find the annexes attached.\n",
			attachments: []wantAttachment{
				{"Réponse LS à CCAMP.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"},
				{"Übersicht der Änderungen.docx", docxType, docxSize, "PK\x03\x04"},
				{"Présentation.pdf", "application/pdf", pdf2Size, "%PDF-1.4\n"},
				{"Stellungnahme Zürich.txt", "text/plain", len("Stellungnahme aus Zürich.\r\n"), "Stellungnahme aus Zürich.\r\n"},
			},
		},
		{
			file:      "filenames-unsafe",
			messageID: "unsafe.names@example.net",
			subject:   "LS with odd file names",
			from:      Address{"", "sender@example.net"},
			text:      fixtureFields,
			attachments: []wantAttachment{
				{"passwd.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"},
				{"LS-0117.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"},
				{"annexfdp.exe", "application/octet-stream", 20, "MZ"}, // U+202E and CR LF removed
				{"attachment-4.pdf", "application/pdf", pdf2Size, "%PDF-1.4\n"},
			},
		},
		{
			file:      "several-attachments",
			messageID: "multi.att.0117@itu.int",
			subject:   "LS on OTN control plane, with attachments",
			from:      Address{"ITU-T SG15 Secretariat", "tsbsg15@itu.int"},
			text:      fixtureFields + "\nDear colleagues, three attachments follow: the LS, proposed changes and notes from Genève.\n",
			attachments: []wantAttachment{
				{"LS-0117.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"},
				{"G709-changes.docx", docxType, docxSize, "PK\x03\x04"},
				// Attachments keep their bytes: Latin-1, CRLF.
				{"notes.txt", "text/plain", 57, "Notes from the Gen\xe8ve meeting:\r\n"},
			},
		},
		{
			file:      "forwarded-rfc822",
			messageID: "fwd.3@ietf.example",
			subject:   "Fwd: LS on OTN control plane",
			from:      Address{"CCAMP Secretary", "ccamp-secretary@ietf.example"},
			text:      fixtureFields + "\nForwarding the original statement received by the chairs.\n",
			attachments: []wantAttachment{
				{"attachment-1.eml", "message/rfc822", 215, "Message-ID: <ls-2026-0117.sg15@itu.int>\nFrom: ITU-T SG15"},
			},
		},
		{
			file:        "multipart-no-boundary",
			messageID:   "noboundary.1@broken.example",
			subject:     "LS from a broken mailer",
			from:        Address{"Broken Mailer", "user@broken.example"},
			text:        fixtureFields + "\nText of the statement.\n",
			attachments: []wantAttachment{{"LS.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"}},
			problems:    []string{`message: multipart without boundary parameter; parts split at the delimiter "--_003_Broken_Mailer_"`},
		},
		{
			file:      "multipart-no-boundary-unreadable",
			messageID: "noboundary.2@broken.example",
			subject:   "LS from a very broken mailer",
			from:      Address{"Broken Mailer", "user@broken.example"},
			text:      "",
			problems:  []string{"message: multipart without boundary parameter; its parts cannot be read"},
			severe:    true,
		},
		{
			file:        "multipart-missing-close",
			messageID:   "noclose.1@example.org",
			subject:     "LS cut short",
			from:        Address{"Truncating Gateway", "gw@example.org"},
			text:        fixtureFields + "\nStatement text.\n",
			attachments: []wantAttachment{{"LS-0118.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"}},
			problems:    []string{"message: multipart is not closed by its final boundary"},
		},
		{
			file:      "no-body",
			messageID: "nobody.1@example.org",
			subject:   "(no subject body)",
			from:      Address{"Empty Sender", "empty@example.org"},
			text:      "",
		},
		{
			file:      "html-cid-image",
			messageID: "cid.1@itu.int",
			subject:   "LS with logo",
			from:      Address{"ITU-T SG13", "tsbsg13@itu.int"},
			text:      "From: ITU-T Study Group 13\nTitle: LS on network slicing",
			// The logo is referenced by cid: and left out; the inline PDF is kept.
			textFromHTML: true,
			attachments:  []wantAttachment{{"SG13-LS-88.pdf", "application/pdf", pdfSize, "%PDF-1.4\n"}},
		},
		{
			file:      "pgp-signed",
			messageID: "signed.1@example.org",
			subject:   "Signed LS",
			from:      Address{"Careful Sender", "careful@example.org"},
			text:      fixtureFields + "\nSigned statement.\n",
		},
		{
			file:      "format-flowed",
			messageID: "flowed.1@example.org",
			subject:   "Flowed LS",
			from:      Address{"Thunderbird User", "tb@example.org"},
			text: "From: ITU-T Study Group 15\nTo: IETF CCAMP Working Group\n" +
				"Title: Response to LS on OTN control and on the management of beyond-100G interfaces\nPurpose: For Action\n\n" +
				"Dear colleagues, this paragraph was wrapped by the mail client at 72 characters and is joined again.\n" +
				"From the start of a line, stuffed.\n> quoted text that was flowed\n-- \nSignature\n",
		},
		{
			file:       "dsn-delivery-status",
			messageID:  "20261030100001.ABC123@mx.example.org",
			subject:    "Undelivered Mail Returned to Sender",
			from:       Address{"Mail Delivery System", "mailer-daemon@mx.example.org"},
			textPrefix: "This is the mail system at host mx.example.org.\n\n",
			attachments: []wantAttachment{
				{"attachment-1.txt", "message/delivery-status", 214, "Reporting-MTA: dns; mx.example.org\r\n"},
				{"attachment-2.txt", "text/rfc822-headers", 142, "From: notifications@liaison.example.org\r\n"},
			},
		},
		{
			file:      "mdn-disposition-notification",
			messageID: "mdn.1@example.com",
			subject:   "Read: LS-17: new liaison statement",
			from:      Address{"Rapporteur Q6", "q6@example.com"},
			text:      "Your message was displayed on Fri, 30 Oct 2026 10:59:00 +0000.\n",
			attachments: []wantAttachment{
				{"attachment-1.txt", "message/disposition-notification", 200, "Reporting-UA: mail.example.com"},
			},
		},
		{
			file:      "auto-replied",
			messageID: "auto.1@itu.int",
			subject:   "Automatic reply: LS-17 received",
			from:      Address{"ITU-T SG15 Secretariat", "tsbsg15@itu.int"},
			text:      "Thank you for your message. It has been forwarded to the secretariat.\n",
		},
		{
			file:      "out-of-office-x-autoreply",
			messageID: "ooo.1@example.com",
			subject:   "Out of Office: LS-17 awaiting your response",
			from:      Address{"Rapporteur Q14", "q14@example.com"},
			text:      "I am out of the office until 2 November with limited access to mail.\n",
		},
		{
			file:      "precedence-bulk",
			messageID: "newsletter.55@lists.example",
			subject:   "Standards news of the week",
			from:      Address{"Standards Newsletter", "news@lists.example"},
			text:      "This week in standards: nothing you need to act upon.\n",
		},
		{
			file:      "own-loop",
			messageID: "ls17.notify@liaison.example.org",
			subject:   "LS-17: new liaison statement",
			from:      Address{"Liaison Manager", "notifications@liaison.example.org"},
			text:      "A new liaison statement was registered as LS-17.\n",
		},
	}

	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "mail", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("%d fixtures, %d tests: every fixture needs a test", len(files), len(tests))
	}

	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m := parseMailFixture(t, tc.file)
			if m.MessageID != tc.messageID {
				t.Errorf("MessageID %q, want %q", m.MessageID, tc.messageID)
			}
			if m.Subject != tc.subject {
				t.Errorf("Subject %q, want %q", m.Subject, tc.subject)
			}
			if m.From != tc.from {
				t.Errorf("From %+v, want %+v", m.From, tc.from)
			}
			if !utf8.ValidString(m.Text) || !utf8.ValidString(m.Subject) {
				t.Errorf("Text or Subject not valid UTF-8")
			}
			if tc.text != "" || tc.textPrefix == "" && tc.textHas == nil {
				if m.Text != tc.text {
					t.Errorf("Text\n%q\nwant\n%q", m.Text, tc.text)
				}
			}
			if !strings.HasPrefix(m.Text, tc.textPrefix) {
				t.Errorf("Text\n%q\ndoes not start with\n%q", m.Text, tc.textPrefix)
			}
			for _, s := range tc.textHas {
				if !strings.Contains(m.Text, s) {
					t.Errorf("Text\n%q\ndoes not contain\n%q", m.Text, s)
				}
			}
			if strings.Contains(m.Text, "\r") {
				t.Errorf("Text has CR")
			}
			if m.TextFromHTML != tc.textFromHTML {
				t.Errorf("TextFromHTML %v, want %v", m.TextFromHTML, tc.textFromHTML)
			}
			if len(m.Attachments) != len(tc.attachments) {
				t.Errorf("%d attachments, want %d", len(m.Attachments), len(tc.attachments))
			}
			for i, a := range m.Attachments {
				if i >= len(tc.attachments) {
					t.Errorf("extra attachment %q %q", a.Name, a.ContentType)
					continue
				}
				w := tc.attachments[i]
				if a.Name != w.name || a.ContentType != w.contentType || len(a.Data) != w.size || !bytes.HasPrefix(a.Data, []byte(w.prefix)) {
					t.Errorf("attachment %d: %q %q %d bytes %q, want %q %q %d bytes %q", i, a.Name, a.ContentType, len(a.Data), a.Data[:min(len(a.Data), 40)], w.name, w.contentType, w.size, w.prefix)
				}
			}
			if len(m.Problems) != len(tc.problems) {
				t.Errorf("problems %q, want %q", m.Problems, tc.problems)
			} else {
				for i, p := range m.Problems {
					if !strings.Contains(p, tc.problems[i]) {
						t.Errorf("problem %q, want it to contain %q", p, tc.problems[i])
					}
				}
			}
			if m.IsSevere() != tc.severe {
				t.Errorf("IsSevere %v, want %v", m.IsSevere(), tc.severe)
			}
		})
	}
}

func TestParseMessageHeaderFields(t *testing.T) {
	m := parseMailFixture(t, "plain-ascii")
	if got, want := m.Header.Get("Message-ID"), "<ls-2026-0117.sg15@itu.int>"; got != want {
		t.Errorf("Header Message-ID %q, want %q", got, want)
	}
	if got := m.Header["Received"]; len(got) != 1 || !strings.HasPrefix(got[0], "from mail.itu.int (mail.itu.int [156.106.192.55]) by mx.liaison.example.org") {
		t.Errorf("Received %q: want one value, unfolded", got)
	}
	if got, want := m.Header.Get("Return-Path"), "<tsbsg15@itu.int>"; got != want {
		t.Errorf("Return-Path %q, want %q", got, want)
	}
	wantDate := time.Date(2026, 10, 13, 7, 12, 44, 0, time.UTC)
	if !m.Date.Equal(wantDate) {
		t.Errorf("Date %v, want %v", m.Date, wantDate)
	}
	if want := []Address{{"", "sg15-rapporteur@example.net"}, {"Q14/15 Rapporteur", "q14@example.net"}}; !reflect.DeepEqual(m.ReplyTo, want) {
		t.Errorf("ReplyTo %+v, want %+v", m.ReplyTo, want)
	}
	if want := []Address{{"", "statements@liaison.example.org"}}; !reflect.DeepEqual(m.To, want) {
		t.Errorf("To %+v, want %+v", m.To, want)
	}
	if want := []Address{{"CCAMP chairs", "ccamp-chairs@ietf.org"}}; !reflect.DeepEqual(m.Cc, want) {
		t.Errorf("Cc %+v, want %+v", m.Cc, want)
	}

	// Raw header values stay raw: decoding is for the parsed fields.
	m = parseMailFixture(t, "subject-b-utf8")
	if got := m.Header.Get("Subject"); !strings.HasPrefix(got, "=?UTF-8?B?") {
		t.Errorf("raw Subject %q, want the encoded words", got)
	}
	if want := []Address{{"Liaison Manager", "statements@liaison.example.org"}}; !reflect.DeepEqual(m.To, want) {
		t.Errorf("To %+v, want %+v", m.To, want)
	}
}

func TestParseMessageThreadIDs(t *testing.T) {
	raw := "From: a@example.org\r\n" +
		"Message-ID:  <abc@example.org> (comment)\r\n" +
		"In-Reply-To: <parent@example.org> (Mr X's message of Mon)\r\n" +
		"References: <root@example.org>\r\n <mid@example.org>\r\n\t<parent@example.org>\r\n" +
		"\r\nbody\r\n"
	m, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "abc@example.org" {
		t.Errorf("MessageID %q", m.MessageID)
	}
	if want := []string{"parent@example.org"}; !reflect.DeepEqual(m.InReplyTo, want) {
		t.Errorf("InReplyTo %q, want %q", m.InReplyTo, want)
	}
	if want := []string{"root@example.org", "mid@example.org", "parent@example.org"}; !reflect.DeepEqual(m.References, want) {
		t.Errorf("References %q, want %q", m.References, want)
	}
}

func TestMimeParseMsgIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"<a@b>", []string{"a@b"}},
		{" <a@b> <c@d>", []string{"a@b", "c@d"}},
		{"<a@\r\n b>", []string{"a@b"}},
		{"a@b", []string{"a@b"}},            // brackets left out
		{"a@b c@d", []string{"a@b", "c@d"}}, // brackets left out
		{"not an id", nil},
		{"<>", nil},
		{"<a@b", nil},
	}
	for _, tc := range tests {
		got := parseMsgIDs(tc.in)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseMsgIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseMessageNotMail(t *testing.T) {
	for _, in := range []string{
		"",
		"hello world\r\n",
		"\r\nbody after an empty header\r\n",
		": no name\r\n\r\nbody",
		"\x00\x01\x02binary",
		"From nobody Mon Jan  1 00:00:00 2026\n",
	} {
		if m, err := ParseMessage([]byte(in)); err == nil {
			t.Errorf("ParseMessage(%q) = %+v, want error", in, m)
		}
	}

	// An mbox From line from pipe delivery is skipped.
	m, err := ParseMessage([]byte("From sender@example.org Mon Oct 12 10:00:00 2026\nSubject: hi\n\nbody\n"))
	if err != nil {
		t.Fatalf("mbox From line: %v", err)
	}
	if m.Subject != "hi" || m.Text != "body\n" || len(m.Problems) != 0 {
		t.Errorf("mbox From line: %q %q %q", m.Subject, m.Text, m.Problems)
	}

	// Only a header.
	m, err = ParseMessage([]byte("Subject: only a header"))
	if err != nil {
		t.Fatalf("header only: %v", err)
	}
	if m.Subject != "only a header" || m.Text != "" || m.IsSevere() {
		t.Errorf("header only: %q %q severe %v", m.Subject, m.Text, m.IsSevere())
	}
}

func TestParseMessageCharsets(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		text    string
		problem string // substring of the only problem, "" for none
	}{
		{
			"declared latin1",
			"Content-Type: text/plain; charset=iso-8859-1\n\nGen\xe8ve\n",
			"Genève\n", "",
		},
		{
			"windows-1252 quotes",
			"Content-Type: text/plain; charset=windows-1252\n\n\x93quoted\x94 \x80\n",
			"“quoted” €\n", "",
		},
		{
			"no charset 8-bit UTF-8",
			"Content-Type: text/plain\n\nZürich\n",
			"Zürich\n", "",
		},
		{
			"no charset latin1",
			"Content-Type: text/plain\n\nZ\xfcrich\n",
			"Zürich\n", "message: text has 8-bit characters but no charset, read as Windows-1252",
		},
		{
			"us-ascii with latin1",
			"Content-Type: text/plain; charset=us-ascii\n\nZ\xfcrich\n",
			"Zürich\n", `message: text declared as "us-ascii" has 8-bit characters, read as Windows-1252`,
		},
		{
			"unknown charset valid UTF-8",
			"Content-Type: text/plain; charset=x-mac-klingon\n\nZürich\n",
			"Zürich\n", `message: unknown charset "x-mac-klingon", read as UTF-8`,
		},
		{
			"quoted charset and BOM",
			"Content-Type: text/plain; charset=\"UTF-8\"\n\n\xef\xbb\xbfhello\r\nworld\r\n",
			"hello\nworld\n", "",
		},
		{
			"shift_jis",
			"Content-Type: text/plain; charset=shift_jis\n\n\x93\xfa\x96\x7b\n",
			"日本\n", "",
		},
		{
			"html meta charset",
			"Content-Type: text/html\n\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body><p>Gen\xe8ve</p></body></html>",
			"Genève", "message: HTML has 8-bit characters but no charset in Content-Type, read as windows-1252",
		},
		{
			"html base64 utf-8",
			"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("<p>Zürich&nbsp;&mdash; ok</p>")) + "\n",
			"Zürich — ok", "",
		},
		{
			"text part in unknown CTE",
			"Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\nbegin\n",
			"begin\n", `message: unknown Content-Transfer-Encoding "x-uuencode", content taken as is`,
		},
		{
			"damaged base64",
			"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8g!d29ybGQ=\n",
			"hello world", "message: damaged base64 encoding",
		},
		{
			"malformed quoted-printable",
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n1 =3D 1 and 2 =ZZ 3=\n4\n",
			"1 = 1 and 2 =ZZ 34\n", "message: malformed quoted-printable",
		},
		{
			"unparseable content type is text",
			"Content-Type: text/plain; charset=\"utf-8\n\nhello\n",
			"hello\n", "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage([]byte("From: a@example.org\n" + tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tc.text {
				t.Errorf("Text %q, want %q", m.Text, tc.text)
			}
			if tc.problem == "" && len(m.Problems) > 0 || tc.problem != "" && (len(m.Problems) != 1 || !strings.Contains(m.Problems[0], tc.problem)) {
				t.Errorf("problems %q, want %q", m.Problems, tc.problem)
			}
		})
	}
}

func TestParseMessageSubjects(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"=?utf-8?q?caf=C3=A9?=", "café"},
		{"=?utf-8?b?Y2Fmw6k=?= =?utf-8?b?IG5vaXI=?=", "café noir"}, // white space between encoded words is dropped
		{"Re: =?ISO-8859-1?Q?r=E9sum=E9?= and more", "Re: résumé and more"},
		{"=?x-unknown?q?caf=E9?=", "café"},         // unknown charset: Windows-1252
		{"caf\xe9 raw latin1", "café raw latin1"},  // 8-bit header, not UTF-8
		{"Réponse raw UTF-8", "Réponse raw UTF-8"}, // RFC 6532
		{"=?utf-8?q?bad=FF?=", "bad\uFFFD"},
		{"  padded  ", "padded"},
		{"=?utf-8?q?line=0D=0ABcc:_x@example.org?=", "line  Bcc: x@example.org"}, // no header injection in replies
	}
	for _, tc := range tests {
		m, err := ParseMessage([]byte("Subject: " + tc.raw + "\r\n\r\nbody\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tc.want {
			t.Errorf("Subject %q: got %q, want %q", tc.raw, m.Subject, tc.want)
		}
	}
}

func TestParseMessageAddresses(t *testing.T) {
	tests := []struct {
		from    string
		want    Address
		problem bool
	}{
		{"Jane Doe <Jane.Doe@Example.ORG>", Address{"Jane Doe", "jane.doe@example.org"}, false},
		{"jane@example.org (Jane Doe)", Address{"Jane Doe", "jane@example.org"}, false},
		{"=?x-unknown?q?Jos=E9?= <jose@example.org>", Address{"José", "jose@example.org"}, false},
		{"\"Weiß, Jürgen\" <jw@example.org>", Address{"Weiß, Jürgen", "jw@example.org"}, false},
		{"Gr\xfcn <gruen@example.org>", Address{"Grün", "gruen@example.org"}, false},
		{"a@example.org, b@example.org", Address{"", "a@example.org"}, false},
		{"not an address", Address{}, true},
		{"<>", Address{}, true},
	}
	for _, tc := range tests {
		m, err := ParseMessage([]byte("From: " + tc.from + "\r\n\r\nbody\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m.From != tc.want {
			t.Errorf("From %q: got %+v, want %+v", tc.from, m.From, tc.want)
		}
		if got := len(m.Problems) > 0; got != tc.problem {
			t.Errorf("From %q: problems %q, want problem %v", tc.from, m.Problems, tc.problem)
		}
	}
}

func TestMimeHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"a<br>b<br/><br>c", "a\nb\n\nc"},
		{"<div>a</div><div>b</div>", "a\nb"},
		{"  lots   of\n\twhite  space  ", "lots of white space"},
		{"<b>bold</b> and <i>italic</i>", "bold and italic"},
		{"<a href=\"https://example.org/x\">link</a>", "link <https://example.org/x>"},
		{"<a href=\"https://example.org/\">https://example.org</a>", "https://example.org"},
		{"<a href=\"https://example.org/x\"></a>", "https://example.org/x"},
		{"<a href=\"https://example.org/x\"><img src=\"cid:logo\"></a>", "https://example.org/x"},
		{"<a href=\"mailto:j@example.org?subject=x\">j@example.org</a>", "j@example.org"},
		{"<a href=\"#top\">top</a> <a href=\"javascript:alert(1)\">js</a>", "top js"},
		{"<a name=\"x\">anchor</a>", "anchor"},
		{"&lt;tag&gt; &amp; &eacute; &#233; &#x20AC; &nbsp;x", "<tag> & é é €  x"},
		{"<style>p{}</style><script>alert(1)</script><title>T</title>text", "text"},
		{"<script>if (a < b) { document.write('<p>x</p>') }</script>ok", "ok"},
		{"<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
		{"<table><tr><td>From:</td><td>ITU-T</td></tr><tr><td>To:</td><td>IETF</td></tr></table>", "From: ITU-T\nTo: IETF"},
		{"<pre>  keep\n    this</pre>after", "  keep\n    this\n\nafter"},
		{"<h1>Title</h1>text", "Title\n\ntext"},
		{"<!-- comment -->visible<!--[if mso]>hidden<![endif]-->", "visible"},
		{"unclosed <b>tags <p>everywhere", "unclosed tags\n\neverywhere"},
		{"<p>a</p>\n\n\n<br><br><br><br><p>b</p>", "a\n\nb"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.in); got != tc.want {
			t.Errorf("htmlToText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestMimeUnflow(t *testing.T) {
	tests := []struct {
		in    string
		delsp bool
		want  string
	}{
		{"a \nb\n", false, "a b\n"},
		{"a \nb\n", true, "ab\n"},
		{"fixed\nlines\n", false, "fixed\nlines\n"},
		{" From stuffed\n", false, "From stuffed\n"},
		{"> a \n> b\nc\n", false, "> a b\nc\n"},
		{"> a \n>> b\n", false, "> a \n>> b\n"}, // improperly flowed
		{"-- \nsig\n", false, "-- \nsig\n"},
		{"last line ", false, "last line "},
	}
	for _, tc := range tests {
		if got := unflow(tc.in, tc.delsp); got != tc.want {
			t.Errorf("unflow(%q, %v) = %q, want %q", tc.in, tc.delsp, got, tc.want)
		}
	}
}

func TestMimeDecodeTransfer(t *testing.T) {
	b64 := []struct {
		in      string
		want    string
		damaged bool
	}{
		{"aGVsbG8=", "hello", false},
		{"aGVs\r\nbG8=\r\n", "hello", false},
		{"aGVsbG8", "hello", false},        // padding left out
		{"aGVsbG8=aGk=", "hellohi", false}, // concatenated blocks
		{"aGVs*bG8=", "hello", true},
		{"aGVsbG8gd", "hello ", true}, // a dangling character
		{"", "", false},
	}
	for _, tc := range b64 {
		got, damaged := decodeBase64([]byte(tc.in))
		if string(got) != tc.want || damaged != tc.damaged {
			t.Errorf("decodeBase64(%q) = %q %v, want %q %v", tc.in, got, damaged, tc.want, tc.damaged)
		}
	}
	qp := []struct {
		in      string
		want    string
		damaged bool
	}{
		{"caf=C3=A9", "café", false},
		{"caf=c3=a9", "café", false}, // lowercase hex
		{"soft=\r\nbreak", "softbreak", false},
		{"soft=  \nbreak", "softbreak", false},
		{"trailing   \r\nspace\t\n", "trailing\r\nspace\n", false},
		{"inner  space", "inner  space", false},
		{"a = b", "a = b", true},
		{"end=", "end", false},
	}
	for _, tc := range qp {
		got, damaged := decodeQP([]byte(tc.in))
		if string(got) != tc.want || damaged != tc.damaged {
			t.Errorf("decodeQP(%q) = %q %v, want %q %v", tc.in, got, damaged, tc.want, tc.damaged)
		}
	}
}

func TestMimeRFC2231(t *testing.T) {
	tests := []struct{ in, want string }{
		{"attachment; filename*=iso-8859-1''Pr%E9sentation.pdf", "Présentation.pdf"},
		{"attachment; filename*=UTF-8'en'%C3%A9t%C3%A9.pdf", "été.pdf"},
		{"attachment; filename*0*=windows-1252''%80uro;\r\n filename*1=\" note.txt\"", "€uro note.txt"},
		{"attachment; filename*1*=b.txt; filename*0*=utf-8''a", "ab.txt"},
		{"attachment; filename*=x-unknown''caf%E9", "café"},
		{"attachment; filename=plain.pdf", ""},
		{"attachment", ""},
	}
	for _, tc := range tests {
		if got := decodeRFC2231Param(tc.in, "filename"); got != tc.want {
			t.Errorf("decodeRFC2231Param(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMimeSanitizeFilename(t *testing.T) {
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\report.pdf`, "report.pdf"},
		{"dir/", ""},
		{"..", ""},
		{" .hidden. ", "hidden"},
		{"a\x00b\r\nc\td.pdf", "abcd.pdf"},
		{"evil\u202Efdp.exe", "evilfdp.exe"},
		{"zero\u200bwidth.pdf", "zerowidth.pdf"},
		{"caf\xe9.pdf", "café.pdf"},
		{strings.Repeat("é", 150) + ".pdf", strings.Repeat("é", 98) + ".pdf"},
	}
	for _, tc := range tests {
		if got := sanitizeFilename(tc.in); got != tc.want {
			t.Errorf("sanitizeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseMessageEmptyTextAlternative(t *testing.T) {
	raw := "From: a@example.org\r\n" +
		"Content-Type: multipart/alternative; boundary=A\r\n\r\n" +
		"--A\r\nContent-Type: text/plain\r\n\r\n \r\n" +
		"--A\r\nContent-Type: text/html\r\n\r\n<p>Title: from the HTML</p>\r\n" +
		"--A--\r\n"
	m, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Title: from the HTML" || !m.TextFromHTML {
		t.Errorf("Text %q TextFromHTML %v", m.Text, m.TextFromHTML)
	}
}

func TestParseMessageAttachmentRules(t *testing.T) {
	// Parts of a message and whether they become attachments.
	raw := "From: a@example.org\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nbody text\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nsecond text part, e.g. a list footer\r\n" +
		"--B\r\nContent-Type: text/plain; name=inline.txt\r\nContent-Disposition: inline; filename=inline.txt\r\n\r\ninline named text\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
		"--B\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n\r\n\x89PNG\r\n" +
		"--B\r\nContent-Type: application/octet-stream\r\n\r\n" + // empty, no name: left out
		"--B\r\nContent-Type: message/rfc822; name=\"fwd.eml\"\r\n\r\nSubject: fwd\r\n\r\nforwarded\r\n" +
		"--B\r\nContent-Type: text/calendar\r\nContent-Disposition: attachment\r\n\r\nBEGIN:VCALENDAR\r\n" +
		"--B--\r\n"
	m, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "body text" {
		t.Errorf("Text %q", m.Text)
	}
	var got []string
	for _, a := range m.Attachments {
		got = append(got, fmt.Sprintf("%s %s %q", a.Name, a.ContentType, a.Data))
	}
	want := []string{
		`inline.txt text/plain "inline named text"`,
		`attachment-2.pdf application/pdf "%PDF-1.4\n"`,
		`attachment-3.png image/png "\x89PNG"`,
		`fwd.eml message/rfc822 "Subject: fwd\r\n\r\nforwarded"`,
		`attachment-5.ics text/calendar "BEGIN:VCALENDAR"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attachments\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(m.Problems) != 0 {
		t.Errorf("problems %q", m.Problems)
	}
}

// checkSane checks the invariants every parsed message must satisfy.
func checkSane(t testing.TB, m *Message) {
	t.Helper()
	if !utf8.ValidString(m.Text) {
		t.Errorf("Text not valid UTF-8")
	}
	if !utf8.ValidString(m.Subject) || strings.IndexFunc(m.Subject, unicode.IsControl) >= 0 {
		t.Errorf("Subject %q not valid UTF-8 without control characters", m.Subject)
	}
	if len(m.Attachments) > MaxAttachments {
		t.Errorf("%d attachments, more than %d", len(m.Attachments), MaxAttachments)
	}
	for _, a := range m.Attachments {
		if a.Name == "" || strings.ContainsAny(a.Name, `/\`) || strings.IndexFunc(a.Name, unicode.IsControl) >= 0 || !utf8.ValidString(a.Name) {
			t.Errorf("bad attachment name %q", a.Name)
		}
		if a.ContentType == "" || a.ContentType != strings.ToLower(a.ContentType) || strings.Contains(a.ContentType, ";") {
			t.Errorf("bad content type %q", a.ContentType)
		}
	}
	if len(m.Problems) > maxProblems+1 {
		t.Errorf("%d problems", len(m.Problems))
	}
	for _, p := range m.Problems {
		if !utf8.ValidString(p) || len(p) > maxProblemLen+len("…") {
			t.Errorf("bad problem %q", p)
		}
	}
}

func TestHostileManyParts(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nSubject: many parts\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
	b.WriteString("--x\r\nContent-Type: text/plain\r\n\r\n" + fixtureFields + "\r\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "--x\r\nContent-Type: application/pdf; name=\"annex-%d.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n", i)
	}
	b.WriteString("--x--\r\n")
	m, err := ParseMessage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, m)
	if m.Text != fixtureFields {
		t.Errorf("Text %q", m.Text)
	}
	if len(m.Attachments) != MaxAttachments || m.Attachments[99].Name != "annex-99.pdf" {
		t.Errorf("%d attachments, want %d", len(m.Attachments), MaxAttachments)
	}
	// Those past the cap are named, for the receipt and the history.
	if n := len(m.OmittedAttachments); n == 0 || n > maxOmittedNames || m.OmittedAttachments[0] != "annex-100.pdf" {
		t.Errorf("omitted %d, first %v", n, m.OmittedAttachments[:min(n, 1)])
	}
	wantProblems := []string{"more than 1000 MIME parts", "not closed", "only the first 100 were kept"}
	if len(m.Problems) != len(wantProblems) {
		t.Fatalf("problems %q", m.Problems)
	}
	for i, p := range m.Problems {
		if !strings.Contains(p, wantProblems[i]) {
			t.Errorf("problem %q, want %q", p, wantProblems[i])
		}
	}
	if m.IsSevere() {
		t.Errorf("severe")
	}

	// Many small parts without headers cost enmime quadratic time.
	b.Reset()
	b.WriteString("Subject: bare\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
	for b.Len() < 2<<20 {
		b.WriteString("--x\r\n\r\n")
	}
	m, err = ParseMessage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, m)
	if len(m.Problems) == 0 || !m.IsSevere() {
		t.Errorf("problems %q severe %v", m.Problems, m.IsSevere())
	}
}

func TestHostileDeepNesting(t *testing.T) {
	for _, closed := range []bool{true, false} {
		var b bytes.Buffer
		b.WriteString("From: a@example.org\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		const depth = 200
		for i := 1; i < depth; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
		}
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep text\r\n", depth-1)
		if closed {
			for i := depth - 1; i >= 0; i-- {
				fmt.Fprintf(&b, "--b%d--\r\n", i)
			}
		}
		m, err := ParseMessage(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		checkSane(t, m)
		if m.Subject != "deep" || m.From.Addr != "a@example.org" {
			t.Errorf("closed %v: header lost: %q %+v", closed, m.Subject, m.From)
		}
		// The text is below the nesting limit: nothing readable.
		if m.Text != "" || !m.IsSevere() {
			t.Errorf("closed %v: Text %q severe %v", closed, m.Text, m.IsSevere())
		}
		found := false
		for _, p := range m.Problems {
			found = found || strings.Contains(p, "nested or repeated multiparts")
		}
		if !found {
			t.Errorf("closed %v: problems %q", closed, m.Problems)
		}
	}

	// Nesting within the limit, none closed: enmime takes time exponential in
	// the depth of unclosed multiparts, which the limit keeps small.
	var b bytes.Buffer
	b.WriteString("Subject: unclosed\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < maxMultiparts; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\ndeep text\r\n", maxMultiparts-1)
	m, err := ParseMessage(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, m)
	if m.Text != "deep text\n" || m.IsSevere() {
		t.Errorf("Text %q severe %v", m.Text, m.IsSevere())
	}
}

func TestHostileLongHeader(t *testing.T) {
	long := strings.Repeat("x", 5<<20)
	for _, raw := range []string{
		"Subject: " + long + "\r\nFrom: a@example.org\r\n\r\nbody\r\n",
		"X-Junk: " + long + "\r\nFrom: a@example.org\r\n\r\nbody\r\n",
		"From: a@example.org\r\nTo: " + strings.Repeat("b@example.org, ", 5<<20/15) + "\r\n\r\nbody\r\n",
		"From: a@example.org\r\nSubject: s\r\n X-Junk" + long + "\r\n\r\nbody\r\n", // a 5 MB continuation line
	} {
		m, err := ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		checkSane(t, m)
		if m.From.Addr != "a@example.org" || m.Text != "body\n" {
			t.Errorf("From %+v Text %q", m.From, m.Text)
		}
	}
}
