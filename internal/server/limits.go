package server

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
)

// Rate-limit key prefixes; the limiter sees "<prefix>:<subject>". The
// back channel's are oauth.Limit*, the pages' pages.Limit* and the
// unexported ones of internal/server/pages.
//
// A prefix that ends in "-ip" (login-ip, passkey-ip, par-ip, ...) counts
// per client address: allow keys its subject with ipLimitKey, so neither a
// caller nor a list of prefixes can forget to, and an IPv6 client cannot
// get a fresh budget from each address of its /64 (SECURITY-CASES 30).
const perIPSuffix = "-ip"

// allow consumes one event of key under rate. A limiter failure is reported
// as an error; callers on login paths fail closed.
func (s *Server) allow(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error) {
	if strings.HasSuffix(prefix, perIPSuffix) {
		subject = ipLimitKey(subject, s.cfg.Limits.IPv6PrefixLength)
	}
	return s.limiter.Allow(ctx, prefix+":"+subject, ratelimit.Limit{
		Rate:  rate.Requests,
		Per:   time.Duration(rate.Per),
		Burst: rate.Burst,
	})
}

// ipLimitKey is the per-IP rate-limit subject for the client address ip:
// an IPv4 address (also written IPv4-mapped, ::ffff:a.b.c.d) counts alone;
// an IPv6 address counts by its first bits bits (limits.ipv6_prefix_length,
// 64 by default), since one host or subscriber usually holds a whole /64
// and could otherwise pick a fresh address, and a fresh budget, for every
// request. A subject that is not an address is used as it is.
func ipLimitKey(ip string, bits int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}
