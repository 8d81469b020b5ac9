package ingest

import (
	"net/netip"
	"strings"
	"testing"
)

func TestFromRelay(t *testing.T) {
	relays, err := ParsePrefixes([]string{"127.0.0.1/32", "::1/128", "192.0.2.25", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	p := &Processor{Config: Config{Relays: relays}}
	for _, tt := range []struct {
		peer string
		want bool
	}{
		{"", true}, // pipe, LMTP, IMAP: the local MTA delivered
		{"127.0.0.1", true}, {"::1", true}, {"::ffff:127.0.0.1", true}, {"192.0.2.25", true}, {"10.9.8.7", true},
		{"127.0.0.2", false}, {"192.0.2.26", false}, {"2001:db8::1", false},
	} {
		env := Envelope{Source: "smtp"}
		if tt.peer != "" {
			env.Peer = netip.MustParseAddr(tt.peer)
		}
		if got := p.fromRelay(env); got != tt.want {
			t.Errorf("fromRelay(%q) = %v, want %v", tt.peer, got, tt.want)
		}
	}
	if _, err := ParsePrefixes([]string{"mx.example"}); err == nil || !strings.Contains(err.Error(), "CIDR") {
		t.Errorf("a host name was taken as a relay: %v", err)
	}
}

func TestAligned(t *testing.T) {
	for _, tt := range []struct {
		signer, from string
		strict, want bool
	}{
		{"ccamp.example", "ccamp.example", false, true},
		{"ccamp.example", "mail.ccamp.example", false, true},
		{"ccamp.example", "mail.ccamp.example", true, false},
		{"evil.example", "ccamp.example", false, false},
		{"example", "ccamp.example", false, false},
		{"xccamp.example", "ccamp.example", false, false},
	} {
		if got := aligned(tt.signer, tt.from, tt.strict); got != tt.want {
			t.Errorf("aligned(%q, %q, strict=%v) = %v", tt.signer, tt.from, tt.strict, got)
		}
	}
}
