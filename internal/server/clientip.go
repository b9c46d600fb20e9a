package server

import (
	"fmt"
	"net"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/forwarded"
)

// trustedProxies decides whose X-Forwarded-For is believed. With none
// configured (the default) the client IP is always the TCP peer, so a client
// cannot pick its own rate-limit key. The logic lives in internal/forwarded,
// shared with the gateway.
type trustedProxies = forwarded.Trusted

func newTrustedProxies(cidrs []string) (*trustedProxies, error) {
	t, err := forwarded.New(cidrs)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return t, nil
}

// clientIP is the address of the client: the TCP peer, or, when the peer is
// a trusted proxy, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy. A RemoteAddr that is not an IP address (not possible over
// TCP) is used verbatim, never replaced by a header.
func (s *Server) clientIP(r *http.Request) string {
	if a := s.proxies.ClientIP(r); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
