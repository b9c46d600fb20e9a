// Package dpopcache gives the server and the gateway the DPoP proof
// replay cache their configuration names: in memory for one process, or
// in Redis, shared by every replica, so that a proof accepted by one is
// refused by the others (RFC 9449 §11.1).
package dpopcache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/redisconn"
)

// KeySpace follows the URL's key_prefix in the keys of the Redis cache.
const KeySpace = "dpop:jti:"

// DefaultTimeout bounds each call to Redis when Open is given none.
const DefaultTimeout = 500 * time.Millisecond

// Redis is a dpop.ReplayCache in Redis: each proof is a key set with
// SET NX PX, which only the first of several replicas succeeds at; Redis
// expires it when the proof's iat leaves the window.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	clock   clock.Clock
}

// NewRedis returns a cache whose keys are prefix + the proof key. timeout
// bounds each call (DefaultTimeout when zero); clk, nil for clock.System,
// turns the expiry into a TTL.
func NewRedis(client redis.UniversalClient, prefix string, timeout time.Duration, clk clock.Clock) *Redis {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if clk == nil {
		clk = clock.System
	}
	return &Redis{client: client, prefix: prefix, timeout: timeout, clock: clk}
}

// Seen implements dpop.ReplayCache.
func (r *Redis) Seen(ctx context.Context, key string, expires time.Time) (bool, error) {
	ttl := expires.Sub(r.clock.Now())
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ok, err := r.client.SetNX(ctx, r.prefix+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("dpopcache: redis: %w", err)
	}
	return !ok, nil
}

// Open returns the replay cache for a Redis URL (as redisconn reads it,
// with key_prefix), or a dpop.MemoryReplayCache when rawURL is empty,
// and a function that releases it. With Redis it pings once and fails
// when Redis does not answer. Errors never contain the URL.
func Open(ctx context.Context, rawURL string, clk clock.Clock, timeout time.Duration) (dpop.ReplayCache, func() error, error) {
	if rawURL == "" {
		return dpop.NewMemoryReplayCache(0, clk), func() error { return nil }, nil
	}
	ru, err := redisconn.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("dpopcache: %w", err)
	}
	client := redis.NewClient(ru.Options)
	r := NewRedis(client, ru.KeyPrefix+KeySpace, timeout, clk)
	pctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("dpopcache: ping redis at %s: %w", ru.Options.Addr, err)
	}
	return r, client.Close, nil
}
