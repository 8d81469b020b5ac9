package parse

// Envelope fields of a submission: DESIGN section 4, after the fields of a
// liaison statement in RFC 4053 section 2.2.1.1.
//
// The fields are written by people, in mail clients, so the parser is tolerant
// where the meaning is clear (spelling of names, synonyms, date forms, address
// forms) and reports a Problem where it is not, quoting what was written and
// saying what to write instead. It never guesses between two meanings.

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Address is a parsed mail address: Addr is the bare addr-spec, lowercased.
type Address struct{ Name, Addr string }

// Field is one envelope field as written (unknown fields end up in Submission.Other).
type Field struct{ Name, Value string }

// Problem is one thing wrong with a submission, phrased for the sender's error reply.
type Problem struct {
	Field   string // the field name as a user would write it, e.g. "Deadline"; "" for the message as a whole
	Message string // what is wrong, quoting the offending value, e.g. `"next week" is not a date`
	Fix     string // what to do, e.g. "write the date as 2027-01-31"
}

// String returns the problem as one line for an error reply, e.g.
// `Deadline: "next week" is not a date; write the date as 2027-01-31`.
func (p Problem) String() string {
	s := p.Message
	if p.Field != "" {
		s = p.Field + ": " + s
	}
	if p.Fix != "" {
		s += "; " + p.Fix
	}
	return s
}

// Submission is the envelope and body of a submitted statement, as parsed by
// ParseFields. Values that could not be understood are left empty and reported
// as a Problem.
type Submission struct {
	From              string
	To                []string
	Title             string
	Purpose           string // information|comment|action|response; "" when absent or unparseable
	Deadline          string // YYYY-MM-DD; "" when absent or unparseable
	ResponseContacts  []Address
	TechnicalContacts []Address
	Cc                []Address
	URLs              []string
	InResponseTo      int64 // 0 when absent
	// InResponseToWords names the statement answered in words, not as
	// LS-n: one this system never recorded (DESIGN 4). "" when absent.
	InResponseToWords string
	Other             []Field
	Body              string
	HasFields         bool // at least one field line was found

	// The values as written, so Check can tell a field that is absent ("")
	// from one that was given but not understood (already a Problem).
	PurposeRaw      string
	DeadlineRaw     string
	InResponseToRaw string
}

// Purposes, RFC 4053 section 2.2.1.1.6.
const (
	PurposeInformation = "information"
	PurposeComment     = "comment"
	PurposeAction      = "action"
	PurposeResponse    = "response"
)

// Fixes shared by ParseFields and Check.
const (
	fixPurpose  = `write one of "Purpose: For Information", "Purpose: For Comment", "Purpose: For Action" or "Purpose: In Response"`
	fixDate     = `write the date as year-month-day, e.g. 2027-01-31`
	fixAddress  = `write addresses as "name@example.org" or "Name <name@example.org>", separated by commas`
	fixRef      = `write the reference of the statement answered, e.g. "In-Response-To: LS-17"`
	fixURL      = `write each URL in full, starting with https:// or http://, separated by spaces or commas`
	exampleDate = "2027-01-31"
)

// maxNameLen is the longest field name; longer text before a colon is prose.
const maxNameLen = 40

// fieldKind is what a recognized field name means.
type fieldKind int

const (
	fieldUnknown fieldKind = iota
	fieldFrom
	fieldTo
	fieldTitle
	fieldSubject // title, unless a Title is given too
	fieldPurpose
	fieldDeadline
	fieldResponseContact
	fieldTechnicalContact
	fieldCc
	fieldURL
	fieldInResponseTo
)

// fieldNames maps a normalized field name (lowercase, without "-", "_" and
// space; see fieldKey) to its meaning. Plurals are found by dropping a final
// "s". The synonyms are the ones people are known to write; keep this small:
// every entry is a name that can no longer be an unknown field.
var fieldNames = map[string]fieldKind{
	"from":  fieldFrom,
	"to":    fieldTo,
	"title": fieldTitle,
	// A Subject line in the text is what people coming from mail write.
	"subject":          fieldSubject,
	"purpose":          fieldPurpose,
	"deadline":         fieldDeadline,
	"responsedeadline": fieldDeadline,
	"replyby":          fieldDeadline,
	"respondby":        fieldDeadline,
	"responsecontact":  fieldResponseContact,
	// A bare "Contact" names whom to answer, the point of a Response Contact
	// (RFC 4053 section 2.2.1.1, envelope information).
	"contact":          fieldResponseContact,
	"technicalcontact": fieldTechnicalContact,
	"techcontact":      fieldTechnicalContact,
	"cc":               fieldCc,
	"attachmenturl":    fieldURL,
	"attachmentlink":   fieldURL,
	"url":              fieldURL,
	"link":             fieldURL,
	"inresponseto":     fieldInResponseTo,
	"inreplyto":        fieldInResponseTo,
	"responseto":       fieldInResponseTo,
}

