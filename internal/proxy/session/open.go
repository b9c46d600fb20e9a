package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/redisconn"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Open returns the store that name chooses, and a function that releases
// it:
//
//   - "memory": NewMemory(clk, DefaultMaxSessions), for one process.
//   - "sql": NewSQL(st, clk), in the gateway's database; st must not be nil.
//   - a redis://, rediss:// or unix:// URL (as redis.ParseURL reads it):
//     NewRedis with the URL's key_prefix (redisconn.DefaultKeyPrefix when
//     absent) followed by "ps:". Open pings Redis once and fails
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
	ru, err := redisconn.Parse(name)
	if err != nil {
		return nil, nil, errors.New("session: open: not \"memory\", \"sql\" or a valid redis:// URL: " + err.Error())
	}
	opts := ru.Options
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("session: ping redis at %s: %w", opts.Addr, err)
	}
	return NewRedis(client, ru.KeyPrefix+"ps:", clk), client.Close, nil
}
