package parse

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

// DSN is what a delivery status notification (RFC 3464) says about a mail
// we sent.
type DSN struct {
	MessageIDs []string // of our mails it returns (header Message-ID in the returned part)
	Recipient  string   // Final-Recipient (or Original-Recipient) address
	Action     string   // failed, delayed, delivered, relayed, expanded
	Status     string   // e.g. 5.1.1
	Diagnostic string
}

var messageIDLine = regexp.MustCompile(`(?im)^message-id:[ \t]*<([^<>\s]{1,250})>`)

// ParseDSN reads the per-recipient fields of a DSN and the Message-IDs of
// the returned message at our domain. It scans lines rather than MIME
// structure so that a broken report still yields what it can.
func ParseDSN(raw []byte, ownDomain, topMessageID string) DSN {
	var d DSN
	suffix := "@" + strings.ToLower(ownDomain)
	seen := map[string]bool{}
	for _, m := range messageIDLine.FindAllSubmatch(raw, 20) {
		id := string(m[1])
		if strings.HasSuffix(strings.ToLower(id), suffix) && id != topMessageID && !seen[id] {
			seen[id] = true
			d.MessageIDs = append(d.MessageIDs, id)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "final-recipient", "original-recipient":
			if _, addr, ok := strings.Cut(value, ";"); ok && (d.Recipient == "" || strings.EqualFold(name, "final-recipient")) {
				d.Recipient = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
			}
		case "action":
			if d.Action == "" {
				d.Action = strings.ToLower(value)
			}
		case "status":
			if d.Status == "" && len(value) <= 16 {
				d.Status = value
			}
		case "diagnostic-code":
			if d.Diagnostic == "" {
				d.Diagnostic = Clip(value, 300)
			}
		}
	}
	return d
}

// Clip cuts s to at most n bytes on a rune boundary, marking the cut with
// "…": for the texts kept from a mail.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