// urlSchemes are names that, followed by a colon, start a URL or URN rather
// than a field: a line "mailto:x@example.org" or "urn:ietf:..." is text.
var urlSchemes = map[string]bool{
	"http": true, "https": true, "ftp": true, "ftps": true, "sftp": true,
	"mailto": true, "urn": true, "tel": true, "sip": true, "sips": true,
	"file": true, "news": true, "ldap": true, "data": true, "xmpp": true,
}

// fieldKey normalizes a field name: case-insensitive, and "-", "_" and space
// are the same, so "Technical_Contact", "technical contact" and
// "TECHNICAL-CONTACT" are one name.
func fieldKey(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == ' ' || c == '\t':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func lookupField(name string) fieldKind {
	k := fieldKey(name)
	if kind, ok := fieldNames[k]; ok {
		return kind
	}
	// Plurals: "Technical Contacts", "Attachment URLs", "Links".
	if k, ok := strings.CutSuffix(k, "s"); ok {
		return fieldNames[k]
	}
	return fieldUnknown
}

// splitField parses line (without lineIndent) as "Name: value". A name is
// ASCII letters, digits, space, "-" and "_", starting with a letter or with
// a word that has one ("3GPP-Ref", an SDO's own reference number), at most
// maxNameLen long; that keeps URLs, times ("10:30"), dates and most prose out.
func splitField(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 || i > maxNameLen+8 {
		return "", "", false
	}
	name = strings.TrimRight(line[:i], " \t")
	if name == "" || len(name) > maxNameLen || !(isASCIILetter(name[0]) || digitsThenLetter(name)) {
		return "", "", false
	}
	for j := 0; j < len(name); j++ {
		c := name[j]
		if !isASCIILetter(c) && !(c >= '0' && c <= '9') && c != ' ' && c != '\t' && c != '-' && c != '_' {
			return "", "", false
		}
	}
	value = line[i+1:]
	if strings.HasPrefix(value, "/") || urlSchemes[strings.ToLower(name)] {
		return "", "", false
	}
	return name, strings.TrimSpace(value), true
}

// digitsThenLetter reports whether name starts with digits followed by a
// letter in the same word: "3GPP", not "10" or "2027-01-31".
func digitsThenLetter(name string) bool {
	j := 0
	for j < len(name) && name[j] >= '0' && name[j] <= '9' {
		j++
	}
	return j > 0 && j < len(name) && isASCIILetter(name[j])
}

func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// lineIndent returns the leading spaces and tabs of s.
func lineIndent(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// isBlankLine is true for a line of only white space; a line with only a
// non-breaking space, as HTML conversion leaves, is blank too.
func isBlankLine(s string) bool {
	return strings.TrimSpace(strings.ReplaceAll(s, "\uFEFF", "")) == ""
}

// trimBlankLines joins lines, less leading and trailing blank lines.
func trimBlankLines(lines []string) string {
	for len(lines) > 0 && isBlankLine(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && isBlankLine(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// ParseFields splits text (the first text part, already valid UTF-8) into envelope fields and body.
// Problems are syntactic: values that could not be understood. It never panics on any input.
//
// The fields are the lines at the top, "Name: value", with indented continuation
// lines, ended by the first blank line (DESIGN section 4). Leading blank lines, a
// byte order mark, CRLF and an indented first field are tolerated. A line that is
// not a field and not indented, but is followed by more fields before the blank
// line, is taken as a continuation (mail clients wrap long lines without
// indenting); one that is followed by no more fields ends the fields and starts
// the body (the blank line was forgotten). A block without any recognized field
// name ("Dear colleagues:") is not an envelope: then everything is body.
//
// A Problem names its field as the sender wrote it ("Reply By"), so the sender
// finds the line.
func ParseFields(text string) (Submission, []Problem) {
	var s Submission

	text = strings.TrimPrefix(text, "\uFEFF")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")

	first := 0
	for first < len(lines) && isBlankLine(lines[first]) {
		first++
	}
	fields, bodyStart := scanFields(lines, first)
	known := false
	for _, f := range fields {
		if lookupField(f.Name) != fieldUnknown {
			known = true
			break
		}
	}
	if !known {
		s.Body = trimBlankLines(lines)
		return s, nil
	}
	s.HasFields = true
	s.Body = trimBlankLines(lines[bodyStart:])
	return s, s.apply(fields)
}

// scanFields reads the field block starting at lines[first], joining
// continuation lines, and returns the fields and the index where the body
// starts.
func scanFields(lines []string, first int) ([]Field, int) {
	if first >= len(lines) {
		return nil, first
	}
	base := lineIndent(lines[first])
	name, value, ok := splitField(lines[first][len(base):])
	if !ok {
		return nil, first
	}

	// The block ends at the first blank line. A field line is one at no more
	// than the lineIndent of the first field; more indented lines continue.
	isFieldLine := func(l string) bool {
		ind := lineIndent(l)
		if len(ind) > len(base) {
			return false
		}
		_, _, ok := splitField(l[len(ind):])
		return ok
	}
	end := blockEnd(lines, first, base)
	last := first
	for i := end - 1; i > first; i-- {
		if isFieldLine(lines[i]) {
			last = i
			break
		}
	}

	// Values are collected as parts and joined once: appending to a string
	// line by line is quadratic in a long value.
	fields := []Field{{name, ""}}
	parts := [][]string{{value}}
	cont := func(l string) {
		i := len(parts) - 1
		parts[i] = append(parts[i], strings.TrimSpace(l))
	}
	done := func() []Field {
		for i, p := range parts {
			fields[i].Value = collapseJoin(p)
		}
		return fields
	}
	for i := first + 1; i < end; i++ {
		l := lines[i]
		ind := lineIndent(l)
		if len(ind) > len(base) {
			cont(l)
			continue
		}
		if name, value, ok := splitField(l[len(ind):]); ok {
			fields = append(fields, Field{name, ""})
			parts = append(parts, []string{value})
			continue
		}
		if i < last {
			// Wrapped by a mail client: more fields follow.
			cont(l)
			continue
		}
		// The blank line before the body was left out.
		return done(), i
	}
	return done(), end
}

// maxFieldGap is the most blank lines between two fields of one block.
const maxFieldGap = 2

// blockEnd returns the index of the blank line that ends the field block
// starting at lines[first] (len(lines) when none does). Blank lines between
// fields do not end it while the next line is a field the block does not
// have yet: mail clients that write a paragraph per line (Outlook's HTML
// with an empty paragraph between fields, and the plain-text alternative
// Outlook makes of it, with an empty line after each paragraph) separate the
// fields by blank lines. A field name the format does not know (an "other
// identifier") continues the block only when such a field follows it.
func blockEnd(lines []string, first int, base string) int {
	seen := map[fieldKind]bool{}
	note := func(l string) {
		if k, ok := blockField(l, base); ok {
			seen[k] = true
		}
	}
	// next returns the first line after a gap of 1 to maxFieldGap blank
	// lines at i, or -1.
	next := func(i int) int {
		j := i
		for j < len(lines) && j-i < maxFieldGap && isBlankLine(lines[j]) {
			j++
		}
		if j == i || j >= len(lines) || isBlankLine(lines[j]) {
			return -1
		}
		return j
	}
	newField := func(i int) bool {
		k, ok := blockField(lines[i], base)
		return ok && k != fieldUnknown && !seen[k]
	}
	end := first
	for {
		for end < len(lines) && !isBlankLine(lines[end]) {
			note(lines[end])
			end++
		}
		j := next(end)
		if j < 0 {
			return end
		}
		if k, ok := blockField(lines[j], base); !ok || k == fieldUnknown && !fieldFollows(lines, j, base, next, newField) {
			return end
		} else if k != fieldUnknown && seen[k] {
			return end
		}
		end = j
	}
}

// fieldFollows reports whether the unknown field at lines[j] is followed,
// on its next line or after a gap, by a field the block does not have yet.
func fieldFollows(lines []string, j int, base string, next func(int) int, newField func(int) bool) bool {
	i := j + 1
	if i < len(lines) && !isBlankLine(lines[i]) {
		return newField(i)
	}
	if i = next(i); i < 0 {
		return false
	}
	return newField(i)
}

// blockField returns the kind of field on line l of a field block whose
// fields start at the indent base, and whether l is a field line.
func blockField(l, base string) (fieldKind, bool) {
	ind := lineIndent(l)
	if len(ind) > len(base) {
		return 0, false
	}
	name, _, ok := splitField(l[len(ind):])
	if !ok {
		return 0, false
	}
	return lookupField(name), true
}

// collapseJoin joins the non-empty parts of a value with single spaces.
func collapseJoin(parts []string) string {
	var l []string
	for _, p := range parts {
		if p != "" {
			l = append(l, p)
		}
	}
	return strings.Join(l, " ")
}

// apply interprets the fields into s and returns the problems.
func (s *Submission) apply(fields []Field) []Problem {
	var problems []Problem
	add := func(field, msg, fix string) {
		problems = append(problems, Problem{field, msg, fix})
	}

	// Indexes for deduplication; a linear search is quadratic in long lists.
	seenTo := map[string]bool{}
	seenURL := map[string]bool{}
	seenResponse, seenTechnical, seenCc := map[string]int{}, map[string]int{}, map[string]int{}

	var purposeRef int64    // from "Purpose: In Response to LS-17"
	var purposeWords string // from "Purpose: In Response to SG15 LS 123"
	hasTitle := false
	for _, f := range fields {
		if lookupField(f.Name) == fieldTitle && f.Value != "" {
			hasTitle = true
		}
	}

	// Fields that hold one value: a second occurrence that means something
	// else is a problem, never a silent choice between the two. The first
	// one counts.
	type first struct{ value, norm string }
	seen := map[fieldKind]first{}
	once := func(kind fieldKind, f Field, norm string) bool {
		if prev, ok := seen[kind]; ok {
			if !strings.EqualFold(norm, prev.norm) {
				add(f.Name, fmt.Sprintf("given twice, as %q and %q", prev.value, f.Value), fmt.Sprintf("keep one %q line", canonicalName(lookupField(f.Name))))
			}
			return false
		}
		seen[kind] = first{f.Value, norm}
		return true
	}

	for _, f := range fields {
		f.Name = collapseSpaces(f.Name)
		kind := lookupField(f.Name)
		if f.Value == "" && kind != fieldUnknown {
			// An empty field is an absent one.
			continue
		}
		v := f.Value
		switch kind {
		case fieldUnknown:
			s.Other = append(s.Other, f)

		case fieldFrom:
			if once(kind, f, collapseSpaces(v)) {
				s.From = v
			}

		case fieldTo:
			for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
				t = collapseSpaces(t)
				if k := strings.ToLower(t); t != "" && !seenTo[k] {
					seenTo[k] = true
					s.To = append(s.To, t)
				}
			}

		case fieldTitle:
			if once(fieldTitle, f, collapseSpaces(v)) {
				s.Title = v
			}

		case fieldSubject:
			t := CleanSubject(v)
			if hasTitle || t == "" {
				s.Other = append(s.Other, f)
			} else if once(fieldTitle, f, t) {
				s.Title = t
			}

		case fieldPurpose:
			if s.PurposeRaw == "" {
				s.PurposeRaw = v
			}
			p, ref, ok := parsePurpose(v)
			words := ""
			if !ok {
				if words = responseWords(v); words != "" {
					p, ok = PurposeResponse, true
				}
			}
			if !ok {
				add(f.Name, fmt.Sprintf("%q is not a purpose", v), fixPurpose)
			} else if once(kind, f, p) {
				s.Purpose = p
				purposeRef = ref
				purposeWords = words
			}

		case fieldDeadline:
			if s.DeadlineRaw == "" {
				s.DeadlineRaw = v
			}
			d, msg := ParseDate(v)
			if msg != "" {
				add(f.Name, msg, fixDate)
			} else if once(kind, f, d) {
				s.Deadline = d
			}

		case fieldInResponseTo:
			if s.InResponseToRaw == "" {
				s.InResponseToRaw = v
			}
			if n, ok := ParseRef(v); ok {
				if once(kind, f, strconv.FormatInt(n, 10)) {
					s.InResponseTo = n
				}
			} else if ourRefRegexp.MatchString(v) {
				// Meant as one of our references, but not one.
				add(f.Name, fmt.Sprintf("%q is not a statement reference", v), fixRef)
			} else if once(kind, f, "words:"+collapseSpaces(v)) {
				// A statement named in words (another SDO's reference, a
				// title and date): kept as written, linked later by the
				// liaison manager (DESIGN 4).
				s.InResponseToWords = collapseSpaces(v)
			}

		case fieldResponseContact:
			problems = append(problems, parseAddresses(&s.ResponseContacts, seenResponse, f.Name, v)...)
		case fieldTechnicalContact:
			problems = append(problems, parseAddresses(&s.TechnicalContacts, seenTechnical, f.Name, v)...)
		case fieldCc:
			problems = append(problems, parseAddresses(&s.Cc, seenCc, f.Name, v)...)

		case fieldURL:
			problems = append(problems, parseURLs(&s.URLs, seenURL, f.Name, v)...)
		}
	}
	if s.InResponseTo == 0 && s.InResponseToRaw == "" {
		s.InResponseTo = purposeRef
		s.InResponseToWords = purposeWords
	}
	return problems
}

// canonicalName is how a field is named in fixes.
func canonicalName(kind fieldKind) string {
	switch kind {
	case fieldFrom:
		return "From"
	case fieldTo:
		return "To"
	case fieldTitle:
		return "Title"
	case fieldSubject:
		return "Subject"
	case fieldPurpose:
		return "Purpose"
	case fieldDeadline:
		return "Deadline"
	case fieldResponseContact:
		return "Response-Contact"
	case fieldTechnicalContact:
		return "Technical-Contact"
	case fieldCc:
		return "Cc"
	case fieldURL:
		return "Attachment-URL"
	case fieldInResponseTo:
		return "In-Response-To"
	}
	return ""
}

func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// purposes maps the ways people write a purpose, normalized by
// normalizePhrase, to the purposes of RFC 4053 section 2.2.1.1.6.
var purposes = map[string]string{
	"for information": PurposeInformation,
	"information":     PurposeInformation,
	"informational":   PurposeInformation,
	"for info":        PurposeInformation,
	"info":            PurposeInformation,
	"for comment":     PurposeComment,
	"for comments":    PurposeComment,
	"comment":         PurposeComment,
	"comments":        PurposeComment,
	"for action":      PurposeAction,
	"action":          PurposeAction,
	"in response":     PurposeResponse,
	"response":        PurposeResponse,
}

// normalizePhrase lowercases s, makes "-" and "_" spaces, collapses white
// space and drops a final period, so "For  Action." and "for-action" are
// "for action".
func normalizePhrase(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	s = collapseSpaces(s)
	return strings.TrimSpace(strings.TrimSuffix(s, "."))
}

// parsePurpose returns the purpose written in v. People also write the
// statement answered with it, "In Response to LS-17": that is returned as ref.
func parsePurpose(v string) (purpose string, ref int64, ok bool) {
	n := normalizePhrase(v)
	if p, ok := purposes[n]; ok {
		return p, 0, true
	}
	for _, prefix := range []string{"in response to ", "response to "} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			if ref, ok := ParseRef(rest); ok {
				return PurposeResponse, ref, true
			}
		}
	}
	return "", 0, false
}

// responseWords returns the statement named in words after "In Response
// to" in a Purpose value ("In response to COM15-LS123"), or "".
func responseWords(v string) string {
	v = strings.TrimSpace(v)
	lower := strings.ToLower(v)
	for _, prefix := range []string{"in response to", "in-response-to", "response to"} {
		if strings.HasPrefix(lower, prefix) {
			rest := strings.TrimSpace(strings.TrimLeft(v[len(prefix):], ": "))
			if rest != "" && len(rest) < len(v) {
				return collapseSpaces(rest)
			}
		}
	}
	return ""
}

var monthNames = map[string]time.Month{
	"jan": time.January, "january": time.January,
	"feb": time.February, "february": time.February,
	"mar": time.March, "march": time.March,
	"apr": time.April, "april": time.April,
	"may": time.May,
	"jun": time.June, "june": time.June,
	"jul": time.July, "july": time.July,
	"aug": time.August, "august": time.August,
	"sep": time.September, "sept": time.September, "september": time.September,
	"oct": time.October, "october": time.October,
	"nov": time.November, "november": time.November,
	"dec": time.December, "december": time.December,
}

var weekdayNames = map[string]bool{
	"mon": true, "monday": true,
	"tue": true, "tues": true, "tuesday": true,
	"wed": true, "wednesday": true,
	"thu": true, "thur": true, "thurs": true, "thursday": true,
	"fri": true, "friday": true,
	"sat": true, "saturday": true,
	"sun": true, "sunday": true,
}

// dateSeparator reports whether r separates the parts of a date:
// "2027-01-31", "2027/01/31", "31 January 2027", "January 31, 2027",
// "31-Jan-2027", "Jan. 31, 2027". White space is ASCII's, as the regexp
// `[\s,./-]+` this replaces (a function, not a regexp: this runs for every
// submission) had it.
func dateSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\f', '\r', ',', '.', '/', '-':
		return true
	}
	return false
}

