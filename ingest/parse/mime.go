package parse

// MIME parsing of received mail: what liaisond needs from a message (envelope
// headers, the text to read the submission fields from, the attachments),
// recovered as well as possible from malformed mail, with the problems found
// phrased for the sender.
//
// enmime splits the MIME structure and reads the headers. It is used with
// RawContent, so transfer and charset decoding are done here: attachments keep
// their bytes as sent, and text gets a predictable charset fallback
// (Windows-1252) instead of statistical detection.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/mail"
	"net/textproto"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string // decoded filename (RFC 2231 / RFC 2047), sanitized: no path separators, no control chars, trimmed; "attachment-N" + extension guessed from content type when empty
	ContentType string // lowercased media type without parameters, e.g. "application/pdf"
	Data        []byte // content after transfer decoding, bytes as sent (no charset conversion)
	// Encoded is where Data lies, transfer-encoded, in the raw message
	// given to ParseMessage, when that is one contiguous range of it (a
	// body kept out of enmime, mime_large.go); zero otherwise. The store
	// may then keep the attachment as a reference into the stored message
	// instead of a second copy, once the caller has checked that decoding
	// the range gives Data.
	Encoded Span
}

// Span is a range of a raw message and the Content-Transfer-Encoding of the
// bytes in it (RFC 2045 6): "base64", "quoted-printable", or "" for
// 7bit, 8bit and binary (taken as they are).
type Span struct {
	Offset, Length int
	Encoding       string
	// Decoded says that Data is what the Decoder given to
	// ParseMessageWith made of exactly this range: the store, whose
	// decoder it is, can keep the attachment as the range without
	// decoding it again to check.
	Decoded bool
}

// Decoder decodes a body in a Content-Transfer-Encoding ("base64")
// strictly, with an error for anything it does not decode exactly; for
// input it takes, it must give what the parser's own decoder gives (the
// store's decoder, store.DecodeTransfer, is one: base64 in lines of the
// alphabet, padding at the end).
type Decoder func(encoding string, b []byte) ([]byte, error)

// ParseMessageWith is ParseMessage decoding each base64 body that lies
// whole in raw with decode first (falling back to the parser's tolerant
// decoding when decode refuses it), and saying so in the attachment's
// Encoded span.
func ParseMessageWith(raw []byte, decode Decoder) (*Message, error) {
	return parseMessageWith(raw, elideFrom, decode)
}

// Message is what liaisond needs from a received mail.
type Message struct {
	MessageID  string   // Message-ID without angle brackets, "" when absent
	InReplyTo  []string // ids without brackets
	References []string
	Subject    string  // RFC 2047-decoded, trimmed, valid UTF-8
	From       Address // first From address; zero if unparseable
	ReplyTo    []Address
	To, Cc     []Address
	Date       time.Time // zero when absent/unparseable

	// Text is the first text/plain body part as valid UTF-8 with "\n" line
	// endings, format=flowed undone (RFC 3676). When the message has no
	// text/plain body part with more than white space, it is the first HTML
	// body part converted to text (see htmlToText), and TextFromHTML is set.
	Text         string
	TextFromHTML bool

	// HTML is the first text/html body part, decoded to valid UTF-8, "" when
	// there is none. Replies are stripped of their quotes as HTML (ReplyText).
	HTML string

	// Attachments are the non-body parts, in message order, at most
	// MaxAttachments. Body parts are text/plain and text/html parts without a
	// filename that are not marked "attachment"; a text part with a filename is
	// an attachment. Left out: parts an HTML body part refers to with a "cid:"
	// URL (RFC 2392: logos, signature images; unless marked "attachment"), the
	// signature of a multipart/signed (RFC 1847), and empty parts without a
	// name.
	Attachments []Attachment
	// OmittedAttachments names the attachments past MaxAttachments, in
	// message order (at most maxOmittedNames of them): not made attachments
	// of a statement, but kept in the stored raw mail.
	OmittedAttachments []string

	// Header holds the top-level header fields, values raw (not RFC 2047
	// decoded, folding undone), keys canonical (textproto.CanonicalMIMEHeaderKey).
	Header mail.Header

	// Problems are the MIME problems found, phrased for humans, for the error
	// reply and the log.
	Problems []string

	// contentPromised is set when the header announced content: a multipart, or
	// a non-empty body. See IsSevere.
	contentPromised bool
}

// Limits against hostile messages. The caller limits the size; enmime has no
// limit on parts or nesting. Measured costs: 20,000 sibling parts 2-5 s
// (quadratic); 3,000 nested multiparts 6 s; 10 MB under 60 nested multiparts
// 4 s (each level is a pass over its content). Multiparts without close
// delimiter cost time exponential in their nesting: enmime stacks a bufio and
// a boundary reader per level, and at the end of input each level reads the
// one below several times (16 levels 30 ms; each further level about doubles it).
// maxBoundaryLines and maxMultiparts bound these.
const (
	maxBoundaryLines = 1000 // delimiter lines; the message is cut before the next one
	maxMultiparts    = 16   // multipart containers split into parts; further ones are not read
	maxAddressHeader = 256 << 10
	MaxAttachments   = 100
	maxOmittedNames  = 1000 // names of attachments past MaxAttachments kept for the receipt
	maxProblems      = 30
	maxProblemLen    = 300 // bytes; enmime quotes whole header lines in its details
	maxPartErrors    = 10  // enmime errors kept per part
	maxFilenameLen   = 200 // bytes
)

// IsSevere reports whether the message is so broken that a submission should
// be rejected as unreadable: no text (only white space) and no attachment
// could be recovered although the header promised content (a multipart
// Content-Type, or a body that is not empty). This covers a multipart whose
// structure could not be read (no boundary, nested too deeply), damaged
// encodings that left nothing, and HTML without any text. A message with an
// empty body and no multipart Content-Type is not severe: it is merely empty,
// and the submission checks will say what is missing.
func (m *Message) IsSevere() bool {
	return m.contentPromised && strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0
}

// ParseMessage parses a raw RFC 5322 message. It returns an error only when the input is not a mail at all
// (no header section); malformed MIME yields a Message with what could be recovered plus Problems.
// It never panics (recover inside and turn a panic into an error, as enmime has had panics on hostile input).
func ParseMessage(raw []byte) (m *Message, rerr error) {
	return parseMessage(raw, elideFrom)
}

