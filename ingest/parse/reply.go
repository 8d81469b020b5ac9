package parse

// Reply text extraction: what the sender of a reply wrote, without the quoted
// message, the quote header above it, and the signature below it (DESIGN 6:
// commands are lines at the top of a reply; `reply` turns the rest of the new
// text into a response statement).
//
// The rule is "cut at the first sign of quoted material": everything from the
// first quoted line, quote header, forwarded/original-message separator,
// signature delimiter or mobile footer on is dropped. The one exception is
// bottom posting (Thunderbird's default) and inline answers: when nothing, or
// only a greeting like "Hi,", is written above a ">"-quoted block, the
// unquoted lines below it are the reply (see belowQuote). Quoted lines never
// reach the output, nor does anything below an Outlook header block, a
// separator, or an attribution that is not followed by a ">" quote (the
// original sent without quote marks), so a command quoted from an earlier
// mail never runs.
//
// Everything here works line by line with plain string operations, no
// regular expressions, and looks at most a few lines around each line, so the
// cost is linear in the input.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxHeaderWindow = 600 // bytes: a quote header (wrapped over up to 4 lines) is never longer
	maxHeaderLines  = 4   // lines a wrapped "On ... wrote:" header may span
	fieldBlockLines = 7   // lines in which an Outlook From/Sent/To/Subject block must be found
	maxFooterWords  = 8   // words of a mobile footer like "Sent from my Verizon Wireless BlackBerry"
	maxSigLines     = 6   // lines of a signature block under a sign-off
	maxSigLineLen   = 60  // bytes of each such line
	wrappedQuoteLen = 60  // characters of a quoted line after which a mail client may have wrapped it
)

// StripReply returns the new text of a reply mail: the text above the first
// quoted line ("> ..."), quote header ("On <date>, <name> wrote:" in many
// languages, also wrapped over up to four lines; Outlook "From:/Sent:/To:/
// Subject:" blocks in many languages; "-----Original Message-----" and
// forwarded-message separators), signature delimiter ("-- ", a line of
// underscores) or mobile footer ("Sent from my iPhone", "Get Outlook for
// iOS", "Von meinem iPhone gesendet", ...). A sign-off ("Best regards,")
// followed by a signature block of two to six short lines at the end is
// dropped too. When nothing but a greeting ("Hi,") is above a ">" quote,
// the reply was written below it (bottom posting, inline answers): the
// unquoted lines after the quote are kept, up to a signature or a further
// quote header. Line ends become "\n", white space at line ends is removed,
// and empty lines at both ends are trimmed. Every output line is an input
// line (less its trailing white space); the output is never longer than the
// input.
func StripReply(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	cut, kind, last := findCut(lines)
	top := lines[:cut]
	if kind == cutQuote || kind == cutAttribution {
		switch t := trimBlankLines(top); {
		case t == "":
			top = belowQuote(lines[last+1:])
		case isGreeting(t):
			// "Hi,", the attribution, the quote, then the answer.
			top = append(top[:len(top):len(top)], belowQuote(lines[last+1:])...)
		}
	}
	lines = top
	for {
		n := len(lines)
		if lines = trimSignOff(lines); len(lines) == n {
			break
		}
	}
	return trimBlankLines(lines) // fields.go: empty lines at both ends removed
}

// cutKind says what ended the new text.
type cutKind uint8

const (
	cutNone        cutKind = iota
	cutQuote               // a line quoted with ">"
	cutAttribution         // "On <date>, <name> wrote:"
	cutOther               // header block, separator, signature, mobile footer
)