// ParseDate parses a deadline in the forms of DESIGN section 4 and a few more,
// returning YYYY-MM-DD, or a message for a Problem. A numeric date with the
// year last is accepted only when day and month cannot be swapped
// ("31/01/2027"); "01/02/2027" means one thing in Europe and another in the US.
func ParseDate(v string) (string, string) {
	notDate := func() string { return fmt.Sprintf("%q is not a date", v) }
	invalid := func() string { return fmt.Sprintf("%q is not a valid date", v) }

	// The parts between separators (none empty), without a weekday.
	p := strings.FieldsFunc(strings.ToLower(v), dateSeparator)
	if len(p) > 0 && weekdayNames[p[0]] {
		p = p[1:]
	}
	if len(p) != 3 {
		return "", notDate()
	}

	var y, m, d int
	var ok bool
	if mon, isMonth := monthNames[p[1]]; isMonth {
		m = int(mon)
		if y, ok = dateDigits(p[0], 4, 4); ok {
			// 2027 January 31.
			d, ok = dateDay(p[2])
		} else if d, ok = dateDay(p[0]); ok {
			// 31 January 2027, 31-Jan-2027.
			y, ok = dateDigits(p[2], 4, 4)
		}
	} else if mon, isMonth := monthNames[p[0]]; isMonth {
		// January 31, 2027.
		m = int(mon)
		if d, ok = dateDay(p[1]); ok {
			y, ok = dateDigits(p[2], 4, 4)
		}
	} else if y, ok = dateDigits(p[0], 4, 4); ok {
		// 2027-01-31, 2027/01/31.
		if m, ok = dateDigits(p[1], 1, 2); ok {
			d, ok = dateDigits(p[2], 1, 2)
		}
	} else if y, ok = dateDigits(p[2], 4, 4); ok {
		// 31/01/2027 (Europe) or 01/31/2027 (US).
		a, aok := dateDigits(p[0], 1, 2)
		b, bok := dateDigits(p[1], 1, 2)
		switch {
		case !aok || !bok:
			ok = false
		case a == 0 || b == 0 || a > 12 && b > 12:
			return "", invalid()
		case a == b || a <= 12 && b > 12:
			m, d = a, b
		case a > 12:
			d, m = a, b
		default:
			return "", fmt.Sprintf("%q is ambiguous (%d %s or %d %s)", v, a, time.Month(b), b, time.Month(a))
		}
	}
	if !ok {
		return "", notDate()
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1000 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", invalid()
	}
	return t.Format("2006-01-02"), ""
}

