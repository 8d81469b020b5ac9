package parse

import (
	"bytes"
	"strconv"
	"unicode"
)

// Bodies are kept out of enmime: the parser hands it the message with
// each such body replaced by a marker and takes the content from the
// message itself (elide, restore). Two costs make it worth it. enmime's
// boundary reader goes a byte at a time (a Peek, a ReadByte and a buffer
// write per byte, about 40 MB/s), so a statement's 50 KB attachment cost
// more than the rest of deciding about it. And enmime reads every part into
// a buffer that grows as it reads, so a 24 MB attachment would be held once
// more, plus the garbage of the growing.
//
// largeBody is the size from which bodies were first kept out (for the
// memory); elideFrom is the size from which they are, for the time: below
// it, the scan costs about what it saves.
const (
	largeBody = 1 << 20
	elideFrom = 512
)

// elidedPrefix starts the marker that stands for a body; a message
// that contains it is parsed whole.
var elidedPrefix = []byte("liaisond-elided-part-")

// holdsMarker is bytes.Contains(data, elidedPrefix), looking for the
// prefix's first '-' first: base64 has none, but an 'l' every 64 bytes.
func holdsMarker(data []byte) bool {
	lead := bytes.IndexByte(elidedPrefix, '-')
	for pos := lead; pos < len(data); {
		i := bytes.Index(data[pos:], elidedPrefix[lead:])
		if i < 0 {
			return false
		}
		at := pos + i
		if bytes.Equal(data[at-lead:at], elidedPrefix[:lead]) {
			return true
		}
		pos = at + 1
	}
	return false
}

// elisions are the bodies cut out of a message, by marker number; they are
// slices of the message, not copies.
type elisions [][]byte

// elide returns data with the body of every leaf part of at least
// minSize bytes replaced by a marker, and the bodies cut out; boundaries
// are data's (scanBoundaries). A body runs from the blank line after its
// part's header to the line break before the next delimiter line of one
// of the boundaries (RFC 2046 5.1.1: that line break belongs to the
// delimiter), or to the end. Multipart and message
// parts are left whole, as is anything that does not look as expected,
// any body that enmime might read otherwise than elide (seesDelimiter),
// and a message with a delimiter inside a line (midLine): enmime then
// reads it as before.
func elide(data []byte, boundaries []string, minSize int) ([]byte, elisions) {
	if len(data) < minSize || holdsMarker(data) {
		return data, nil
	}
	known := map[string]bool{}
	for _, b := range boundaries {
		if midLine(data, "--"+b) {
			return data, nil
		}
		known[b] = true
	}
	// The delimiter lines: where each starts and where the line after it
	// starts; close delimiters end a multipart and start no part.
	type delimiter struct {
		start, next int
		boundary    string
		close       bool
	}
	var delims []delimiter
	for pos, line := range dashLines(data) {
		l := bytes.TrimRight(line, " \t\r\n")
		if len(l) > 2 {
			b := l[2:]
			switch {
			case known[string(b)]:
				delims = append(delims, delimiter{start: pos, next: pos + len(line), boundary: string(b)})
			case len(b) > 2 && bytes.HasSuffix(b, []byte("--")) && known[string(b[:len(b)-2])]:
				delims = append(delims, delimiter{start: pos, next: pos + len(line), boundary: string(b[:len(b)-2]), close: true})
			}
		}
	}
	// A delimiter line that enmime may take for one of another boundary
	// ("--a b" for boundaries "a" and "a b", "--a--b" for "a" and "a--b")
	// might end an enclosing multipart's part where elide sees none: such
	// a message is left to enmime.
	for _, d := range delims {
		line := data[d.start:d.next]
		for _, b := range boundaries {
			rest, ok := bytes.CutPrefix(line, []byte("--"+b))
			if ok && b != d.boundary && len(rest) > 0 && (unicode.IsSpace(rune(rest[0])) || bytes.HasPrefix(rest, []byte("--"))) {
				return data, nil
			}
		}
	}
	// The candidate parts: the whole message when it has no delimiter at
	// all, else each part after an opening delimiter that a delimiter of
	// the same boundary ends. A part that runs to the end of the message
	// or of an enclosing multipart (not closed) is left to enmime: whether
	// enmime then says so depends on the line breaks at its end, which the
	// marker does not have.
	type part struct{ header, end int } // header start; end of the part (the next delimiter)
	var parts []part
	if len(delims) == 0 {
		parts = append(parts, part{0, len(data)})
	}
	for i, d := range delims {
		if !d.close && i+1 < len(delims) && delims[i+1].boundary == d.boundary {
			parts = append(parts, part{d.next, delims[i+1].start})
		}
	}
	var (
		out  []byte
		cut  elisions
		last int // data before it has been written to out
	)
	for _, p := range parts {
		region := data[p.header:p.end]
		he := HeaderEnd(region)
		if he == len(region) {
			continue // no blank line: no body to speak of
		}
		lower := bytes.ToLower(region[:he])
		if bytes.Contains(lower, []byte("multipart/")) || bytes.Contains(lower, []byte("message/")) {
			continue
		}
		start, end := p.header+he, p.end
		if end < len(data) {
			// The line break before the delimiter is the delimiter's.
			if end > start && data[end-1] == '\n' {
				end--
			}
			if end > start && data[end-1] == '\r' {
				end--
			}
		}
		if end-start < max(minSize, 1) || seesDelimiter(data, start, end, boundaries) {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(data)/8)
		}
		out = append(out, data[last:start]...)
		out = append(out, elidedPrefix...)
		out = strconv.AppendInt(out, int64(len(cut)), 10)
		cut = append(cut, data[start:end])
		last = end
	}
	if cut == nil {
		return data, nil
	}
	return append(out, data[last:]...), cut
}

