package parse

import (
	"bytes"
	"strings"
)

// StripAuthResults removes every Authentication-Results header field whose
// authserv-id is authservID (case-insensitive), folded lines included.
func StripAuthResults(raw []byte, authservID string) ([]byte, int) {
	end := HeaderEnd(raw)
	var out bytes.Buffer
	out.Grow(len(raw))
	removed, skipping := 0, false
	for pos := 0; pos < end; {
		next := bytes.IndexByte(raw[pos:end], '\n')
		if next < 0 {
			next = end
		} else {
			next = pos + next + 1
		}
		line := raw[pos:next]
		pos = next
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				out.Write(line)
			}
			continue
		}
		skipping = false
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(strings.TrimSpace(string(name)), "Authentication-Results") {
			// The field may be folded: the authserv-id is before the first ";"
			// (or the whole value for "id; none" written without the rest).
			v := string(value)
			for i := pos; i < end && (raw[i] == ' ' || raw[i] == '\t'); {
				j := bytes.IndexByte(raw[i:end], '\n')
				if j < 0 {
					v += string(raw[i:end])
					break
				}
				v += string(raw[i : i+j+1])
				i += j + 1
			}
			if strings.EqualFold(authservOf(v), authservID) {
				removed++
				skipping = true
				continue
			}
		}
		out.Write(line)
	}
	if removed == 0 {
		return raw, 0
	}
	out.Write(raw[end:])
	return out.Bytes(), removed
}

// authservOf returns the authserv-id of an Authentication-Results value
// (RFC 8601 2.2: the first token, before any version and the first ";").
func authservOf(value string) string {
	v, _, _ := strings.Cut(value, ";")
	v = strings.TrimSpace(stripComments(v))
	if f := strings.Fields(v); len(f) > 0 {
		return f[0]
	}
	return ""
}
