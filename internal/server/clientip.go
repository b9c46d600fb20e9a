package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxies decides whose X-Forwarded-For is believed. With none
// configured (the default) the client IP is always the TCP peer, so a client
// cannot pick its own rate-limit key.
type trustedProxies struct{ prefixes []netip.Prefix }

func newTrustedProxies(cidrs []string) (*trustedProxies, error) {
	t := &trustedProxies{}
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("server: trusted proxy %q: %w", c, err)
		}
		t.prefixes = append(t.prefixes, p.Masked())
	}
	return t, nil
}

func (t *trustedProxies) trusted(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address of the client: the TCP peer, or, when the peer is
// a trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if len(s.proxies.prefixes) == 0 || !s.proxies.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.proxies.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}
