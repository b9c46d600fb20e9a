package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/redisconn"
)

// Open returns the limiter a server configuration names, and a function
// that releases it.
//
// An empty rawURL gives NewMemory(clk, DefaultMaxKeys): limits per
// process. A redis://, rediss:// or unix:// URL (as redis.ParseURL reads
// it, for example "redis://:password@redis:6379/0") gives a Redis limiter
// whose keys start with the URL's key_prefix (redisconn.DefaultKeyPrefix
// when absent) followed by "rl:", shared by every process on that Redis; Open
// pings it once and fails when it does not answer. The Redis limiter uses
// the Redis server's time unless clk is a clock other than clock.System
// (see RedisOptions.Clock).
//
// timeout bounds each call to Redis (DefaultRedisTimeout when zero), the
// ping at start included.
//
// Errors never contain the URL, which may hold a password.
func Open(ctx context.Context, rawURL string, clk clock.Clock, timeout ...time.Duration) (Limiter, func() error, error) {
	if rawURL == "" {
		return NewMemory(clk, DefaultMaxKeys), func() error { return nil }, nil
	}
	ru, err := redisconn.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ratelimit: %w", err)
	}
	opts := ru.Options
	client := redis.NewClient(opts)
	var t time.Duration
	if len(timeout) > 0 {
		t = timeout[0]
	}
	r := NewRedis(client, RedisOptions{Clock: clk, Prefix: ru.KeyPrefix + "rl:", Timeout: t})
	if err := r.Ping(ctx); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("ratelimit: ping redis at %s: %w", opts.Addr, err)
	}
	return r, client.Close, nil
}
