package parse

import (
	"bytes"
	"strconv"
)

// largeBody is the size from which a part's body is kept out of enmime:
// enmime reads every part into a buffer that grows as it reads, so a 24 MB
// attachment would be held once more, plus the garbage of the growing. The
// parser hands enmime the message with such bodies replaced by a marker
// and takes the content from the message itself (elide, restore).
const largeBody = 1 << 20

// elidedPrefix starts the marker that stands for a large body; a message
// that contains it is parsed whole.
var elidedPrefix = []byte("liaisond-elided-part-")

// elisions are the bodies cut out of a message, by marker number; they are
// slices of the message, not copies.
type elisions [][]byte

// elide returns data with the body of every leaf part of at least
// largeBody bytes replaced by a marker, and the bodies cut out. A body runs
// from the blank line after its part's header to the line break before the
// next delimiter line of one of the boundaries (RFC 2046 5.1.1: that line
// break belongs to the delimiter), or to the end. Multipart and message
// parts are left whole, as is anything that does not look as expected:
// enmime then reads it as before.
func elide(data []byte) ([]byte, elisions) {
	if len(data) < largeBody || bytes.Contains(data, elidedPrefix) {
		return data, nil
	}
	known := map[string]bool{}
	for _, b := range scanBoundaries(data) {
		known[b] = true
	}
	// The delimiter lines: where each starts and where the line after it
	// starts; close delimiters end a multipart and start no part.
	type delimiter struct {
		start, next int
		close       bool
	}
	var delims []delimiter
	pos := 0
	for line := range bytes.Lines(data) {
		l := bytes.TrimRight(line, " \t\r\n")
		if len(l) > 2 && l[0] == '-' && l[1] == '-' {
			b := l[2:]
			switch {
			case known[string(b)]:
				delims = append(delims, delimiter{start: pos, next: pos + len(line)})
			case len(b) > 2 && bytes.HasSuffix(b, []byte("--")) && known[string(b[:len(b)-2])]:
				delims = append(delims, delimiter{start: pos, next: pos + len(line), close: true})
			}
		}
		pos += len(line)
	}
	// The candidate parts: the whole message when it has no delimiter at
	// all, else each part after an opening delimiter.
	type part struct{ header, end int } // header start; end of the part (the next delimiter, or the end)
	var parts []part
	if len(delims) == 0 {
		parts = append(parts, part{0, len(data)})
	}
	for i, d := range delims {
		if d.close {
			continue
		}
		end := len(data)
		if i+1 < len(delims) {
			end = delims[i+1].start
		}
		parts = append(parts, part{d.next, end})
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
		if end-start < largeBody {
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