// parseMessage is ParseMessage keeping bodies of at least minElided bytes
// out of enmime (mime_large.go); a negative minElided hands enmime every
// body (tests compare).
func parseMessage(raw []byte, minElided int) (m *Message, rerr error) {
	return parseMessageWith(raw, minElided, nil)
}

func parseMessageWith(raw []byte, minElided int, decode Decoder) (m *Message, rerr error) {
	defer func() {
		if x := recover(); x != nil {
			m, rerr = nil, fmt.Errorf("parsing message: internal error: %v", x)
		}
	}()

	whole := raw // the Encoded spans are offsets into it
	// Pipe delivery (e.g. Postfix pipe with flag F) may start with an mbox "From " line.
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	if !startsWithHeaderField(raw) {
		return nil, errors.New("not a mail message: no header section")
	}

	p := &msgParser{m: &Message{}, seen: map[string]bool{}, minElided: minElided, whole: whole, decode: decode}
	if err := p.parse(raw); err != nil {
		// A header section but a structure enmime refuses: keep what the
		// header says and report the problem, so the sender is answered
		// rather than the message called "not a mail".
		fb := &msgParser{m: &Message{contentPromised: true, Header: mail.Header{}}, seen: map[string]bool{}}
		fb.problem("its MIME structure could not be read (%v)", err)
		m := fb.m
		if pm, perr := mail.ReadMessage(bytes.NewReader(raw)); perr == nil {
			m.Header = pm.Header
			m.MessageID = strings.Trim(strings.TrimSpace(pm.Header.Get("Message-Id")), "<>")
			if a, aerr := mail.ParseAddress(pm.Header.Get("From")); aerr == nil {
				m.From = Address{Name: a.Name, Addr: strings.ToLower(a.Address)}
			}
			// Decoded and made one line as on the usual path: the subject
			// goes into the answer's Subject and into logs.
			m.Subject = oneLine(decodeHeaderText(pm.Header.Get("Subject")))
		}
		return m, nil
	}
	return p.m, nil
}

// startsWithHeaderField reports whether the first line is a header field: a
// name of printable ASCII without colon, then a colon (RFC 5322 2.2; white space
// before the colon is obsolete syntax, RFC 5322 4.5).
func startsWithHeaderField(raw []byte) bool {
	line := raw
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	name := bytes.TrimRight(line[:i], " \t")
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// msgParser holds the state of one ParseMessage call.
type msgParser struct {
	m *Message

	multiparts int  // calls of parseMediaType that returned a multipart with boundary
	tooDeep    bool // multiparts beyond maxMultiparts were left unread

	haveText   bool
	haveHTML   bool
	html       string   // first HTML body part, decoded
	htmlBodies []string // all HTML body parts, lowercased, to find cid: references
	candidates []candidate
	elided     elisions // bodies kept out of enmime (mime_large.go)
	whole      []byte   // the raw message given to ParseMessage: elided bodies are slices of it, at cap(whole)-cap(body)
	decode     Decoder  // nil: none (ParseMessageWith)
	minElided  int      // the size from which they are; negative: none

	seen    map[string]bool // problems already added
	dropped int             // problems beyond maxProblems
}

// candidate is a part that becomes an attachment unless an HTML body refers to it.
type candidate struct {
	part    *enmime.Part
	data    []byte
	encoded Span
}

func (p *msgParser) problem(format string, args ...any) {
	// Details may quote raw message bytes.
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD"))
	if len(s) > maxProblemLen {
		s = truncateUTF8(s, maxProblemLen) + "…"
	}
	if p.seen[s] {
		return
	}
	p.seen[s] = true
	if len(p.m.Problems) >= maxProblems {
		p.dropped++
		return
	}
	p.m.Problems = append(p.m.Problems, s)
}

// where names a part for a problem: "message" for the top level, else the
// part number as in IMAP (RFC 9051 6.4.5), e.g. "part 2.1".
func where(num string) string {
	if num == "" {
		return "message"
	}
	return "part " + num
}

func childNum(parent string, i int) string {
	if parent == "" {
		return strconv.Itoa(i)
	}
	return parent + "." + strconv.Itoa(i)
}

func (p *msgParser) newParser() *enmime.Parser {
	return enmime.NewParser(
		enmime.RawContent(true),
		enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.MaxStoredPartErrors(maxPartErrors),
		enmime.SetCustomParseMediaType(p.parseMediaType),
	)
}

// parseMediaType is enmime's media type parser with three changes: it never
// fails (an unreadable Content-Type is taken as text/plain, RFC 2045 5.2), it
// stops splitting multiparts after maxMultiparts by dropping their boundary,
// and it decodes RFC 2231 filenames in charsets Go's mime package does not
// know (it knows only utf-8 and us-ascii).
func (p *msgParser) parseMediaType(v string) (string, map[string]string, []string, error) {
	mt, params, invalid, err := mediatype.Parse(v)
	if err != nil {
		p.problem("unreadable MIME header value %q ignored", v)
		return "", map[string]string{}, nil, nil
	}
	if params == nil {
		params = map[string]string{}
	}
	// enmime parses a multipart's Content-Type about twice, hence the factor.
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		p.multiparts++
		if p.multiparts > 2*maxMultiparts {
			delete(params, "boundary")
			p.tooDeep = true
		}
	}
	for _, k := range []string{"filename", "name"} {
		if params[k] == "" && strings.Contains(v, "*") {
			if s := decodeRFC2231Param(v, k); s != "" {
				params[k] = s
			}
		}
	}
	// enmime lists them in map order: sorted, the problems they make come
	// in the same order each time.
	slices.Sort(invalid)
	return mt, params, invalid, nil
}