// seesDelimiter reports whether enmime's boundary reader might find a
// delimiter of one of the boundaries in the body data[start:end], or at
// its edges, where elide found none. Its checks: at every CR and LF it
// passes (except those starting a blank line: "\n\n", "\n\r",
// "\r\n\r", "\r\n\n") for "--" and a boundary 1 to 3 bytes further
// ("\r\n--b", but also "\n --b", "\r\r\n--b"), and, in the first 4 KB
// of a part (one Read call), at every byte; a boundary followed by white
// space or by "--" is a delimiter there, whatever follows. Such a body is
// left to enmime, which then draws the line where it always did.
func seesDelimiter(data []byte, start, end int, boundaries []string) bool {
	from := max(start-2, 0) // the blank line ending the header sees the body's start
	for _, b := range boundaries {
		// Anywhere in the body: enmime may check at any byte.
		delim := "--" + b
		if bytes.Contains(data[from:min(len(data), end+len(delim)-1)], []byte(delim)) {
			return true
		}
	}
	// A check at one of its last bytes sees what follows the body.
	at := func(s int) bool {
		for _, b := range boundaries {
			if s+2 <= len(data) && data[s] == '-' && data[s+1] == '-' && bytes.HasPrefix(data[s+2:], []byte(b)) {
				return true
			}
		}
		return false
	}
	for q := max(from, end-4); q < end; q++ {
		switch {
		case data[q] != '\r' && data[q] != '\n':
			if at(q) || at(q+1) {
				return true
			}
		case blankLineAt(data, q):
		case at(q+1) || at(q+2) || at(q+3):
			return true
		}
	}
	return false
}

// midLine reports whether delim occurs in data other than at the start of
// a line. enmime's boundary reader checks for delimiters at every byte of
// the first 4 KB it reads of a part, but only after line breaks further
// on: with bodies cut out, a part is shorter and more of it is checked
// at every byte, so such a delimiter could count where it did not. Mail
// has none; a message with one is left to enmime.
func midLine(data []byte, delim string) bool {
	for pos := 0; ; {
		i := bytes.Index(data[pos:], []byte(delim))
		if i < 0 {
			return false
		}
		if at := pos + i; at > 0 && data[at-1] != '\n' {
			return true
		}
		pos += i + 1
	}
}

// blankLineAt reports whether the CR or LF at data[q] starts what enmime's
// boundary reader takes for a blank line, and does not check for a
// delimiter at.
func blankLineAt(data []byte, q int) bool {
	next := func(k int) byte {
		if q+k < len(data) {
			return data[q+k]
		}
		return 0
	}
	if data[q] == '\n' {
		return next(1) == '\n' || next(1) == '\r'
	}
	return next(1) == '\n' && (next(2) == '\r' || next(2) == '\n')
}

// whole reports whether content is just the marker of one elided body, which
// restore then gives back as it is: a slice of the message.
func (e elisions) whole(content []byte) bool {
	rest, ok := bytes.CutPrefix(content, elidedPrefix)
	if !ok || len(e) == 0 {
		return false
	}
	n, err := strconv.Atoi(string(rest))
	return err == nil && n >= 0 && n < len(e)
}

// restore gives a part's content back its elided bodies: the body itself
// (a slice of the message) when the content is just a marker, else a copy
// with every marker replaced.
func (e elisions) restore(content []byte) []byte {
	if len(e) == 0 || !bytes.Contains(content, elidedPrefix) {
		return content
	}
	if rest, ok := bytes.CutPrefix(content, elidedPrefix); ok {
		if n, err := strconv.Atoi(string(rest)); err == nil && n >= 0 && n < len(e) {
			return e[n]
		}
	}
	var out []byte
	for {
		i := bytes.Index(content, elidedPrefix)
		if i < 0 {
			return append(out, content...)
		}
		out = append(out, content[:i]...)
		content = content[i+len(elidedPrefix):]
		j := 0
		for j < len(content) && content[j] >= '0' && content[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(string(content[:j]))
		if err != nil || n >= len(e) {
			out = append(out, elidedPrefix...) // not one of ours after all
			continue
		}
		out = append(out, e[n]...)
		content = content[j:]
	}
}