// findCut returns the index of the first line that belongs to quoted
// material or a signature (len(lines) when there is none), what it is, and
// for an attribution the index of its last line.
func findCut(lines []string) (cut int, kind cutKind, last int) {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		// An attribution may end with a line ">:" (an address wrapped
		// before its closing bracket); other ">" lines are quotes.
		if !isQuoted(t) || strings.Trim(t, "> :") == "" && strings.Contains(t, ":") {
			if s, ok := attributionStart(lines, i); ok {
				return backOverSeparators(lines, s), cutAttribution, i
			}
		}
		if isQuoted(t) {
			return backOverSeparators(lines, i), cutQuote, i
		}
		if numericDateAttribution(lines, i) {
			return backOverSeparators(lines, i), cutAttribution, i
		}
		if isSigDelimiter(t) || isTrackingLine(t) || isSeparator(t) || isMobileFooter(t) || isFieldBlock(lines, i) {
			return backOverSeparators(lines, i), cutOther, i
		}
	}
	return len(lines), cutNone, len(lines)
}

// greetings begin a salutation line, lowercased.
var greetings = map[string]bool{
	"hi": true, "hello": true, "hey": true, "dear": true, "greetings": true, "good": true, "all": true,
	"hallo": true, "liebe": true, "lieber": true, "sehr": true, "guten": true, "moin": true,
	"bonjour": true, "salut": true, "cher": true, "chère": true, "chers": true, "hola": true, "estimado": true, "estimada": true,
	"ciao": true, "buongiorno": true, "gentile": true, "caro": true, "cara": true, "olá": true, "prezado": true, "prezada": true,
	"hej": true, "hoi": true, "beste": true,
}

// isGreeting reports whether the text above a quote is only a salutation
// such as "Hi," or "Dear all," (one short line that begins with a greeting
// word and ends with a comma), so that the reply is bottom-posted below it.
func isGreeting(t string) bool {
	if len(t) > 40 || strings.Contains(t, "\n") || !strings.HasSuffix(t, ",") {
		return false
	}
	w, _, _ := strings.Cut(strings.TrimSuffix(t, ","), " ")
	return greetings[strings.ToLower(w)]
}

// belowQuote returns the new text of a reply written below the quote
// (bottom posting, Thunderbird's default) or between its parts (inline
// answers), for a reply with nothing above the quote: the lines after the
// attribution without the quoted ones, up to the first signature, separator,
// header block or further attribution. The quote must come first: when the
// attribution is followed by unquoted text, that text is the original, and
// nothing is returned. An unquoted line right after a long
// quoted line is taken as the rest of that line wrapped by a mail client
// that did not quote it, and dropped with it.
func belowQuote(lines []string) []string {
	var out []string
	prevQuoted, prevLong := false, false
	seenQuote := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if !seenQuote && t != "" && !isQuoted(t) {
			// An attribution followed by the original without quote marks:
			// all of it is the original.
			return nil
		}
		seenQuote = seenQuote || t != ""
		switch {
		case t != "" && isQuoted(t):
			prevQuoted, prevLong = true, utf8.RuneCountInString(t) >= wrappedQuoteLen
			continue
		case t != "" && prevQuoted && prevLong:
			prevLong = utf8.RuneCountInString(t) >= wrappedQuoteLen
			continue
		}
		prevQuoted, prevLong = false, false
		if t == "" && len(out) > 0 && out[len(out)-1] == "" {
			continue
		}
		out = append(out, l)
	}
	cut, _, _ := findCut(out)
	return out[:cut]
}

// isQuoted reports whether a (trimmed) line is quoted with ">" (RFC 3676 4.5
// and common usage), also as "&gt;" left by broken HTML conversion, or with
// "|" as some clients quote (a line that also ends with "|" is a row of a
// plain-text table, not a quote).
func isQuoted(t string) bool {
	return t[0] == '>' || strings.HasPrefix(t, "&gt;") || t[0] == '|' && (t == "|" || !strings.HasSuffix(t, "|"))
}

// isTrackingLine reports whether a line holds nothing but invisible
// characters: Gmail extensions' tracking character U+1427 (alone on a line
// above the signature), zero-width spaces and joiners.
func isTrackingLine(t string) bool {
	seen := false
	for _, r := range t {
		switch r {
		case '\u1427', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			seen = seen || r == '\u1427'
		default:
			if !unicode.IsSpace(r) {
				return false
			}
		}
	}
	return seen
}

