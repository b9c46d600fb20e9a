package server

import (
	"context"
	"net/netip"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Rate-limit key prefixes; the limiter sees "<prefix>:<subject>". The
// back channel's are oauth.Limit*.
const (
	limitLoginIP   = "login-ip"
	limitLoginUser = "login-user"
	limitDeviceIP  = "device-ip"
)

// perIP are the limits whose subject is a client IP address; allow keys
// them with ipLimitKey, so no caller can forget to.
var perIP = map[string]bool{
	limitLoginIP: true, limitDeviceIP: true, oauth.LimitClientAuthIP: true,
	limitMFAIP: true, oauth.LimitDeviceAuthIP: true, oauth.LimitPARIP: true,
}

// allow consumes one event of key under rate. A limiter failure is reported
// as an error; callers on login paths fail closed.
func (s *Server) allow(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error) {
	if perIP[prefix] {
		subject = ipLimitKey(subject, s.cfg.Limits.IPv6PrefixLength)
	}
	return s.limiter.Allow(ctx, prefix+":"+subject, ratelimit.Limit{
		Rate:  rate.Requests,
		Per:   time.Duration(rate.Per),
		Burst: rate.Burst,
	})
}

// tooManyRequests is the error for a refused request, with Retry-After.
func tooManyRequests(res ratelimit.Result) *protocol.Error { return oauth.TooManyRequests(res) }

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

// takeLoginLimits takes the sign-in limits, per address and per username,
// before any password is hashed; the login page and terminal sign-in share
// one budget. It returns the result that refuses and its limit's name
// (limitLoginIP or limitLoginUser), or (nil, "", nil) when both allow. A
// limiter failure is an error, which callers answer by refusing the
// sign-in (fail closed).
func (s *Server) takeLoginLimits(ctx context.Context, ip, name string) (*ratelimit.Result, string, error) {
	for _, l := range []struct {
		prefix, subject string
		rate            config.Rate
	}{
		{limitLoginIP, ip, s.cfg.Limits.LoginPerIP},
		{limitLoginUser, name, s.cfg.Limits.LoginPerUser},
	} {
		res, err := s.allow(ctx, l.prefix, l.subject, l.rate)
		if err != nil {
			return nil, "", err
		}
		if !res.Allowed {
			return &res, l.prefix, nil
		}
	}
	return nil, "", nil
}
