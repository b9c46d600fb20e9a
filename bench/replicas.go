package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// defaultRedisURL is the Redis server --replicas 2 uses; the database
// number is chosen at run time.
const defaultRedisURL = "redis://127.0.0.1:6379"

// freeRedisDB finds an empty database (1..15) on the Redis server at base,
// flushes it, and returns its URL and a function that flushes it again.
// An empty database is taken to be unused; the benchmark never touches
// one that holds keys.
func freeRedisDB(ctx context.Context, base string) (string, func(context.Context) error, error) {
	base = strings.TrimRight(base, "/")
	for n := 1; n < 16; n++ {
		u := base + "/" + strconv.Itoa(n)
		ro, err := redis.ParseURL(u)
		if err != nil {
			return "", nil, fmt.Errorf("redis: parse URL: %w", err)
		}
		c := redis.NewClient(ro)
		size, err := c.DBSize(ctx).Result()
		if err != nil {
			c.Close()
			return "", nil, fmt.Errorf("redis: dbsize %d: %w", n, err)
		}
		if size != 0 {
			c.Close()
			continue
		}
		if err := c.FlushDB(ctx).Err(); err != nil {
			c.Close()
			return "", nil, fmt.Errorf("redis: flushdb %d: %w", n, err)
		}
		flush := func(ctx context.Context) error {
			defer c.Close()
			if err := c.FlushDB(ctx).Err(); err != nil {
				return fmt.Errorf("redis: flushdb %d: %w", n, err)
			}
			return nil
		}
		return u, flush, nil
	}
	return "", nil, fmt.Errorf("redis: no empty database among 1..15 at %s", base)
}

// startReplicas starts two servers on the same database and Redis, with
// the same secret key (in env) and the same issuer: replica A's URL. A
// starts (and migrates the schema) before B. On error the returned servers
// that did start must still be stopped.
func startReplicas(ctx context.Context, bin, dir string, st storageTarget, env []string, redisURL string) (a, b *server, err error) {
	portA, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	portB, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	addrA := "127.0.0.1:" + strconv.Itoa(portA)
	addrB := "127.0.0.1:" + strconv.Itoa(portB)
	extra := []string{"--redis", redisURL, "--issuer", "http://" + addrA}
	if a, err = startServerAt(ctx, bin, dir, "a", addrA, st, env, extra); err != nil {
		return a, nil, fmt.Errorf("replica a: %w", err)
	}
	if b, err = startServerAt(ctx, bin, dir, "b", addrB, st, env, extra); err != nil {
		return a, b, fmt.Errorf("replica b: %w", err)
	}
	return a, b, nil
}