// dateDigits parses s as a decimal of lo to hi ASCII digits.
func dateDigits(s string, lo, hi int) (int, bool) {
	if len(s) < lo || len(s) > hi {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = 10*n + int(s[i]-'0')
	}
	return n, true
}

// dateDay parses a day of the month, also with an English ordinal suffix: "31st".
func dateDay(s string) (int, bool) {
	for _, suffix := range []string{"st", "nd", "rd", "th"} {
		if t, ok := strings.CutSuffix(s, suffix); ok {
			s = t
			break
		}
	}
	return dateDigits(s, 1, 2)
}

// refRegexp matches a statement reference: "LS-17", "LS 17", "ls17", "[LS-17]",
// "#17" or "17".
var refRegexp = regexp.MustCompile(`(?i)^\[?\s*(?:ls\s*[-_#:]?\s*|#)?(\d{1,18})\s*\]?\.?$`)

// ourRefRegexp matches what begins as one of our references ("LS-17, LS-18",
// "LS-0"): not taken as a statement named in words.
var ourRefRegexp = regexp.MustCompile(`(?i)^\s*\[?\s*(?:ls\s*[-_#:]?\s*|#)?\d+\b`)

func ParseRef(v string) (int64, bool) {
	m := refRegexp.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// parseAddresses adds the addresses in v to *l, without duplicates (index maps
// an address to its position in *l), and returns
// a problem for each entry that is not an address. The list is parsed as RFC
// 5322 address-list first; when that fails (a ";" separator, an unquoted "." or
// "," in a name, a stray "mailto:") each entry is parsed on its own.
func parseAddresses(l *[]Address, index map[string]int, field, v string) []Problem {
	var problems []Problem
	addrs, err := mail.ParseAddressList(v)
	if err != nil {
		addrs = nil
		for _, e := range splitAddressList(v) {
			a, ok := parseAddress(e)
			if !ok {
				problems = append(problems, Problem{field, fmt.Sprintf("%q is not an email address", e), fixAddress})
				continue
			}
			addrs = append(addrs, a)
		}
	}
	for _, a := range addrs {
		addr := Address{Name: strings.TrimSpace(a.Name), Addr: strings.ToLower(a.Address)}
		if !strings.Contains(addr.Addr, "@") {
			problems = append(problems, Problem{field, fmt.Sprintf("%q is not an email address", a.Address), fixAddress})
			continue
		}
		if i, ok := index[addr.Addr]; ok {
			// The first name given is kept.
			if (*l)[i].Name == "" {
				(*l)[i].Name = addr.Name
			}
			continue
		}
		index[addr.Addr] = len(*l)
		*l = append(*l, addr)
	}
	return problems
}

// splitAddressList splits v at "," and ";" outside quotes and angle brackets,
// dropping empty entries. A piece without "@" followed by one with "<" is taken
// as an unquoted name with a comma: "Doe, John <john@example.org>".
func splitAddressList(v string) []string {
	var pieces []string
	var quoted, escaped bool
	angle, start := 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle++
		case c == '>':
			if angle > 0 {
				angle--
			}
		case angle == 0 && (c == ',' || c == ';'):
			pieces = append(pieces, v[start:i])
			start = i + 1
		}
	}
	pieces = append(pieces, v[start:])

	var l, name []string
	for i, p := range pieces {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "@") && i+1 < len(pieces) && strings.Contains(pieces[i+1], "<") {
			name = append(name, p)
			continue
		}
		if name != nil {
			p = strings.Join(append(name, p), ", ")
			name = nil
		}
		l = append(l, p)
	}
	return l
}

