package proxy

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// RevocationTTL is how long the answer to "is this access token revoked"
// is reused: with the embedded server, a revoked JWT (RFC 7009, a logout,
// a refresh-token reuse that revoked its family) is refused within it.
const RevocationTTL = 5 * time.Second

// revocationCacheSize bounds the remembered answers.
const revocationCacheSize = 50_000

// RevocationCheck reports whether the access token with jti (of the token
// family grantID, "" for client credentials) was revoked.
type RevocationCheck func(ctx context.Context, jti, grantID string) (bool, error)

// revocations caches RevocationCheck answers per jti.
type revocations struct {
	check RevocationCheck
	clock clock.Clock
	cache *lru.Cache[string, revocationAnswer]
}

type revocationAnswer struct {
	revoked bool
	at      time.Time
}

func newRevocations(check RevocationCheck, clk clock.Clock) *revocations {
	c, _ := lru.New[string, revocationAnswer](revocationCacheSize)
	return &revocations{check: check, clock: clk, cache: c}
}

func (r *revocations) revoked(ctx context.Context, jti, grantID string) (bool, error) {
	now := r.clock.Now()
	if a, ok := r.cache.Get(jti); ok && now.Sub(a.at) < RevocationTTL {
		return a.revoked, nil
	}
	rev, err := r.check(ctx, jti, grantID)
	if err != nil {
		return false, err
	}
	r.cache.Add(jti, revocationAnswer{revoked: rev, at: now})
	return rev, nil
}
