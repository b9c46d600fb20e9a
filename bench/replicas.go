package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/redisconn"
)

// defaultRedisURL is the Redis database --replicas 2 uses; its keys go
// under a key prefix of the run's own.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// redisWithPrefix returns base with a key_prefix of this run's own, and a
// function that deletes the keys under that prefix (and nothing else: the
// database may hold other people's data).
func redisWithPrefix(ctx context.Context, base string) (string, func(context.Context) error, error) {
	ru, err := redisconn.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("redis: %w", err)
	}
	c := redis.NewClient(ru.Options)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return "", nil, fmt.Errorf("redis at %s: %w", ru.Options.Addr, err)
	}
	prefix := "gatehouse-bench:" + rand.Text() + ":"
	u, err := url.Parse(base)
	if err != nil {
		c.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("key_prefix", prefix)
	u.RawQuery = q.Encode()
	cleanup := func(ctx context.Context) error {
		defer c.Close()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("redis: scan %s*: %w", prefix, err)
		}
		if len(keys) == 0 {
			return nil
		}
		return c.Del(ctx, keys...).Err()
	}
	return u.String(), cleanup, nil
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
