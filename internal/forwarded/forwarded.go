// Package forwarded decides which forwarding headers to believe.
//
// A request's TCP peer is the only fact the server observes itself; every
// header is written by whoever sent the request. Headers that describe the
// original client — X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host —
// are believed only when the TCP peer is inside a configured list of
// trusted proxy networks. With no list (the default) they are ignored, so a
// client cannot choose its own rate-limit key, scheme or host.
//
// The server (client IP for rate limits and audit) and the gateway (client
// IP, public scheme and host) share this one implementation so the two
// cannot drift apart.
//
// Only X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host are ever
// read. Forwarded (RFC 7239), X-Real-IP, X-Forwarded-Uri,
// X-Forwarded-Prefix and X-Original-URL are ignored whoever sends them, and
// a Connection header listing any of them changes nothing.
package forwarded

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of proxy networks whose forwarding headers are
// believed. The zero value and a nil *Trusted trust nobody.
type Trusted struct {
	prefixes []netip.Prefix
}

// New parses cidrs, each a CIDR ("10.0.0.0/8") or a bare address, which
// means that single host (/32 or /128). Surrounding space is ignored; an
// empty list trusts nobody.
func New(cidrs []string) (*Trusted, error) {
	t := &Trusted{}
	for _, c := range cidrs {
		s := strings.TrimSpace(c)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			if err == nil && a.Zone() != "" {
				err = fmt.Errorf("zone not allowed")
			}
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("forwarded: trusted proxy %q: %w", c, err)
		}
		p = p.Masked()
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 and 10.0.0.0/8 name the same hosts;
			// addresses are unmapped before matching.
			bits := p.Bits() - 96
			if bits < 0 {
				bits = 0
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits).Masked()
		}
		t.prefixes = append(t.prefixes, p)
	}
	return t, nil
}

// Contains reports whether a is inside one of the trusted networks.
func (t *Trusted) Contains(a netip.Addr) bool {
	if t == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer returns the TCP peer of r and whether it is a trusted proxy. An
// unparsable RemoteAddr gives the zero Addr and false.
func (t *Trusted) Peer(r *http.Request) (netip.Addr, bool) {
	a := remoteAddr(r.RemoteAddr)
	return a, t.Contains(a)
}

// ClientIP returns the address of the client: the TCP peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For entry that is not
// itself a trusted proxy. Entries are read right to left because each
// trusted proxy appends the address it saw; anything to the left of the
// first untrusted entry was written by the client. If the walk meets an
// unparsable entry, or every entry is trusted, the last trusted address
// reached is the answer.
//
// An unparsable RemoteAddr (never the case for requests served by net/http
// over TCP, but possible with other listeners or hand-built requests) gives
// the zero Addr. Callers must not fall back to any header then; they should
// treat all such requests as one unknown client (for example a fixed
// "unknown" rate-limit key) or use RemoteAddr verbatim.
func (t *Trusted) ClientIP(r *http.Request) netip.Addr {
	peer, trusted := t.Peer(r)
	if !trusted {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap().WithZone("")
		client = a
		if !t.Contains(a) {
			break
		}
	}
	return client
}

// Proto returns the scheme the client used: "https" if r arrived over TLS;
// otherwise the first X-Forwarded-Proto value when the peer is a trusted
// proxy and that value is "http" or "https"; otherwise "http".
func (t *Trusted) Proto(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if _, ok := t.Peer(r); !ok {
		return "http"
	}
	v, ok := first(r.Header, "X-Forwarded-Proto")
	if !ok {
		return "http"
	}
	switch p := strings.ToLower(v); p {
	case "http", "https":
		return p
	}
	return "http"
}

// Host returns the host the client asked for: the first X-Forwarded-Host
// value, lower-cased, when the peer is a trusted proxy and the value is a
// well-formed host[:port]; otherwise r.Host.
func (t *Trusted) Host(r *http.Request) string {
	if _, ok := t.Peer(r); !ok {
		return r.Host
	}
	v, ok := first(r.Header, "X-Forwarded-Host")
	if !ok || !validHost(v) {
		return r.Host
	}
	return strings.ToLower(v)
}

// validHost reports whether s is host[:port] as it may appear in a Host
// header: a DNS name (letters, digits, '-' and '.', labels of 1–63
// characters), an IPv4 address, or a bracketed IPv6 address, optionally
// followed by a decimal port 0–65535.
func validHost(s string) bool {
	if s == "" || len(s) > 261 {
		return false
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return false
			}
			return validPort(rest[1:])
		}
		return true
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
		if !validPort(port) {
			return false
		}
	}
	return validName(host)
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

func validName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	h = strings.TrimSuffix(h, ".")
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// first returns the first comma-separated element of the first value of
// header name, trimmed; ok is false when there is none.
func first(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	v, _, _ := strings.Cut(vs[0], ",")
	v = strings.TrimSpace(v)
	return v, v != ""
}

// remoteAddr parses RemoteAddr ("ip:port", or a bare ip) into an unmapped
// address without zone; anything else gives the zero Addr.
func remoteAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