// numericDateAttribution reports whether line i is an attribution that
// begins with a numeric date and ends with the address, without colon or
// verb (older Gmail in some locales: "2016/7/20 Name <addr>"), followed by a
// quoted line. Without the quote below it, such a line is new text.
func numericDateAttribution(lines []string, i int) bool {
	t := strings.TrimSpace(lines[i])
	if len(t) > 200 || !strings.HasSuffix(t, ">") || !strings.Contains(t, "@") || !startsWithNumericDate(t) {
		return false
	}
	for j := i + 1; j < len(lines) && j <= i+2; j++ {
		if n := strings.TrimSpace(lines[j]); n != "" {
			return isQuoted(n)
		}
	}
	return false
}

// startsWithNumericDate reports whether t begins with a date of three
// numbers separated by "/", "-" or ".", year first or last ("2016/7/20",
// "2016-03-03", "20.07.2016"), followed by a space.
func startsWithNumericDate(t string) bool {
	parts, i := 0, 0
	for parts < 3 {
		n := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			n++
		}
		if n == 0 || n > 4 {
			return false
		}
		parts++
		if parts < 3 {
			if i >= len(t) || (t[i] != '/' && t[i] != '-' && t[i] != '.') {
				return false
			}
			i++
		}
	}
	return i < len(t) && t[i] == ' '
}

// isSigDelimiter: "-- " (RFC 3676 4.3, often sent without its space) or a
// line of underscores (mailing list footers, Outlook web separator).
func isSigDelimiter(t string) bool {
	return t == "--" || len(t) >= 2 && strings.Trim(t, "_") == ""
}

// onlyRuleChars reports whether t consists of rule characters (a separator
// line such as "----" or "====" or "* * *").
func onlyRuleChars(t string) bool {
	return strings.Trim(t, "-_=*~#+. \t") == "" && t != ""
}

// separatorPhrases are the texts of original/forwarded-message separator
// lines, lowercased, without the dashes around them.
var separatorPhrases = []string{
	"original message", "forwarded message", "begin forwarded message", "forwarded by",
	"ursprüngliche nachricht", "weitergeleitete nachricht", "originalnachricht", "anfang der weitergeleiteten nachricht",
	"message d'origine", "message d’origine", "message original", "message transféré", "début du message réexpédié", "début du message transféré",
	"mensaje original", "mensaje reenviado", "messaggio originale", "messaggio inoltrato",
	"oorspronkelijk bericht", "origineel bericht", "doorgestuurd bericht", "mensagem original", "mensagem encaminhada",
	"ursprungligt meddelande", "vidarebefordrat meddelande", "oprindelig besked", "oprindelig meddelelse", "videresendt besked",
	"opprinnelig melding", "videresendt melding", "alkuperäinen viesti", "välitetty viesti",
	"wiadomość oryginalna", "oryginalna wiadomość", "przekazana wiadomość", "исходное сообщение", "пересылаемое сообщение",
	"původní zpráva", "eredeti üzenet", "orijinal mesaj", "αρχικό μήνυμα",
}

// isSeparator reports whether t is an original/forwarded-message separator
// line like "-----Original Message-----", "-------- Message d'origine
// --------" or "Begin forwarded message:". Apart from the "Begin forwarded
// message" kind, the phrase must be set off by dashes or similar.
func isSeparator(t string) bool {
	if len(t) > 80 || !strings.ContainsAny(t[:1], "-_=*~<bBdDaA") {
		return false
	}
	low := strings.ToLower(t)
	core := strings.Trim(low, "-_=*~<> \t:")
	if core == "" {
		return false
	}
	decorated := core != strings.TrimSpace(strings.TrimRight(low, ":"))
	for _, p := range separatorPhrases {
		if core == p || strings.HasPrefix(core, p) && len(core) < len(p)+30 {
			return decorated || strings.HasPrefix(p, "begin ") || strings.HasPrefix(p, "début ") || strings.HasPrefix(p, "anfang ")
		}
	}
	return false
}

