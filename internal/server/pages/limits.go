package pages

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
)

// Rate-limit key prefixes of the pages; the limiter sees
// "<prefix>:<subject>". Those whose subject is a client address are
// exported: the server keys them by its rules for addresses.
const (
	LimitLoginIP   = "login-ip"
	limitLoginUser = "login-user"
	LimitDeviceIP  = "device-ip"
)

// takeLoginLimits takes the sign-in limits, per address and per username,
// before any password is hashed; the login page and terminal sign-in share
// one budget. It returns the result that refuses and its limit's name
// (LimitLoginIP or limitLoginUser), or (nil, "", nil) when both allow. A
// limiter failure is an error, which callers answer by refusing the
// sign-in (fail closed).
func (pg *Pages) takeLoginLimits(ctx context.Context, ip, name string) (*ratelimit.Result, string, error) {
	for _, l := range []struct {
		prefix, subject string
		rate            config.Rate
	}{
		{LimitLoginIP, ip, pg.cfg.Limits.LoginPerIP},
		{limitLoginUser, name, pg.cfg.Limits.LoginPerUser},
	} {
		res, err := pg.allow(ctx, l.prefix, l.subject, l.rate)
		if err != nil {
			return nil, "", err
		}
		if !res.Allowed {
			return &res, l.prefix, nil
		}
	}
	return nil, "", nil
}
