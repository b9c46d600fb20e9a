package oauth

import (
	"math"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Names of the rate limits the endpoints take (Deps.Allow); the limiter
// sees "<name>:<subject>", and a refusal's audit event names the limit.
const (
	// LimitTokenClient counts the token and device authorization
	// requests of a client.
	LimitTokenClient = "token-client"
	// LimitClientAuthIP counts failed client authentications per address
	// (SECURITY-CASES 30).
	LimitClientAuthIP = "client-auth-ip"
	// LimitDeviceAuthIP and LimitDeviceAuthClient count device
	// authorization requests per address and per client: each stores a
	// device code.
	LimitDeviceAuthIP     = "device-auth-ip"
	LimitDeviceAuthClient = "device-auth-client"
	// LimitPARIP counts pushes of public clients per address: each stores
	// a row, and anyone who knows a public client's id may push.
	LimitPARIP = "par-ip"
)

// TooManyRequests is the error for a refused request, with Retry-After.
func TooManyRequests(res ratelimit.Result) *protocol.Error {
	return &protocol.Error{
		Code:        protocol.ErrTooManyRequests,
		Description: "too many requests; try again later",
		RetryAfter:  int(math.Ceil(res.RetryAfter.Seconds())),
	}
}