// mobileFooterPrefixes start the footers mail apps add ("Sent from my iPhone").
var mobileFooterPrefixes = []string{
	"sent from ", "sent via ", "sent with ", "sent using ", "sent on the go", "get outlook for ", "get the outlook app",
	"envoyé de mon ", "envoyé depuis ", "envoyé à partir de ", "envoyé avec ", "envoyé via ",
	"von meinem ", "gesendet von ", "gesendet mit ", "gesendet vom ", "gesendet über ",
	"enviado desde ", "enviado do ", "enviado de ", "enviado con ", "enviado com ", "obtener outlook para ", "baixe o outlook para ",
	"inviato da ", "inviato dal ", "inviato con ", "scarica outlook per ",
	"verzonden vanaf ", "verzonden met ", "verstuurd vanaf ", "verstuurd met ", "outlook voor ",
	"skickat från ", "skickades från ", "sendt fra ", "hent outlook til ", "lähetetty ",
	"wysłane z ", "wysłano z ", "отправлено с ", "отправлено из ", "odesláno z ", "küldve ", "iphone'umdan gönderildi",
}

// isMobileFooter reports whether t is a mail app footer: one of the known
// beginnings, at most maxFooterWords words, a link at its end ignored.
func isMobileFooter(t string) bool {
	if len(t) > 120 || t[0] < utf8.RuneSelf && !strings.ContainsAny(t[:1], "sSgGeEvViIoObBhHlLwWkK") {
		return false
	}
	s := t
	// "Get Outlook for iOS<https://aka.ms/o0ukef>", "Sent with Sparrow (http://...)".
	if i := strings.LastIndexAny(s, "<("); i > 0 && (strings.HasSuffix(s, ">") || strings.HasSuffix(s, ")")) {
		s = strings.TrimSpace(s[:i])
	}
	if len(strings.Fields(s)) > maxFooterWords {
		return false
	}
	low := strings.ToLower(s)
	if strings.HasPrefix(low, "von meinem ") && !strings.Contains(low, "gesendet") {
		return false
	}
	for _, p := range mobileFooterPrefixes {
		if strings.HasPrefix(low, p) || low+" " == p {
			return true
		}
	}
	return false
}

// quoteField classifies a header field name of a quoted message header block.
type quoteField uint8

const (
	qfNone quoteField = iota
	qfFrom
	qfDate
	qfTo
	qfCc
	qfSubject
)

// quoteFieldNames maps lowercased field names of quoted header blocks, as mail
// clients write them in various languages, to their kind.
var quoteFieldNames = map[string]quoteField{
	"from": qfFrom, "de": qfFrom, "von": qfFrom, "da": qfFrom, "van": qfFrom, "fra": qfFrom, "från": qfFrom,
	"od": qfFrom, "от": qfFrom, "від": qfFrom, "lähettäjä": qfFrom, "kimden": qfFrom, "feladó": qfFrom,
	"remitente": qfFrom, "mittente": qfFrom, "afzender": qfFrom, "sender": qfFrom, "发件人": qfFrom, "差出人": qfFrom, "보낸 사람": qfFrom,

	"sent": qfDate, "date": qfDate, "datum": qfDate, "dato": qfDate, "data": qfDate, "fecha": qfDate,
	"envoyé": qfDate, "envoyé le": qfDate, "gesendet": qfDate, "inviato": qfDate, "verzonden": qfDate,
	"enviado": qfDate, "enviada": qfDate, "enviado el": qfDate, "skickat": qfDate, "sendt": qfDate,
	"wysłano": qfDate, "wysłane": qfDate, "отправлено": qfDate, "дата": qfDate, "lähetetty": qfDate,
	"päivämäärä": qfDate, "gönderildi": qfDate, "tarih": qfDate, "odesláno": qfDate, "elküldve": qfDate,
	"message du": qfDate, "发送时间": qfDate, "日期": qfDate, "送信日時": qfDate, "보낸 날짜": qfDate,

	"to": qfTo, "à": qfTo, "a": qfTo, "an": qfTo, "aan": qfTo, "para": qfTo, "till": qfTo, "til": qfTo,
	"do": qfTo, "кому": qfTo, "vastaanottaja": qfTo, "kime": qfTo, "címzett": qfTo, "destinatario": qfTo,
	"komu": qfTo, "收件人": qfTo, "宛先": qfTo, "받는 사람": qfTo,

	"cc": qfCc, "kopie": qfCc, "copie à": qfCc, "copie": qfCc, "kopio": qfCc, "копия": qfCc, "kopia": qfCc,
	"cc.": qfCc, "bcc": qfCc, "抄送": qfCc,

	"subject": qfSubject, "objet": qfSubject, "betreff": qfSubject, "oggetto": qfSubject, "onderwerp": qfSubject,
	"asunto": qfSubject, "assunto": qfSubject, "ämne": qfSubject, "emne": qfSubject, "temat": qfSubject,
	"тема": qfSubject, "aihe": qfSubject, "konu": qfSubject, "tárgy": qfSubject, "sujet": qfSubject,
	"předmět": qfSubject, "主题": qfSubject, "件名": qfSubject, "제목": qfSubject,
}

