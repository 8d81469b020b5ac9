package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"

	"liaisond/ingest/parse"
)

// fromRelay reports whether the Authentication-Results headers of mail
// that came this way were written by an MTA we trust (DESIGN 7): mail from
// one of [trust] relays, and mail that came by pipe, LMTP or IMAP (the
// local MTA delivered it; there is no peer address).
func (p *Processor) fromRelay(env Envelope) bool {
	if !env.Peer.IsValid() {
		return true
	}
	peer := env.Peer.Unmap()
	for _, r := range p.Config.Relays {
		if r.Contains(peer) {
			return true
		}
	}
	return false
}

// authenticate is what happens to a message's Authentication-Results
// before it is stored. From a relay they stay: that MTA wrote the topmost
// one. From any other peer, every one that claims our authserv-id is the
// sender's forgery and is removed (RFC 8601 section 5); with [trust]
// verify_dkim, liaisond is the MX and writes its own from its DKIM and
// DMARC checks.
func (p *Processor) authenticate(env Envelope, raw []byte) []byte {
	id := p.Config.AuthservID
	if id == "" || p.fromRelay(env) {
		return raw
	}
	raw, n := parse.StripAuthResults(raw, id)
	if n > 0 {
		p.Log.Warn("removed Authentication-Results headers that claim our authserv-id, from a peer that is not a relay",
			"peer", env.Peer.String(), "removed", n)
	}
	if p.Config.VerifyDKIM {
		raw = p.stampAuthResults(raw)
	}
	return raw
}

// stampAuthResults verifies the message's DKIM signatures (RFC 6376) and
// the From domain's DMARC policy (RFC 7489, DKIM alignment only: liaisond
// sees no SPF) and prepends liaisond's own Authentication-Results.
func (p *Processor) stampAuthResults(raw []byte) []byte {
	results := p.checkAuth(raw)
	nl := "\r\n"
	if i := bytes.IndexByte(raw, '\n'); i <= 0 || raw[i-1] != '\r' {
		nl = "\n"
	}
	field := "Authentication-Results: " + authres.Format(p.Config.AuthservID, results) + nl
	return append([]byte(field), raw...)
}

// checkAuth is the verification behind stampAuthResults: one dkim result
// per signature (none: dkim=none) and one dmarc result for the From domain.
func (p *Processor) checkAuth(raw []byte) []authres.Result {
	lookup := p.LookupTXT
	var results []authres.Result
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: 5})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		results = append(results, &authres.DKIMResult{Value: authres.ResultPermError, Reason: parse.Clip(err.Error(), 200)})
	}
	var passed []string
	for _, v := range verifications {
		r := &authres.DKIMResult{Value: authres.ResultPass, Domain: v.Domain, Identifier: v.Identifier}
		switch {
		case v.Err == nil:
			passed = append(passed, strings.ToLower(v.Domain))
		case dkim.IsTempFail(v.Err):
			r.Value, r.Reason = authres.ResultTempError, parse.Clip(v.Err.Error(), 200)
		case dkim.IsPermFail(v.Err):
			r.Value, r.Reason = authres.ResultPermError, parse.Clip(v.Err.Error(), 200)
		default:
			r.Value, r.Reason = authres.ResultFail, parse.Clip(v.Err.Error(), 200)
		}
		results = append(results, r)
	}
	if len(verifications) == 0 && err == nil {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}

	fromDomain := ""
	if m, err := mail.ReadMessage(bufio.NewReader(io.LimitReader(bytes.NewReader(raw), int64(parse.HeaderEnd(raw))))); err == nil {
		if as, err := m.Header.AddressList("From"); err == nil && len(as) == 1 {
			_, fromDomain, _ = strings.Cut(strings.ToLower(as[0].Address), "@")
		}
	}
	if fromDomain == "" {
		return append(results, &authres.DMARCResult{Value: authres.ResultPermError, Reason: "no single From address"})
	}
	rec, err := dmarc.LookupWithOptions(fromDomain, &dmarc.LookupOptions{LookupTXT: lookup})
	dr := &authres.DMARCResult{From: fromDomain}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		dr.Value = authres.ResultNone
	case err != nil && dmarc.IsTempFail(err):
		dr.Value, dr.Reason = authres.ResultTempError, parse.Clip(err.Error(), 200)
	case err != nil:
		dr.Value, dr.Reason = authres.ResultPermError, parse.Clip(err.Error(), 200)
	default:
		dr.Value = authres.ResultFail
		dr.Reason = fmt.Sprintf("p=%s", rec.Policy)
		for _, d := range passed {
			if aligned(d, fromDomain, rec.DKIMAlignment == dmarc.AlignmentStrict) {
				dr.Value, dr.Reason = authres.ResultPass, ""
			}
		}
	}
	return append(results, dr)
}

// aligned is DMARC identifier alignment (RFC 7489 3.1.1): strict needs the
// same domain; relaxed takes a parent or child of the From domain (the
// organizational domain approximated without the public suffix list: a
// bare public suffix never signs).
func aligned(signer, from string, strict bool) bool {
	if signer == from {
		return true
	}
	if strict || !strings.Contains(signer, ".") {
		return false
	}
	return strings.HasSuffix(from, "."+signer) || strings.HasSuffix(signer, "."+from)
}

// ParsePrefixes turns addresses and CIDR prefixes into prefixes.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix (e.g. \"192.0.2.25\" or \"10.0.0.0/8\")", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
