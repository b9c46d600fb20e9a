package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// Open returns the limiter a server configuration names, and a function
// that releases it.
//
// An empty rawURL gives NewMemory(clk, DefaultMaxKeys): limits per
// process. A redis://, rediss:// or unix:// URL (as redis.ParseURL reads
// it, for example "redis://:password@redis:6379/0") gives a Redis limiter
// with DefaultRedisPrefix, shared by every process on that Redis; Open
// pings it once and fails when it does not answer. The Redis limiter uses
// the Redis server's time unless clk is a clock other than clock.System
// (see RedisOptions.Clock).
//
// Errors never contain the URL, which may hold a password.
func Open(ctx context.Context, rawURL string, clk clock.Clock) (Limiter, func() error, error) {
	if rawURL == "" {
		return NewMemory(clk, DefaultMaxKeys), func() error { return nil }, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error repeats the whole URL
		}
		return nil, nil, fmt.Errorf("ratelimit: parse redis url: %w", err)
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, nil, fmt.Errorf("ratelimit: unsupported url scheme %q (want redis://, rediss:// or unix://)", u.Scheme)
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("ratelimit: parse redis url: %w", err)
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("ratelimit: ping redis at %s: %w", opts.Addr, err)
	}
	return NewRedis(client, RedisOptions{Clock: clk}), client.Close, nil
}