// parseAddress parses one address as people write it: "addr", "Name <addr>",
// "addr (Name)", also with an unquoted name that RFC 5322 does not allow
// ("Doe, J. <j@example.org>"), a "mailto:" prefix, or a name followed by a bare
// address ("Expert Two expert2@example.org").
func parseAddress(e string) (*mail.Address, bool) {
	e = strings.TrimSpace(e)
	if a, err := mail.ParseAddress(stripMailto(e)); err == nil {
		return a, true
	}
	var name, addr string
	if i := strings.LastIndexByte(e, '<'); i >= 0 && strings.HasSuffix(e, ">") {
		name, addr = e[:i], e[i+1:len(e)-1]
	} else if i := strings.LastIndexAny(e, " \t"); i >= 0 && strings.Contains(e[i+1:], "@") {
		name, addr = e[:i], e[i+1:]
	} else {
		addr = e
	}
	a, err := mail.ParseAddress("<" + stripMailto(strings.TrimSpace(addr)) + ">")
	if err != nil {
		return nil, false
	}
	a.Name = strings.Trim(strings.TrimSpace(name), `"`)
	return a, true
}

// stripMailto removes a "mailto:" prefix, also inside angle brackets, as
// pasted from a web page.
func stripMailto(s string) string {
	lower := strings.ToLower(s)
	if i := strings.Index(lower, "mailto:"); i >= 0 && (i == 0 || s[i-1] == '<') {
		return s[:i] + s[i+len("mailto:"):]
	}
	return s
}

