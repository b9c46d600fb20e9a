package session

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Open returns the store that name chooses, and a function that releases
// it:
//
//   - "memory": NewMemory(clk, DefaultMaxSessions), for one process.
//   - "sql": NewSQL(st, clk), in the gateway's database; st must not be nil.
//   - a redis://, rediss:// or unix:// URL (as redis.ParseURL reads it):
//     NewRedis with DefaultRedisPrefix. Open pings Redis once and fails
//     when it does not answer.
//
// Anything else is an error. Errors never contain the URL, which may hold
// a password.
func Open(ctx context.Context, name string, st storage.Store, clk clock.Clock) (Store, func() error, error) {
	noop := func() error { return nil }
	switch name {
	case "memory":
		return NewMemory(clk, DefaultMaxSessions), noop, nil
	case "sql":
		if st == nil {
			return nil, nil, errors.New("session: open sql: no database")
		}
		return NewSQL(st, clk), noop, nil
	}
	u, err := url.Parse(name)
	if err != nil {
		return nil, nil, errors.New("session: open: not \"memory\", \"sql\" or a redis URL")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, nil, errors.New("session: open: not \"memory\", \"sql\" or a redis:// URL")
	}
	opts, err := redis.ParseURL(name)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error repeats the whole URL
		}
		return nil, nil, fmt.Errorf("session: parse redis url: %w", err)
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("session: ping redis at %s: %w", opts.Addr, err)
	}
	return NewRedis(client, DefaultRedisPrefix, clk), client.Close, nil
}
