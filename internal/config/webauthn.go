package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Passkey ceremony timeouts: the bounds of webauthn.timeout.
const (
	minWebAuthnTimeout = 30 * time.Second
	maxWebAuthnTimeout = 10 * time.Minute
)

// PasskeyRPID is the relying party ID passkeys use: webauthn.rp_id, else
// the issuer's host. It is "" when passkeys are off: no rp_id and an
// issuer whose host is an IP address, which no browser accepts as an RP
// ID.
func (c *Server) PasskeyRPID() string {
	if c.WebAuthn.RPID != "" {
		return strings.ToLower(c.WebAuthn.RPID)
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// PasskeyOrigins are the web origins passkey ceremonies may run on:
// webauthn.origins, else the issuer's origin.
func (c *Server) PasskeyOrigins() []string {
	if len(c.WebAuthn.Origins) > 0 {
		return c.WebAuthn.Origins
	}
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// PasskeyRPName is the name authenticators show for the server:
// webauthn.rp_display_name, else ui.brand_name.
func (c *Server) PasskeyRPName() string {
	if c.WebAuthn.RPDisplayName != "" {
		return c.WebAuthn.RPDisplayName
	}
	return c.UI.BrandName
}

// validateWebAuthn checks the webauthn section: an RP ID that is a domain
// name (not an IP address, no scheme, port or path), origins that are
// http(s) origins on the RP ID or a subdomain of it (WebAuthn Level 3
// §5.1.3: the RP ID must be "a registrable domain suffix of or is equal
// to" the origin's effective domain), and a timeout within bounds.
func validateWebAuthn(bad func(key, format string, args ...any), c *Server) {
	w := c.WebAuthn
	if w.RPID != "" && !isDomain(w.RPID) {
		bad("webauthn.rp_id", "%q is not a domain name; give the issuer's host or a parent domain of it, e.g. example.com, without scheme or port", w.RPID)
	}
	if len(w.RPDisplayName) > 64 {
		bad("webauthn.rp_display_name", "must be at most 64 characters")
	}
	rpID := c.PasskeyRPID()
	for _, o := range w.Origins {
		u, err := url.Parse(o)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil:
			bad("webauthn.origins", "%q is not an origin; want scheme://host[:port], e.g. https://login.example.com", o)
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			bad("webauthn.origins", "%q: browsers offer passkeys only on https origins (and http://localhost)", o)
		case rpID != "" && !onDomain(strings.ToLower(u.Hostname()), rpID):
			bad("webauthn.origins", "%q is not on the RP ID %q or a subdomain of it", o, rpID)
		}
	}
	if rpID != "" && len(w.Origins) == 0 {
		if u, err := url.Parse(c.Issuer); err == nil && u.Hostname() != "" && !onDomain(strings.ToLower(u.Hostname()), rpID) {
			bad("webauthn.rp_id", "%q is neither the issuer's host %q nor a parent domain of it; set webauthn.origins too", rpID, u.Hostname())
		}
	}
	if d := time.Duration(w.Timeout); d < minWebAuthnTimeout || d > maxWebAuthnTimeout {
		bad("webauthn.timeout", "must be between %s and %s, got %s", minWebAuthnTimeout, maxWebAuthnTimeout, d)
	}
}

// isDomain reports whether s is a DNS name fit for an RP ID.
func isDomain(s string) bool {
	if s == "" || len(s) > 253 || net.ParseIP(s) != nil || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

// onDomain reports whether host is domain or a subdomain of it.
func onDomain(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}