func (p *msgParser) parse(raw []byte) error {
	boundaries := scanBoundaries(raw)
	data, cut := limitBoundaryLines(raw, boundaries)
	skeleton := data
	if p.minElided >= 0 {
		if cut {
			boundaries = scanBoundaries(data)
		}
		skeleton, p.elided = elide(data, boundaries, p.minElided)
	}
	root, err := p.newParser().ReadParts(bytes.NewReader(skeleton))
	if err != nil {
		return fmt.Errorf("reading message: %v", err)
	}

	p.header(root)
	if cut {
		p.problem("message has more than %d MIME parts; the rest was not read", maxBoundaryLines)
	}

	body := data[HeaderEnd(data):]
	p.m.contentPromised = strings.HasPrefix(root.ContentType, "multipart/") || len(bytes.TrimSpace(body)) > 0

	if strings.HasPrefix(root.ContentType, "multipart/") && root.FirstChild == nil && root.Boundary == "" && !hasBoundaryParam(root) {
		// RFC 2046 5.1.1 requires the boundary parameter. Some broken software
		// leaves it out; when the body has a consistent delimiter line, use it.
		p.partErrors(root, "")
		if b := guessBoundary(body); b != "" {
			synth := append([]byte("Content-Type: "+root.ContentType+"; boundary=\""+b+"\"\r\n\r\n"), body...)
			if root2, err := p.newParser().ReadParts(bytes.NewReader(synth)); err == nil {
				p.problem("message: multipart without boundary parameter; parts split at the delimiter %q found in the body", "--"+b)
				p.walk(root2, "", "", 0)
				p.finish()
				return nil
			}
		}
		p.problem("message: multipart without boundary parameter; its parts cannot be read")
		p.finish()
		return nil
	}

	p.walk(root, "", "", 0)
	p.finish()
	return nil
}

// header fills the envelope fields from the top-level header.
func (p *msgParser) header(root *enmime.Part) {
	m := p.m
	m.Header = mail.Header{}
	keys := make([]string, 0, len(root.Header))
	for k := range root.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order when two spellings map to one key
	for _, k := range keys {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		m.Header[ck] = append(m.Header[ck], root.Header[k]...)
	}

	if ids := parseMsgIDs(m.Header.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = parseMsgIDs(m.Header.Get("In-Reply-To"))
	m.References = parseMsgIDs(m.Header.Get("References"))
	m.Subject = oneLine(decodeHeaderText(m.Header.Get("Subject")))

	if l := p.addressList("From"); len(l) > 0 {
		m.From = l[0]
	}
	m.ReplyTo = p.addressList("Reply-To")
	m.To = p.addressList("To")
	m.Cc = p.addressList("Cc")

	if v := strings.TrimSpace(m.Header.Get("Date")); v != "" {
		if t, err := mail.ParseDate(v); err == nil {
			m.Date = t
		}
	}
}

func (p *msgParser) addressList(field string) []Address {
	v := strings.TrimSpace(p.m.Header.Get(field))
	if v == "" {
		return nil
	}
	if len(v) > maxAddressHeader {
		// Thousands of addresses: parsing costs seconds, and no liaison needs them.
		p.problem("header %s: too long (%d bytes), not read", field, len(v))
		return nil
	}
	l, err := parseAddressHeader(v)
	if err != nil {
		p.problem("header %s: cannot read the address list %q", field, v)
		return nil
	}
	return l
}

// parseAddressHeader parses an address list header value, tolerating 8-bit
// Latin-1 and unknown charsets in display names, and missing commas (enmime).
func parseAddressHeader(v string) ([]Address, error) {
	v = rawHeaderUTF8(v)
	ap := mail.AddressParser{WordDecoder: wordDecoder()}
	l, err := ap.ParseList(v)
	if err != nil {
		var err2 error
		if l, err2 = enmime.ParseAddressList(v); err2 != nil {
			return nil, err
		}
	}
	var r []Address
	for _, a := range l {
		if a == nil {
			continue
		}
		// Encoded words inside a quoted display name are not allowed (RFC 2047
		// 5) but common; the address parser leaves them.
		r = append(r, Address{
			Name: oneLine(decodeHeaderText(a.Name)),
			Addr: strings.ToLower(oneLine(strings.ToValidUTF8(a.Address, "\uFFFD"))),
		})
	}
	return r, nil
}

// parseMsgIDs returns the msg-ids (RFC 5322 3.6.4) in v without angle
// brackets. Without brackets, the words holding an "@" are taken: some
// software leaves the brackets out.
func parseMsgIDs(v string) []string {
	var ids []string
	clean := func(s string) string {
		s = strings.Join(strings.Fields(s), "") // folding inside an id
		s = strings.ToValidUTF8(s, "")
		return strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || r == '<' || r == '>' {
				return -1
			}
			return r
		}, s)
	}
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '>')
		if j < 0 {
			break
		}
		if id := clean(rest[i+1 : i+1+j]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[i+1+j+1:]
	}
	if len(ids) == 0 {
		for _, w := range strings.Fields(v) {
			if strings.Contains(w, "@") && !strings.ContainsAny(w, "<>()") {
				ids = append(ids, clean(w))
			}
		}
	}
	return ids
}

// wordDecoder decodes RFC 2047 encoded words; unknown charsets are read as
// UTF-8 when valid, else Windows-1252, so decoding never fails on them.
func wordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{
		CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			if e := lookupCharset(cs); e != nil {
				if d, err := e.NewDecoder().Bytes(b); err == nil {
					return bytes.NewReader(d), nil
				}
			}
			return strings.NewReader(latin1Fallback(b)), nil
		},
	}
}

// rawHeaderUTF8 returns a raw header value as valid UTF-8: 8-bit header values
// are UTF-8 (RFC 6532), or else in practice Latin-1.
func rawHeaderUTF8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return latin1Fallback([]byte(v))
}