// quoteHeaderField parses a line "Name: value" (also "Name : value", "*Name:*
// value", and a full-width colon) of a quoted header block.
func quoteHeaderField(l string) (quoteField, string) {
	t := strings.TrimLeft(strings.TrimSpace(l), "*")
	i := strings.IndexByte(t, ':')
	j := strings.Index(t, "：")
	if i < 0 || j >= 0 && j < i {
		i = j
	}
	if i <= 0 || i > 40 {
		return qfNone, ""
	}
	name := strings.ToLower(strings.TrimRight(t[:i], " *\u00a0\t"))
	k := quoteFieldNames[name]
	if k == qfNone {
		return qfNone, ""
	}
	rest := t[i+1:]
	if strings.HasPrefix(t[i:], "：") {
		rest = t[i+len("："):]
	}
	return k, strings.TrimLeft(rest, "* \t")
}

// isFieldBlock reports whether a quoted message's header block (Outlook and
// others: From, Sent/Date, To, Cc, Subject, in any order and language)
// starts at line i: a From field and at least two other kinds of field
// within fieldBlockLines lines without an empty line, and a date field or an
// address in the From field (so that a liaison's own "From: ITU-T SG15 /
// To: IETF / Subject: ..." lines in the new text are not taken for one).
func isFieldBlock(lines []string, i int) bool {
	k, _ := quoteHeaderField(lines[i])
	if k == qfNone {
		return false
	}
	var seen [6]bool
	fromAddr := false
	n := 0
	for j := i; j < len(lines) && j < i+fieldBlockLines; j++ {
		if strings.TrimSpace(lines[j]) == "" {
			break
		}
		k, v := quoteHeaderField(lines[j])
		if k == qfNone {
			continue
		}
		if !seen[k] {
			seen[k] = true
			n++
		}
		if k == qfFrom {
			// The address may be on the next line when the From field is wrapped.
			if strings.Contains(v, "@") || j+1 < len(lines) && strings.Contains(lines[j+1], "@") {
				fromAddr = true
			}
		}
	}
	return seen[qfFrom] && n >= 3 && (seen[qfDate] || fromAddr)
}

// replyVerbs end an attribution line ("... wrote:"), lowercased.
var replyVerbs = []string{
	"wrote", "writes", "a écrit", "écrit", "schrieb", "ha scritto", "escreveu", "escribió", "escribio", "schreef",
	"geschreven", "skrev", "kirjoitti", "napisał", "napisała", "napisał(a)", "napsal", "napsala", "napsal(a)",
	"написал", "написала", "написал(а)", "писал", "írta", "yazdı", "έγραψε", "scrise", "rašė", "kirjutas",
	"写道", "寫道", "書きました", "작성", "skrifaði", "pisze", "ha escrit", "idatzi zuen",
	"пишет", "пише", "написав", "написала", "написал(а)", "написав(ла)",
}

