package ingest

import (
	"net/mail"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// TrustedAuth reports whether the mail's From domain was authenticated by
// the receiving MTA we trust (DESIGN 7): the topmost Authentication-Results
// header (RFC 8601) must carry the configured authserv-id and show
// dkim=pass with a signing domain aligned with the From domain, or
// dmarc=pass for it. Only the topmost header counts: an MTA prepends its
// own, so anything below it came with the mail and anyone can write one
// (RFC 8601 section 7.1). authservID "" trusts nothing.
func TrustedAuth(h mail.Header, authservID, from string) (bool, string) {
	if authservID == "" {
		return false, "no trusted authserv-id is configured ([trust] authserv_id)"
	}
	_, domain, ok := strings.Cut(strings.ToLower(from), "@")
	if !ok || domain == "" {
		return false, "the From address has no domain"
	}
	values := h["Authentication-Results"]
	if len(values) == 0 {
		return false, "the mail has no Authentication-Results header"
	}
	id, results, err := authres.Parse(values[0])
	if err != nil {
		return false, "the topmost Authentication-Results header does not parse: " + err.Error()
	}
	if !strings.EqualFold(strings.TrimSpace(id), authservID) {
		return false, "the topmost Authentication-Results header is not from the trusted server " + authservID
	}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DKIMResult:
			d := strings.ToLower(r.Domain)
			if d == "" && r.Identifier != "" {
				_, d, _ = strings.Cut(strings.ToLower(r.Identifier), "@")
			}
			if r.Value == authres.ResultPass && strings.Contains(d, ".") && (d == domain || strings.HasSuffix(domain, "."+d)) {
				return true, "dkim=pass header.d=" + d
			}
		case *authres.DMARCResult:
			if r.Value == authres.ResultPass && strings.EqualFold(r.From, domain) {
				return true, "dmarc=pass header.from=" + domain
			}
		}
	}
	return false, "the trusted Authentication-Results header shows no dkim or dmarc pass for " + domain
}