// decodeHeaderText decodes an unstructured header value (RFC 2047 encoded
// words) into valid UTF-8.
func decodeHeaderText(v string) string {
	v = rawHeaderUTF8(v)
	if strings.Contains(v, "=?") {
		if s, err := wordDecoder().DecodeHeader(v); err == nil {
			v = s
		}
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// oneLine returns a decoded header value with control characters (which
// encoded words can carry, e.g. CR LF) replaced by spaces, and trimmed: the
// values end up in replies and logs.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// latin1Fallback decodes b as UTF-8 when valid, else as Windows-1252 (the
// superset of ISO-8859-1 that mail software uses in practice, WHATWG).
func latin1Fallback(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(s), "\uFFFD")
}

// lookupCharset returns the decoder for a MIME charset name, or nil when
// unknown. WHATWG labels first (they map iso-8859-1 and us-ascii to
// windows-1252, as mail software writes them), then the IANA registry.
func lookupCharset(name string) encoding.Encoding {
	name = strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	if name == "" {
		return nil
	}
	if e, err := htmlindex.Get(name); err == nil && e != nil && e != encoding.Replacement {
		return e
	}
	if e, err := ianaindex.MIME.Encoding(name); err == nil && e != nil {
		return e
	}
	return nil
}

// hasBoundaryParam reports whether the part's Content-Type header has a
// boundary parameter, telling a multipart that lost its boundary to
// parseMediaType's limit from one sent without.
func hasBoundaryParam(part *enmime.Part) bool {
	_, params, _, err := mediatype.Parse(part.Header.Get("Content-Type"))
	return err == nil && params["boundary"] != ""
}

// walk visits the parts depth first. num is the part number, parent the
// media type of the enclosing multipart, nth the position in it (1-based).
func (p *msgParser) walk(part *enmime.Part, num, parent string, nth int) {
	p.partErrors(part, num)
	if strings.HasPrefix(part.ContentType, "multipart/") {
		if part.FirstChild == nil && part.Boundary == "" {
			if p.tooDeep && hasBoundaryParam(part) {
				p.problem("%s: more than %d nested or repeated multiparts; the rest was not read", where(num), maxMultiparts)
			} else {
				p.problem("%s: multipart without boundary parameter; its parts cannot be read", where(num))
			}
			return
		}
		i := 0
		for c := part.FirstChild; c != nil; c = c.NextSibling {
			i++
			p.walk(c, childNum(num, i), part.ContentType, i)
		}
		return
	}
	p.leaf(part, num, parent, nth)
}

// partErrors turns enmime's errors of a part into problems.
func (p *msgParser) partErrors(part *enmime.Part, num string) {
	for _, e := range part.Errors {
		switch e.Name {
		case enmime.ErrorMissingContentType:
			// RFC 2045 5.2: text/plain is the default, not an error.
		case enmime.ErrorMissingBoundary:
			p.problem("%s: multipart is not closed by its final boundary; the message may be truncated", where(num))
		case enmime.ErrorMalformedHeader:
			p.problem("%s: malformed header: %s", where(num), e.Detail)
		default:
			p.problem("%s: %s: %s", where(num), strings.ToLower(e.Name), e.Detail)
		}
	}
}

func (p *msgParser) leaf(part *enmime.Part, num, parent string, nth int) {
	// RFC 1847 2.1: the second part of multipart/signed is the signature.
	if parent == "multipart/signed" && nth == 2 {
		return
	}
	data, encoded := p.decodeTransfer(part, num)
	ct := part.ContentType
	isText := ct == "text/plain" || ct == "" // RFC 2045 5.2 default
	isHTML := ct == "text/html"
	if (isText || isHTML) && !strings.EqualFold(part.Disposition, "attachment") && part.FileName == "" {
		s := p.decodeText(part, num, data, isHTML)
		if isHTML {
			p.htmlBodies = append(p.htmlBodies, strings.ToLower(s))
			if !p.haveHTML {
				p.haveHTML = true
				p.html = s
			}
		} else if !p.haveText {
			p.haveText = true
			p.m.Text = s
		}
		return
	}
	p.candidates = append(p.candidates, candidate{part, data, encoded})
}

// finish sets the text from HTML when needed and picks the attachments.
func (p *msgParser) finish() {
	m := p.m
	m.HTML = p.html
	// An empty text/plain alternative next to the HTML is common enough.
	if (!p.haveText || strings.TrimSpace(m.Text) == "") && p.haveHTML {
		m.Text = htmlToText(p.html)
		m.TextFromHTML = true
	}

	extra := 0
	for _, c := range p.candidates {
		if p.htmlResource(c.part) {
			continue
		}
		name := sanitizeFilename(c.part.FileName)
		if name == "" && len(c.data) == 0 {
			continue
		}
		if len(m.Attachments) >= MaxAttachments {
			extra++
			if len(m.OmittedAttachments) < maxOmittedNames {
				if name == "" {
					name = fmt.Sprintf("attachment-%d%s", MaxAttachments+extra, extensionFor(c.part.ContentType))
				}
				m.OmittedAttachments = append(m.OmittedAttachments, name)
			}
			continue
		}
		ct := c.part.ContentType
		if ct == "" {
			ct = "text/plain"
			if c.part.Header.Get("Content-Type") != "" {
				ct = "application/octet-stream"
			}
		}
		if name == "" {
			name = fmt.Sprintf("attachment-%d%s", len(m.Attachments)+1, extensionFor(ct))
		}
		m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: ct, Data: c.data, Encoded: c.encoded})
	}
	if extra > 0 {
		p.problem("message has %d attachments; only the first %d were kept", MaxAttachments+extra, MaxAttachments)
	}
	if p.dropped > 0 {
		m.Problems = append(m.Problems, fmt.Sprintf("… and %d more problems", p.dropped))
	}
}

// htmlResource reports whether an HTML body part refers to the part with a
// cid: URL (RFC 2392), making it part of the body's rendering rather than an
// attachment, unless the sender marked it as attachment.
func (p *msgParser) htmlResource(part *enmime.Part) bool {
	if len(p.htmlBodies) == 0 || strings.EqualFold(part.Disposition, "attachment") {
		return false
	}
	id := strings.TrimSpace(part.Header.Get("Content-Id"))
	id = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">"))
	if id == "" {
		return false
	}
	forms := []string{strings.ToLower(id)}
	if u, err := url.PathUnescape(id); err == nil && u != id {
		forms = append(forms, strings.ToLower(u))
	}
	forms = append(forms, strings.ToLower(url.PathEscape(id)))
	for _, h := range p.htmlBodies {
		for _, f := range forms {
			if strings.Contains(h, "cid:"+f) {
				return true
			}
		}
	}
	return false
}

// decodeTransfer undoes the Content-Transfer-Encoding (RFC 2045 6),
// tolerating damage. It also says where the encoded content lies in the raw
// message when it is one elided body, whole (zero Span otherwise).
func (p *msgParser) decodeTransfer(part *enmime.Part, num string) ([]byte, Span) {
	content := p.elided.restore(part.Content)
	var at Span
	if p.elided.whole(part.Content) && len(content) > 0 {
		// An elided body is a slice of the message: its offset is how far
		// its capacity falls short of the message's, checked to be so.
		off := cap(p.whole) - cap(content)
		if off >= 0 && off+len(content) <= len(p.whole) && &p.whole[off] == &content[0] {
			at = Span{Offset: off, Length: len(content)}
		}
	}
	cte := strings.ToLower(strings.TrimSpace(part.Header.Get("Content-Transfer-Encoding")))
	if i := strings.IndexAny(cte, " \t;("); i >= 0 {
		cte = cte[:i]
	}
	switch cte {
	case "", "7bit", "8bit", "binary":
		return content, at
	case "base64":
		if at.Length > 0 && p.decode != nil {
			if data, err := p.decode(cte, content); err == nil {
				at.Encoding, at.Decoded = cte, true
				return data, at
			}
		}
		data, damaged := decodeBase64(content)
		if damaged {
			p.problem("%s: damaged base64 encoding; some content may be lost", where(num))
		}
		if at.Length > 0 {
			at.Encoding = cte
		}
		return data, at
	case "quoted-printable":
		data, damaged := decodeQP(content)
		if damaged {
			p.problem("%s: malformed quoted-printable encoding, decoded as well as possible", where(num))
		}
		if at.Length > 0 {
			at.Encoding = cte
		}
		return data, at
	default:
		p.problem("%s: unknown Content-Transfer-Encoding %q, content taken as is", where(num), cte)
		return content, Span{}
	}
}