// midVerbs are reply verbs followed by a preposition and the date, for
// attributions that put the name first: "Name <addr> schrieb am Fr., 28.
// Apr. 2017 um 11:53 Uhr:", "Name wrote on 4 March 2024, 10:12:".
var midVerbs = []string{
	" schrieb am ", " wrote on ", " a écrit le ", " skrev den ", " schreef op ", " escribió el ",
	" ha scritto il ", " escreveu em ", " napisał dnia ", " napisała dnia ", " написал в ", " пишет в ",
}

// attributionEnd reports whether the window text ends like an attribution
// line: with a reply verb, or with an address and a colon ("... <a@b>:").
// The trailing colon, dashes ("---- On ... wrote ----") and spaces are
// ignored.
func attributionEnd(w string) (verb, addr bool) {
	core := strings.TrimRight(w, " \t-")
	colon := false
	if c, ok := strings.CutSuffix(core, ":"); ok {
		core, colon = c, true
	} else if c, ok := strings.CutSuffix(core, "："); ok {
		core, colon = c, true
	}
	core = strings.TrimRight(core, " \t\u00a0")
	// Only the end matters; the longest verb is under 32 bytes.
	tail := core
	if len(tail) > 48 {
		k := len(tail) - 48
		for k < len(tail) && !utf8.RuneStart(tail[k]) {
			k++
		}
		tail = tail[k:]
	}
	low := strings.ToLower(tail)
	for _, v := range replyVerbs {
		if strings.HasSuffix(low, v) {
			before, _ := utf8.DecodeLastRuneInString(low[:len(low)-len(v)])
			if len(low) == len(v) || !unicode.IsLetter(before) {
				return true, false
			}
		}
	}
	if colon && strings.Contains(low, "wrote on ") {
		return true, false // Lotus Notes: "Alice/Org wrote on 04/03/2024 10:12:00 AM:"
	}
	if colon && strings.ContainsFunc(tail, unicode.IsDigit) {
		// The name first, the verb, then the date: the verb is not in the
		// tail; look for it in the whole line.
		lw := strings.ToLower(core)
		for _, v := range midVerbs {
			if strings.Contains(lw, v) {
				return true, false
			}
		}
	}
	if colon && (strings.HasSuffix(core, ">") || strings.HasSuffix(core, "&gt;")) {
		return false, true
	}
	return false, false
}

// leadWords begin the first line of an attribution ("On", "Le", "Am", ...).
var leadWords = map[string]bool{
	"on": true, "le": true, "am": true, "el": true, "il": true, "in": true, "op": true, "em": true, "w": true,
	"dnia": true, "den": true, "på": true, "dne": true, "quoting": true, "zitat": true, "citando": true, "στις": true,
	"в": true, "том": true, "per": true, "kl.": true,
}

func leadLine(l string) bool {
	t := strings.TrimLeft(strings.TrimSpace(l), "-* ")
	if t == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(t)
	if unicode.IsDigit(r) {
		return true
	}
	w, _, _ := strings.Cut(t, " ")
	return leadWords[strings.ToLower(w)]
}

