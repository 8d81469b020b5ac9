package ingest

import "strings"

// StripReply (temporary, replaced by the quote branch): cut at the first quote line.
func StripReply(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, ">") || (strings.HasPrefix(t, "On ") && strings.HasSuffix(t, "wrote:")) || t == "-- " || strings.HasPrefix(t, "-----Original") || strings.HasPrefix(t, "From: ") {
			break
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