// parseURLs adds the http and https URLs in v to *l, without duplicates, and
// returns a problem for anything else. URLs are separated by white space or
// commas; the "<...>" of RFC 3986 appendix C is removed.
func parseURLs(l *[]string, seen map[string]bool, field, v string) []Problem {
	var problems []Problem
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		w = strings.TrimSuffix(strings.TrimPrefix(w, "<"), ">")
		if w == "" {
			continue
		}
		u, err := url.Parse(w)
		if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
			problems = append(problems, Problem{field, fmt.Sprintf("%q is not an http or https URL", w), fixURL})
			continue
		}
		if !seen[w] {
			seen[w] = true
			*l = append(*l, w)
		}
	}
	return problems
}

// subjectPrefix matches reply and forward prefixes, each with any list tags
// ("[ccamp]") before it: English "Re:", "Fwd:", "Fw:", German "AW:", "WG:",
// French "TR:", Scandinavian "SV:", Dutch "Antw:", also counted ("Re[2]:").
var subjectPrefix = regexp.MustCompile(`(?i)^(?:(?:\[[^\]]*\]\s*)*(?:re|fwd|fw|aw|wg|tr|sv|antw)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+`)

// leadingTags matches list tags at the start of a subject once the prefixes are gone.
var leadingTags = regexp.MustCompile(`^(?:\[[^\]]*\]\s*)+`)