// attributionStart reports whether line e ends an attribution ("On <date>,
// <name> wrote:"), possibly wrapped over up to maxHeaderLines lines, and
// returns its first line. An attribution holds a digit (its date) or an
// address; one ending in "<address>:" without a verb must hold the address.
func attributionStart(lines []string, e int) (int, bool) {
	t := strings.TrimSpace(lines[e])
	if len(t) > maxHeaderWindow {
		return 0, false
	}
	// Cheap test on the line alone before building windows. A line ending
	// in a colon with a digit may be the date part of a wrapped name-first
	// attribution ("Name <addr> schrieb am\nFr., 28. Apr. 2017 um 11:53 Uhr:").
	if v, a := attributionEnd(t); !v && !a && !(strings.HasSuffix(t, ":") && strings.ContainsFunc(t, unicode.IsDigit)) {
		return 0, false
	}
	// The paragraph holding line e, at most maxHeaderLines lines back.
	p := e
	for p > 0 && e-p+1 < maxHeaderLines && strings.TrimSpace(lines[p-1]) != "" {
		p--
	}
	paraStart := p > 0 && strings.TrimSpace(lines[p-1]) == "" || p == 0
	qualifies := func(s int) bool {
		var b strings.Builder
		for j := s; j <= e; j++ {
			if j > s {
				b.WriteByte(' ')
			}
			b.WriteString(strings.TrimSpace(lines[j]))
			if b.Len() > maxHeaderWindow {
				return false
			}
		}
		w := b.String()
		verb, addr := attributionEnd(w)
		hasAt := strings.Contains(w, "@")
		hasDigit := strings.ContainsFunc(w, unicode.IsDigit)
		return verb && (hasAt || hasDigit) || addr && hasAt
	}
	// The latest line that starts like an attribution.
	for s := e; s >= p; s-- {
		if leadLine(lines[s]) && qualifies(s) {
			return s, true
		}
	}
	// A short paragraph of its own is the attribution.
	if paraStart && qualifies(p) {
		return p, true
	}
	// Else the fewest lines that make one.
	for s := e; s >= p; s-- {
		if qualifies(s) {
			return s, true
		}
	}
	return 0, false
}

// backOverSeparators moves a cut up over the empty lines, rule lines
// ("-----", "____", "====") and separator lines just above it, so that
// nothing of a quote's decoration stays in the new text.
func backOverSeparators(lines []string, i int) int {
	for k := 0; k < 4 && i > 0; k++ {
		t := strings.TrimSpace(lines[i-1])
		if t != "" && !onlyRuleChars(t) && !isSeparator(t) {
			break
		}
		i--
	}
	return i
}

// signOffs are closing formulas that begin a signature block, lowercased,
// without trailing punctuation.
var signOffs = map[string]bool{
	"regards": true, "best regards": true, "kind regards": true, "warm regards": true, "warmest regards": true,
	"best": true, "all the best": true, "best wishes": true, "cheers": true, "thanks": true, "thank you": true,
	"many thanks": true, "thanks again": true, "sincerely": true, "yours sincerely": true, "sincerely yours": true,
	"yours truly": true, "respectfully": true, "with best regards": true, "with kind regards": true,
	"mit freundlichen grüßen": true, "mit freundlichen grüssen": true, "mit freundlichen gruessen": true,
	"viele grüße": true, "beste grüße": true, "freundliche grüße": true, "gruß": true, "grüße": true,
	"cordialement": true, "bien cordialement": true, "bien à vous": true, "salutations": true, "meilleures salutations": true,
	"saludos": true, "saludos cordiales": true, "un saludo": true, "atentamente": true,
	"cordiali saluti": true, "distinti saluti": true, "saluti": true,
	"met vriendelijke groet": true, "met vriendelijke groeten": true, "groeten": true,
	"atenciosamente": true, "abraços": true, "med vänlig hälsning": true, "vänliga hälsningar": true,
	"med venlig hilsen": true, "med vennlig hilsen": true, "ystävällisin terveisin": true,
	"с уважением": true, "pozdrawiam": true, "z poważaniem": true, "s pozdravem": true,
}

// trimSignOff removes a signature block at the end: a sign-off line
// ("Best regards,") followed by two to maxSigLines short lines (name,
// title, organisation, phone). A sign-off followed by a name alone stays: it
// is part of the message as written.
func trimSignOff(lines []string) []string {
	end := len(lines)
	for end > 0 && lines[end-1] == "" {
		end--
	}
	n := 0
	for i := end - 1; i >= 0 && n <= maxSigLines; i-- {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			continue
		}
		if len(t) > maxSigLineLen {
			return lines
		}
		if signOffs[strings.ToLower(strings.TrimRight(t, ",.!;: "))] {
			if n >= 2 {
				return lines[:i]
			}
			return lines
		}
		n++
	}
	return lines
}
