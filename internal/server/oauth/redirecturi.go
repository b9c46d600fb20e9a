package oauth

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Redirect URI matching at the authorization endpoint.
//
// RFC 9700 §2.1: "authorization servers MUST utilize exact string matching
// of redirect URIs except for port numbers in localhost redirection URIs of
// native apps". RFC 8252 §7.3: "The authorization server MUST allow any port
// to be specified at the time of the request for loopback IP redirect URIs,
// to accommodate clients that obtain an available ephemeral port from the
// operating system at the time of the request." RFC 8252 §8.3 calls
// "localhost" NOT RECOMMENDED (the name could resolve elsewhere), yet
// common native clients use it (kubelogin's default is
// http://localhost:8000): a client registered with http://localhost... and
// no port gets the same port freedom, by the operator's choice. A
// registration with a port matches exactly.

// loopbackPrefixes are the registered-URI prefixes that get port freedom.
var loopbackPrefixes = []string{"http://127.0.0.1", "http://[::1]", "http://localhost"}

// loopbackPattern splits a registered URI of the form
// http://127.0.0.1/path or http://[::1]/path (no port) into its prefix and
// the rest ("/path", "?q" or ""). ok is false for anything else, including
// a loopback URI registered with a port, which then matches exactly.
func loopbackPattern(registered string) (prefix, rest string, ok bool) {
	for _, p := range loopbackPrefixes {
		r, found := strings.CutPrefix(registered, p)
		if !found {
			continue
		}
		if r == "" || r[0] == '/' || r[0] == '?' {
			return p, r, true
		}
	}
	return "", "", false
}

// matchRedirectURI reports whether requested may be used as a redirect URI
// for a client that registered registered.
func matchRedirectURI(registered, requested string) bool {
	if !PlausibleRedirectURI(requested) {
		return false
	}
	if requested == registered {
		return true
	}
	prefix, rest, ok := loopbackPattern(registered)
	if !ok {
		return false
	}
	// The request must be byte-for-byte the registration with ":<port>"
	// inserted after the host: no case changes, no userinfo, no other host.
	r, found := strings.CutPrefix(requested, prefix+":")
	if !found {
		return false
	}
	i := 0
	for i < len(r) && r[i] >= '0' && r[i] <= '9' {
		i++
	}
	port, tail := r[:i], r[i:]
	if !validPort(port) {
		return false
	}
	return tail == rest
}

// validPort accepts a decimal port 1-65535 without leading zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// PlausibleRedirectURI rejects what no registered URI may ever match, even
// if a registration slipped through with it: fragments (RFC 6749 §3.1.2
// "The endpoint URI MUST NOT include a fragment component"), userinfo,
// control characters and relative references.
func PlausibleRedirectURI(s string) bool {
	if s == "" || strings.ContainsAny(s, "#\\") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	return !strings.Contains(u.Host, "@")
}

// ResolveRedirectURI picks the redirect URI of an authorization request:
// the redirect_uri parameter if it matches a registration, or, when it was
// omitted, the client's only registered URI (RFC 6749 §3.1.2.3). A
// port-free loopback registration is a pattern, not a URI, so it can never
// be the implicit one.
func ResolveRedirectURI(c *storage.Client, param string, sent bool) (string, *protocol.Error) {
	if !sent {
		if len(c.RedirectURIs) != 1 {
			return "", protocol.NewError(protocol.ErrInvalidRequest, "redirect_uri is required for this client")
		}
		only := c.RedirectURIs[0]
		if _, _, loop := loopbackPattern(only); loop || !PlausibleRedirectURI(only) {
			return "", protocol.NewError(protocol.ErrInvalidRequest, "redirect_uri is required for this client")
		}
		return only, nil
	}
	if slices.ContainsFunc(c.RedirectURIs, func(reg string) bool { return matchRedirectURI(reg, param) }) {
		return param, nil
	}
	return "", protocol.NewError(protocol.ErrInvalidRequest, "redirect_uri is not registered for this client")
}
