package parse

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

// TrustedDMARCFail reports whether the trusted Authentication-Results
// header (the topmost, with our authserv-id, as TrustedAuth reads it) says
// that the From domain failed DMARC. A token only says who was mailed;
// DMARC says who is writing, so such a mail gives no command (DESIGN 7).
func TrustedDMARCFail(h mail.Header, authservID, from string) (bool, string) {
	if authservID == "" {
		return false, ""
	}
	_, domain, ok := strings.Cut(strings.ToLower(from), "@")
	values := h["Authentication-Results"]
	if !ok || len(values) == 0 {
		return false, ""
	}
	id, results, err := authres.Parse(values[0])
	if err != nil || !strings.EqualFold(strings.TrimSpace(id), authservID) {
		return false, ""
	}
	for _, r := range results {
		if r, ok := r.(*authres.DMARCResult); ok && r.Value == authres.ResultFail && (r.From == "" || strings.EqualFold(r.From, domain)) {
			return true, "the domain " + domain + " failed its DMARC check here (dmarc=fail), so this mail may not come from " + from + " at all"
		}
	}
	return false, ""
}