// lsTag matches the reference tag the daemon puts in its subjects, "[LS-17]",
// also written "[LS 17]" or "[ls17]".
var lsTag = regexp.MustCompile(`(?i)\[\s*ls\s*[- ]?\s*(\d+)\s*\]`)

// CleanSubject removes reply/forward prefixes (Re:, RE:, Fwd:, FW:, AW:, WG:, TR:, SV:, Antw:, repeated, with [list] tags such as "[ccamp]" anywhere before them) and surrounding space, for use as a title fallback. It keeps an "[LS-n]" tag out of the title too.
func CleanSubject(subject string) string {
	s := collapseSpaces(lsTag.ReplaceAllString(subject, " "))
	// One match takes all repeated prefixes; a loop would be quadratic.
	s = subjectPrefix.ReplaceAllString(s, "")
	return strings.TrimSpace(leadingTags.ReplaceAllString(s, ""))
}

// SubjectRef finds an "[LS-17]" reference tag (case-insensitive, also "[LS 17]") in a subject and returns 17, or 0.
func SubjectRef(subject string) int64 {
	m := lsTag.FindStringSubmatch(subject)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// Check adds the semantic problems of a parsed submission (DESIGN rules): missing From, missing To, missing Purpose,
// comment/action without a Deadline (RFC 4053 2.2.1.1.7), response without InResponseTo (the caller passes subjectRef,
// the subject's [LS-n] tag, which counts as an In-Response-To), and neither body text nor attachments.
// Title falls back to CleanSubject(subject) in the caller; a missing title is a problem only if subject is empty too.
// Only report "missing Purpose"/"missing Deadline" when the field is truly absent (an unparseable one already has its problem).
//
// Attachment-URLs count as attachments: a statement that is only a link to
// its document is common. A message without any field gets one more problem
// saying how a submission starts.
func Check(s *Submission, subject string, subjectRef int64, attachments int) []Problem {
	var problems []Problem
	add := func(field, msg, fix string) {
		problems = append(problems, Problem{field, msg, fix})
	}
	if !s.HasFields {
		add("", "the message does not start with the fields of a liaison statement",
			`begin the first text part with lines such as "From: ...", "To: ...", "Title: ...", "Purpose: ...", then a blank line, then the text of the statement`)
	}
	// Envelope information, RFC 4053 section 2.2.1.1.
	if s.From == "" {
		add("From", "the sending body is missing", `add a line "From: <sending body>", e.g. "From: ITU-T Study Group 15"`)
	}
	if len(s.To) == 0 {
		add("To", "the addressed body is missing", `add a line "To: <IETF body>", e.g. "To: IETF CCAMP Working Group"`)
	}
	// The Title may come from the Subject, DESIGN section 4.
	if s.Title == "" && CleanSubject(subject) == "" {
		add("Title", "the statement has no title and the message no subject", `add a line "Title: <title>", e.g. "Title: LS on OTN control"`)
	}
	// RFC 4053 section 2.2.1.1.6.
	if s.Purpose == "" && strings.TrimSpace(s.PurposeRaw) == "" {
		add("Purpose", "the purpose is missing", `add a line with one of "Purpose: For Information", "Purpose: For Comment", "Purpose: For Action" or "Purpose: In Response"`)
	}
	// RFC 4053 section 2.2.1.1.7: a deadline is required when a comment or
	// action is asked for.
	if (s.Purpose == PurposeComment || s.Purpose == PurposeAction) && s.Deadline == "" && strings.TrimSpace(s.DeadlineRaw) == "" {
		add("Deadline", fmt.Sprintf("a statement for %s needs a deadline (RFC 4053, section 2.2.1.1.7)", s.Purpose),
			fmt.Sprintf(`add a line "Deadline: <year-month-day>", e.g. "Deadline: %s"`, exampleDate))
	}
	// A response names the statement it answers, so the two can be linked.
	if s.Purpose == PurposeResponse && s.InResponseTo == 0 && subjectRef == 0 && strings.TrimSpace(s.InResponseToRaw) == "" && s.InResponseToWords == "" {
		add("In-Response-To", "a statement in response does not say which statement it answers",
			`add a line "In-Response-To: LS-<number>" with the reference of that statement, e.g. "In-Response-To: LS-17", or keep its "[LS-17]" tag in the subject`)
	}
	if strings.TrimSpace(s.Body) == "" && attachments == 0 && len(s.URLs) == 0 {
		add("", "the statement has no text and no attachment",
			"write the text of the statement below the fields, after a blank line, or attach it, preferably as PDF")
	}
	return problems
}