// decodeBase64 decodes base64 (RFC 2045 6.8), skipping characters outside
// the alphabet and decoding each "="-terminated run on its own (some
// software concatenates encoded blocks).
func decodeBase64(b []byte) (data []byte, damaged bool) {
	// One output buffer of the final size at most, filled as the input is
	// read: a large attachment is held once decoded, not also as a filtered
	// copy of its encoding (full quanta decode alike in pieces or whole).
	out := make([]byte, 0, base64.RawStdEncoding.DecodedLen(len(b))+3)
	if n, ok := decodeBase64Clean(out[:cap(out)], b); ok {
		return out[:n], false
	}
	return decodeBase64Tolerant(out, b)
}

// decodeBase64Clean decodes base64 as mail software writes it, lines of the
// alphabet with padding at the end only, into out (of DecodedLen size at
// least), reporting false for anything else. It gives what
// decodeBase64Tolerant gives for such input, at the speed of encoding/base64
// (whose decoder skips CR and LF) rather than a byte at a time: one run,
// since "=" only ends the input; the padding is left out (decoded raw, as
// decodeBase64Tolerant decodes its runs) with the white space around it.
func decodeBase64Clean(out, b []byte) (int, bool) {
	end := len(b)
	for end > 0 {
		switch b[end-1] {
		case '=', '\r', '\n', ' ', '\t':
			end--
			continue
		}
		break
	}
	// Any other character, an "=" or a space before the end, or a last
	// quantum of one character is an error here; the tolerant decoder
	// then reads the input again and says what it makes of it.
	n, err := base64.RawStdEncoding.Decode(out, b[:end])
	return n, err == nil
}

// decodeBase64Tolerant is decodeBase64 for any input, out its empty
// output buffer of DecodedLen capacity.
func decodeBase64Tolerant(out, b []byte) (data []byte, damaged bool) {
	var chunk [4096]byte
	run := chunk[:0]
	decode := func() {
		n, err := base64.RawStdEncoding.Decode(out[len(out):cap(out)], run)
		if err != nil {
			damaged = true
		}
		out = out[:len(out)+n]
		run = run[:0]
	}
	flush := func() {
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
			damaged = true
		}
		decode()
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			run = append(run, c)
			if len(run) == cap(run) {
				decode() // a multiple of 4: whole quanta
			}
		case c == '=':
			if len(run) > 0 {
				flush()
			}
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			damaged = true
		}
	}
	if len(run) > 0 {
		flush()
	}
	return out, damaged
}

// decodeQP decodes quoted-printable (RFC 2045 6.7). An "=" not starting an
// escape or soft line break is kept, as most readers do.
func decodeQP(b []byte) (data []byte, damaged bool) {
	out := make([]byte, 0, len(b))
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '=':
			if i+2 < len(b) {
				h, ok1 := unhex(b[i+1])
				l, ok2 := unhex(b[i+2])
				if ok1 && ok2 {
					out = append(out, h<<4|l)
					i += 3
					continue
				}
			}
			// Soft line break, possibly with (illegal) white space after the "=".
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j == len(b) {
				i = j
				continue
			}
			if b[j] == '\n' {
				i = j + 1
				continue
			}
			if b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
				i = j + 2
				continue
			}
			damaged = true
			out = append(out, '=')
			i++
		case ' ', '\t':
			// Trailing white space was added in transport and is removed (rule 3).
			j := i
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j == len(b) || b[j] == '\n' || b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n' {
				i = j
				continue
			}
			out = append(out, b[i:j]...)
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out, damaged
}

