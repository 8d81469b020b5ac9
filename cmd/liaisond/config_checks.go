package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"liaisond/notify"
)

// checkHostPort accepts host:port with a port number from 0 to 65535 (0:
// any free port) and a host that is empty, an IP address or a name.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return errors.New(ae.Err)
		}
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil {
		for _, r := range host {
			if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("host %q is neither an IP address nor a host name", host)
			}
		}
	}
	return nil
}

// validateSMTPTLS: the certificate and key for STARTTLS come as a pair and
// must load; the connection limits must be sane.
func (c *Config) validateSMTPTLS(bad func(key, format string, args ...any)) {
	s := c.SMTP
	switch {
	case s.TLSCertFile == "" && s.TLSKeyFile == "":
	case s.TLSCertFile == "":
		bad("smtp.tls_key_file", "smtp.tls_cert_file is not set: STARTTLS needs the certificate (PEM chain) too")
	case s.TLSKeyFile == "":
		bad("smtp.tls_cert_file", "smtp.tls_key_file is not set: STARTTLS needs the private key (PEM) too")
	default:
		if _, err := tls.LoadX509KeyPair(c.resolve(s.TLSCertFile), c.resolve(s.TLSKeyFile)); err != nil {
			bad("smtp.tls_cert_file", "cannot load the certificate and key: %v", err)
		}
	}
	if s.MaxConnections < 1 {
		bad("smtp.max_connections", "must be at least 1; the default is 100")
	}
	if s.DataTimeout.Duration < time.Second {
		bad("smtp.data_timeout", "must be at least 1s; the default is 10m")
	}
}

// validateDKIM: selector and key come as a pair; the key must be a PEM RSA
// (at least 1024 bits) or Ed25519 private key.
func (c *Config) validateDKIM(bad func(key, format string, args ...any)) {
	o := c.Outbound
	switch {
	case o.DKIMSelector == "" && o.DKIMKeyFile == "":
	case o.DKIMSelector == "":
		bad("outbound.dkim_key_file", "outbound.dkim_selector is not set: a selector is needed (the s= of the signature, e.g. \"liaisond1\")")
	case o.DKIMKeyFile == "":
		bad("outbound.dkim_selector", "outbound.dkim_key_file is not set: a private key is needed (`liaisond dkim-keygen` makes one)")
	default:
		if !validSelector(o.DKIMSelector) {
			bad("outbound.dkim_selector", "%q is not a DNS label (letters, digits, -)", o.DKIMSelector)
		}
		if _, err := notify.LoadDKIMKey(c.resolve(o.DKIMKeyFile)); err != nil {
			bad("outbound.dkim_key_file", "%v", err)
		}
	}
}

func validSelector(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// validatePaths: the files and directories the config names exist.
func (c *Config) validatePaths(bad func(key, format string, args ...any)) {
	if c.Templates != "" {
		p := c.resolve(c.Templates)
		if fi, err := os.Stat(p); err != nil {
			bad("templates", "cannot use %s: %v", p, errors.Unwrap(err))
		} else if !fi.IsDir() {
			bad("templates", "%s is not a directory", p)
		}
	}
}
