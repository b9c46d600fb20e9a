package server

import (
	"context"
	"math"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Rate-limit key prefixes; the limiter sees "<prefix>:<subject>".
const (
	limitLoginIP     = "login-ip"
	limitLoginUser   = "login-user"
	limitDeviceIP    = "device-ip"
	limitTokenClient = "token-client"
	limitClientAuth  = "client-auth-ip"
)

// allow consumes one event of key under rate. A limiter failure is reported
// as an error; callers on login paths fail closed.
func (s *Server) allow(ctx context.Context, prefix, subject string, rate config.Rate) (ratelimit.Result, error) {
	return s.limiter.Allow(ctx, prefix+":"+subject, ratelimit.Limit{
		Rate:  rate.Requests,
		Per:   time.Duration(rate.Per),
		Burst: rate.Burst,
	})
}

// tooManyRequests is the error for a refused request, with Retry-After.
func tooManyRequests(res ratelimit.Result) *protocol.Error {
	return &protocol.Error{
		Code:        protocol.ErrTooManyRequests,
		Description: "too many requests; try again later",
		RetryAfter:  int(math.Ceil(res.RetryAfter.Seconds())),
	}
}