// decodeText decodes a text body part into valid UTF-8 with "\n" line
// endings. A known declared charset is used; text that is not valid in the
// declared (or defaulted) US-ASCII/UTF-8, and text in an unknown charset, is
// read as Windows-1252 unless it is valid UTF-8.
func (p *msgParser) decodeText(part *enmime.Part, num string, data []byte, isHTML bool) string {
	_, params, _, _ := mediatype.Parse(part.Header.Get("Content-Type"))
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(params["charset"]), `"'`))
	var s string
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		switch {
		case utf8.Valid(data):
			s = string(data)
		case cs == "" && isHTML:
			// No charset declared: look for a <meta> charset (HTML5 8.2.2.2).
			e, name, _ := charset.DetermineEncoding(data, "text/html")
			if name == "utf-8" {
				e = charmap.Windows1252
				name = "windows-1252"
			}
			d, err := e.NewDecoder().Bytes(data)
			if err != nil {
				d = []byte(latin1Fallback(data))
			}
			s = string(d)
			p.problem("%s: HTML has 8-bit characters but no charset in Content-Type, read as %s", where(num), name)
		case cs == "":
			s = latin1Fallback(data)
			p.problem("%s: text has 8-bit characters but no charset, read as Windows-1252", where(num))
		case strings.HasPrefix(cs, "utf"):
			s = latin1Fallback(data)
			p.problem("%s: text declared as %q is not valid UTF-8, read as Windows-1252", where(num), cs)
		default:
			s = latin1Fallback(data)
			p.problem("%s: text declared as %q has 8-bit characters, read as Windows-1252", where(num), cs)
		}
	default:
		e := lookupCharset(cs)
		if e == nil {
			s = latin1Fallback(data)
			read := "Windows-1252"
			if utf8.Valid(data) {
				read = "UTF-8"
			}
			p.problem("%s: unknown charset %q, read as %s", where(num), cs, read)
		} else if d, err := e.NewDecoder().Bytes(data); err != nil {
			s = latin1Fallback(data)
			p.problem("%s: text is not valid in charset %q, read as Windows-1252", where(num), cs)
		} else {
			s = string(d)
		}
	}
	if cs == "" && isHTML && utf8.Valid(data) {
		// Valid UTF-8 without declared charset: a <meta> naming another
		// charset (e.g. iso-2022-jp, which is 7-bit) still applies.
		if e, name, _ := charset.DetermineEncoding(data, "text/html"); name != "utf-8" && name != "windows-1252" {
			if d, err := e.NewDecoder().Bytes(data); err == nil {
				s = string(d)
			}
		}
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = normalizeNewlines(s)
	if !isHTML && strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return s
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow undoes format=flowed (RFC 3676 4): a line ending in a space
// continues on the next line of the same quote depth; space-stuffing is
// removed; with DelSp=yes the trailing space itself is deleted. The signature
// separator "-- " is not flowed.
func unflow(s string, delsp bool) string {
	lines := strings.Split(s, "\n")
	var b strings.Builder
	b.Grow(len(s))
	inPara := false
	paraDepth := 0
	for i, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		// Space-stuffing (4.4), or the space after quote marks.
		content := strings.TrimPrefix(line[depth:], " ")
		if inPara && depth != paraDepth {
			// Improperly flowed across quote depths (4.5): end the paragraph.
			b.WriteByte('\n')
			inPara = false
		}
		if !inPara {
			if depth > 0 {
				b.WriteString(strings.Repeat(">", depth) + " ")
			}
			paraDepth = depth
		}
		last := i == len(lines)-1
		flowed := strings.HasSuffix(content, " ") && content != "-- " && !last
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		b.WriteString(content)
		inPara = flowed
		if !flowed && !last {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// limitBoundaryLines cuts the message before the (maxBoundaryLines+1)th
// delimiter line of one of its multipart boundaries (scanBoundaries),
// bounding enmime's work on thousands of parts.
func limitBoundaryLines(raw []byte, scanned []string) ([]byte, bool) {
	if len(scanned) == 0 {
		return raw, false
	}
	boundaries := map[string]bool{}
	for _, b := range scanned {
		boundaries[b] = true
	}
	n := 0
	for i, line := range dashLines(raw) {
		l := bytes.TrimRight(line, " \t\r\n")
		if len(l) > 2 {
			b := l[2:]
			if boundaries[string(b)] || len(b) > 2 && bytes.HasSuffix(b, []byte("--")) && boundaries[string(b[:len(b)-2])] {
				n++
				if n > maxBoundaryLines {
					return raw[:i], true
				}
			}
		}
	}
	return raw, false
}

// dashLines yields the lines of data (as bytes.Lines splits them) that
// start with "--", where each starts: the candidates for delimiter lines,
// found by going from one '-' to the next (base64 has none) rather than
// line by line.
func dashLines(data []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		for pos := 0; pos < len(data); {
			i := bytes.IndexByte(data[pos:], '-')
			if i < 0 {
				return
			}
			start := pos + i
			pos = start + 1
			if start > 0 && data[start-1] != '\n' || start+1 == len(data) || data[start+1] != '-' {
				continue
			}
			end := len(data)
			if j := bytes.IndexByte(data[start:], '\n'); j >= 0 {
				end = start + j + 1
			}
			if !yield(start, data[start:end]) {
				return
			}
			pos = end
		}
	}
}

// scanBoundaries returns the boundary parameters of all Content-Type header
// fields in data, in order, once each: those of part headers and, as this is
// a scan without parsing, also of header-like lines in bodies, which errs on
// the safe side. Folding follows enmime: continuation lines start with white
// space or have no colon.
func scanBoundaries(data []byte) []string {
	var l []string
	seen := map[string]bool{}
	for pos := 0; pos < len(data); {
		// A line starting with "content-type" has a '-' 7 bytes in: go
		// from one '-' to the next (base64 has none) rather than line by
		// line.
		i := bytes.IndexByte(data[pos:], '-')
		if i < 0 {
			break
		}
		start := pos + i - 7
		pos += i + 1
		if start < 0 || start > 0 && data[start-1] != '\n' {
			continue
		}
		line, next := lineAt(data, start)
		pos = max(pos, next) // the line may end before the '-'
		var b string
		b, pos = fieldBoundary(data, line, pos)
		if b != "" && !seen[b] {
			seen[b] = true
			l = append(l, b)
		}
	}
	return l
}

// lineAt is the line of data starting at pos, through its '\n', and where
// the next one starts (lines are not split out first: a large message
// would need a slice header per line).
func lineAt(data []byte, pos int) ([]byte, int) {
	if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
		return data[pos : pos+i+1], pos + i + 1
	}
	return data[pos:], len(data)
}

// fieldBoundary reads the boundary parameter of a Content-Type header field
// whose first line is line and whose continuation lines start at pos in
// data: "" when line is not such a field or names no boundary. It returns
// where the field ends (pos itself when line is not a Content-Type field).
func fieldBoundary(data, line []byte, pos int) (string, int) {
	if len(line) < 13 || !bytes.EqualFold(line[:12], []byte("content-type")) {
		return "", pos
	}
	rest := bytes.TrimLeft(line[12:], " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return "", pos
	}
	field := bytes.TrimRight(rest[1:], "\r\n")
	for pos < len(data) {
		nextLine, after := lineAt(data, pos)
		next := bytes.TrimRight(nextLine, "\r\n")
		if len(next) == 0 || next[0] != ' ' && next[0] != '\t' && bytes.IndexByte(next, ':') >= 0 {
			break
		}
		field = append(append(field[:len(field):len(field)], ' '), next...)
		pos = after
	}
	if !bytes.Contains(bytes.ToLower(field), []byte("boundary")) {
		return "", pos
	}
	_, params, _, err := mediatype.Parse(string(field))
	if err != nil {
		return "", pos
	}
	return params["boundary"], pos
}

// HeaderEnd returns the offset of the body: after the first empty line, or
// len(raw) when there is none.
func HeaderEnd(raw []byte) int {
	for i := 0; i < len(raw); {
		end := bytes.IndexByte(raw[i:], '\n')
		if end < 0 {
			return len(raw)
		}
		line := raw[i : i+end]
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			return i + end + 1
		}
		i += end + 1
	}
	return len(raw)
}

// guessBoundary returns the boundary of the first delimiter-like line of a
// multipart body that lacks its boundary parameter, when that delimiter occurs
// at least twice and is a valid boundary (RFC 2046 5.1.1 bchars, 1-70 long).
func guessBoundary(body []byte) string {
	lines := strings.Split(string(body), "\n")
	cand := ""
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if len(l) > 2 && strings.HasPrefix(l, "--") && strings.Trim(l, "-") != "" {
			cand = l[2:]
			break
		}
	}
	if cand == "" || len(cand) > 70 {
		return ""
	}
	for _, c := range cand {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("'()+_,-./:=? ", c)) {
			return ""
		}
	}
	n := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "--"+cand || l == "--"+cand+"--" {
			n++
		}
	}
	if n < 2 {
		return ""
	}
	return cand
}

// decodeRFC2231Param decodes parameter name of a header value from its RFC
// 2231 extended form (name*=charset'lang'value, or continuations name*0*=,
// name*1=...), in any charset known to lookupCharset. It returns "" when
// absent.
func decodeRFC2231Param(v, name string) string {
	_, rest, ok := strings.Cut(v, ";")
	if !ok {
		return ""
	}
	type section struct {
		value   string
		encoded bool
	}
	sections := map[int]section{}
	single := ""
	for _, p := range splitParams(rest) {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.ReplaceAll(val[1:len(val)-1], `\`, "")
		}
		if k == name+"*" {
			single = val
			continue
		}
		num, ok := strings.CutPrefix(k, name+"*")
		if !ok {
			continue
		}
		enc := strings.HasSuffix(num, "*")
		num = strings.TrimSuffix(num, "*")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > 100 {
			continue
		}
		sections[n] = section{val, enc}
	}
	var raw []byte
	var cs string
	decode := func(s string, first bool) {
		if first {
			parts := strings.SplitN(s, "'", 3)
			if len(parts) == 3 {
				cs = parts[0]
				s = parts[2]
			}
		}
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		raw = append(raw, s...)
	}
	switch {
	case single != "":
		decode(single, true)
	case len(sections) > 0:
		for i := 0; ; i++ {
			sec, ok := sections[i]
			if !ok {
				break
			}
			if sec.encoded {
				decode(sec.value, i == 0)
			} else {
				raw = append(raw, sec.value...)
			}
		}
	default:
		return ""
	}
	if e := lookupCharset(cs); e != nil {
		if d, err := e.NewDecoder().Bytes(raw); err == nil {
			return strings.ToValidUTF8(string(d), "\uFFFD")
		}
	}
	return latin1Fallback(raw)
}

// splitParams splits MIME parameters at semicolons outside quoted strings.
func splitParams(s string) []string {
	var l []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				l = append(l, s[start:i])
				start = i + 1
			}
		}
	}
	return append(l, s[start:])
}

// sanitizeFilename makes a sent filename safe to show and to use in a
// Content-Disposition: the last path element only, without control and
// format characters (e.g. bidi overrides that disguise an extension), without
// leading and trailing dots and spaces, at most maxFilenameLen bytes keeping
// the extension.
func sanitizeFilename(s string) string {
	s = latin1Fallback([]byte(s))
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Trim(s, ". ")
	if len(s) > maxFilenameLen {
		ext := path.Ext(s)
		if len(ext) > 16 {
			ext = ""
		}
		s = strings.TrimRight(truncateUTF8(s[:len(s)-len(ext)], maxFilenameLen-len(ext)), ". ") + ext
	}
	return s
}

// truncateUTF8 returns at most n bytes of s, not splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// extensionFor returns a filename extension for a media type. A fixed table,
// not mime.ExtensionsByType, so the names do not depend on the system's
// mime.types.
func extensionFor(ct string) string {
	switch ct {
	case "application/pdf":
		return ".pdf"
	case "application/msword":
		return ".doc"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return ".docx"
	case "application/vnd.ms-excel":
		return ".xls"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return ".xlsx"
	case "application/vnd.ms-powerpoint":
		return ".ppt"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return ".pptx"
	case "application/vnd.oasis.opendocument.text":
		return ".odt"
	case "application/rtf", "text/rtf":
		return ".rtf"
	case "application/zip", "application/x-zip-compressed":
		return ".zip"
	case "application/xml", "text/xml":
		return ".xml"
	case "application/json":
		return ".json"
	case "message/rfc822", "message/global":
		return ".eml"
	case "text/plain", "message/delivery-status", "message/disposition-notification", "text/rfc822-headers":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/csv":
		return ".csv"
	case "text/calendar":
		return ".ics"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/svg+xml":
		return ".svg"
	case "image/tiff":
		return ".tif"
	}
	return ".bin"
}

// htmlToText converts an HTML body to readable text: paragraphs, headings and
// <br> become line breaks (an empty line around paragraphs, except Word's
// margin-less ones: see lineParagraph), list items start with "- ", table
// cells are separated by a space and a row is a line (breaks at a cell's
// start and end are not shown), links become "text <url>" (or the url alone when
// there is no text or the text is the url; mailto: links give the address),
// entities are decoded, and script, style, title and similar elements are
// left out. It uses the tokenizer, not the tree builder, so deep nesting costs
// nothing.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var w textWriter
	skip := 0 // inside elements whose content is not shown
	pre := 0
	linkOpen := false
	lineP := false // the open <p> is a line, not a paragraph (lineParagraph)
	var linkHref string
	var linkStart int

	endLink := func() {
		if !linkOpen {
			return
		}
		linkOpen = false
		text := strings.TrimSpace(w.b.String()[min(linkStart, w.b.Len()):])
		switch target := linkTarget(linkHref); {
		case target == "":
		case text == "":
			w.word(target)
		case !sameLink(text, target):
			w.word("<" + target + ">")
		}
	}

	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			endLink()
			return cleanText(w.b.String())
		case html.TextToken:
			if skip == 0 {
				w.text(string(z.Text()), pre > 0)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if hiddenElement(a) {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch a {
			case atom.Br:
				w.lineBreak()
			case atom.P:
				// Word's (Outlook's) paragraphs have no margins: each is
				// one line as shown, and an empty one ("&nbsp;") is the
				// empty line between paragraphs.
				lineP = lineParagraph(z, hasAttr)
				if lineP {
					w.block(1)
				} else {
					w.block(2)
				}
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Table, atom.Ul, atom.Ol, atom.Dl:
				w.block(2)
			case atom.Pre:
				w.block(2)
				if tt == html.StartTagToken {
					pre++
				}
			case atom.Li:
				w.block(1)
				w.prefix = "- "
			case atom.Td, atom.Th:
				// A cell's leading and trailing paragraph breaks are not
				// shown (Word puts a <p class=MsoNormal> in every cell): a
				// table row "From: | ITU-T SG15" is one line.
				w.space = true
				w.cellEmpty = true
			case atom.A:
				endLink()
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = strings.TrimSpace(string(v))
					}
				}
				if tt == html.StartTagToken && href != "" {
					w.flushSpace()
					linkOpen, linkHref, linkStart = true, href, w.b.Len()
				}
			default:
				if blockElement(a) {
					w.block(1)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hiddenElement(a) {
				if skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch a {
			case atom.P:
				if lineP {
					w.block(1)
				} else {
					w.block(2)
				}
				lineP = false
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Table, atom.Ul, atom.Ol, atom.Dl:
				w.block(2)
			case atom.Pre:
				w.block(2)
				if pre > 0 {
					pre--
				}
			case atom.Td, atom.Th:
				if !w.cellEmpty {
					w.nl = 0 // the cell's trailing breaks; a row's own break stays
				}
				w.space, w.cellEmpty = true, false
			case atom.A:
				endLink()
			default:
				if blockElement(a) {
					w.block(1)
				}
			}
		}
	}
}

// lineParagraph reads the attributes of a <p> start tag and reports whether
// the paragraph is shown as a line without space above and below: Word's
// paragraph classes ("MsoNormal", "MsoPlainText", ... as Outlook writes
// them, with margin 0 in the mail's style sheet) and a style with a zero
// margin ("margin:0", "margin:0cm", "margin-top:0;margin-bottom:0").
func lineParagraph(z *html.Tokenizer, hasAttr bool) bool {
	line := false
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		switch string(k) {
		case "class":
			for _, c := range strings.Fields(string(v)) {
				if len(c) > 3 && strings.EqualFold(c[:3], "mso") {
					line = true
				}
			}
		case "style":
			st := strings.ToLower(strings.Join(strings.Fields(string(v)), ""))
			for _, decl := range strings.Split(st, ";") {
				if zeroMargin(decl, "margin:") {
					line = true
				}
			}
			if strings.Contains(st, "margin-top:0") && strings.Contains(st, "margin-bottom:0") {
				line = true
			}
		}
	}
	return line
}

// zeroMargin reports whether a CSS declaration (spaces removed) is the
// property prop with all its values zero ("margin:0", "margin:0cm0cm0.0001pt"
// counts: the last value of Word's is tiny).
func zeroMargin(decl, prop string) bool {
	v, ok := strings.CutPrefix(decl, prop)
	v = strings.TrimSuffix(v, "!important")
	if !ok || v == "" {
		return false
	}
	return strings.Trim(v, "0.cmptxin") == "" || strings.HasPrefix(v, "0cm0cm0")
}

// hiddenElement reports whether an element's content is not shown as text.
func hiddenElement(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript, atom.Iframe, atom.Noembed, atom.Noframes, atom.Object, atom.Svg, atom.Math:
		return true
	}
	return false
}

func blockElement(a atom.Atom) bool {
	switch a {
	case atom.Div, atom.Tr, atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside, atom.Main,
		atom.Address, atom.Center, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption, atom.Caption, atom.Dt, atom.Dd,
		atom.Tbody, atom.Thead, atom.Tfoot, atom.Body, atom.Html, atom.Details, atom.Summary, atom.Legend:
		return true
	}
	return false
}

// linkTarget returns what to show of a link's href: the address of a mailto:
// link, the URL of other links, "" for links that mean nothing in text
// (fragments, javascript:, cid:, data:).
func linkTarget(href string) string {
	l := strings.ToLower(href)
	switch {
	case href == "", strings.HasPrefix(l, "#"), strings.HasPrefix(l, "javascript:"), strings.HasPrefix(l, "cid:"), strings.HasPrefix(l, "data:"):
		return ""
	case strings.HasPrefix(l, "mailto:"):
		addr, _, _ := strings.Cut(href[len("mailto:"):], "?")
		if u, err := url.PathUnescape(addr); err == nil {
			addr = u
		}
		return strings.TrimSpace(addr)
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, href)
}

// sameLink reports whether a link's text already shows its target, ignoring
// the scheme, "www." and a trailing slash.
func sameLink(text, target string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"https://", "http://", "mailto:", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimSuffix(s, "/")
	}
	return text != "" && norm(text) == norm(target)
}

// textWriter collapses HTML white space and places line breaks.
type textWriter struct {
	b      strings.Builder
	nl     int    // line breaks owed before the next text
	space  bool   // a space is owed before the next text
	prefix string // list item marker owed before the next text

	cellEmpty bool // in a table cell without text yet: its breaks are not shown
}

// block ends the current line and asks for n line breaks (2: an empty line).
func (w *textWriter) block(n int) {
	if w.cellEmpty {
		return
	}
	w.nl = max(w.nl, n)
	w.space = false
}

func (w *textWriter) lineBreak() {
	if w.cellEmpty {
		return
	}
	w.nl++
	w.space = false
}

// flushSpace writes owed line breaks, space and list marker.
func (w *textWriter) flushSpace() {
	if w.b.Len() > 0 {
		if w.nl > 0 {
			w.b.WriteString(strings.Repeat("\n", min(w.nl, 3)))
		} else if w.space {
			w.b.WriteByte(' ')
		}
	}
	w.nl, w.space, w.cellEmpty = 0, false, false
	if w.prefix != "" {
		w.b.WriteString(w.prefix)
		w.prefix = ""
	}
}

func (w *textWriter) word(s string) {
	if w.b.Len() > 0 && w.nl == 0 {
		w.space = true
	}
	w.flushSpace()
	w.b.WriteString(s)
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

func (w *textWriter) text(s string, pre bool) {
	if s == "" {
		return
	}
	if pre {
		w.flushSpace()
		w.b.WriteString(normalizeNewlines(s))
		return
	}
	words := strings.FieldsFunc(s, isHTMLSpace)
	if isHTMLSpace(rune(s[0])) {
		w.space = true
	}
	for i, word := range words {
		if i > 0 {
			w.space = true
		}
		w.flushSpace()
		w.b.WriteString(word)
	}
	if isHTMLSpace(rune(s[len(s)-1])) {
		w.space = true
	}
}

// cleanText replaces no-break spaces, trims trailing white space of lines,
// allows at most one empty line in a row and trims empty lines at both ends.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	empty := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			empty++
			if empty > 1 {
				continue
			}
		} else {
			empty = 0
		}
		out = append(out, l)
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}
