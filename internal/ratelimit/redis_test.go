package ratelimit_test

import (
	"github.com/gatehouse-auth/gatehouse/internal/redistest"

	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit/ratelimittest"
)

var _ ratelimit.Limiter = (*ratelimit.Redis)(nil)

// The whole conformance suite runs against Redis three ways; no subtest is
// memory-only:
//
//   - miniredis/clock: the limiter passes the fake clock's time to the
//     script (RedisOptions.Clock).
//   - miniredis/server-time: the production mode, where the script reads
//     Redis's TIME; a client hook moves miniredis's clock (SetTime, with
//     ClockTTL so that expiry follows it too) to the fake clock before
//     every command.
//   - real: the Redis at GATEHOUSE_TEST_REDIS_URL with the fake clock
//     passed in, since a real server's TIME cannot follow a fake clock.
//     TestRedisServerTimeReal covers its TIME with the wall clock.
func TestRedisConformance(t *testing.T) {
	t.Run("miniredis/clock", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter {
			_, client := redistest.Miniredis(t)
			return ratelimit.NewRedis(client, ratelimit.RedisOptions{Clock: clk})
		})
	})
	t.Run("miniredis/server-time", func(t *testing.T) {
		ratelimittest.Run(t, func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter {
			return ratelimit.NewRedis(newServerTimeMiniredis(t, clk), ratelimit.RedisOptions{})
		})
	})
	t.Run("real", func(t *testing.T) {
		client := redistest.Client(t)
		ratelimittest.Run(t, func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter {
			return ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: testPrefix(t, client), Clock: clk})
		})
	})
}

// newServerTimeMiniredis returns a client of a fresh miniredis whose TIME
// and key expiry follow clk.
func newServerTimeMiniredis(t *testing.T, clk *clocktest.Fake) *redis.Client {
	t.Helper()
	mr, client := redistest.Miniredis(t)
	redistest.FollowClock(mr, client, clk)
	return client
}

// testPrefix returns a key prefix of its own for tb and deletes its keys
// when tb ends.
func testPrefix(tb testing.TB, client *redis.Client) string {
	tb.Helper()
	prefix := "gatehouse-test:rl:" + rand.Text() + ":"
	tb.Cleanup(func() { testPrefixCleanup(tb, client, prefix) })
	return prefix
}

// testPrefixCleanup deletes the keys under prefix.
func testPrefixCleanup(tb testing.TB, client *redis.Client, prefix string) {
	{
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("clean up %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("clean up %s*: %v", prefix, err)
			}
		}
	}
}

func mustAllow(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return r
}

// TestRedisSharedBudget is the multi-replica promise: two limiters on one
// Redis (two connection pools, as in two processes) spend one burst.
func TestRedisSharedBudget(t *testing.T) {
	lim := ratelimit.Limit{Rate: 5, Per: time.Minute, Burst: 5}
	check := func(t *testing.T, a, b ratelimit.Limiter) {
		for i := range lim.Burst {
			l := []ratelimit.Limiter{a, b}[i%2]
			if r := mustAllow(t, l, "login-ip:203.0.113.9", lim); !r.Allowed || r.Remaining != lim.Burst-1-i {
				t.Fatalf("event %d: %+v, want allowed with %d remaining", i+1, r, lim.Burst-1-i)
			}
		}
		for name, l := range map[string]ratelimit.Limiter{"a": a, "b": b} {
			if r := mustAllow(t, l, "login-ip:203.0.113.9", lim); r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 12*time.Second {
				t.Errorf("6th event on %s: %+v, want denied with RetryAfter in (0, 12s]", name, r)
			}
		}
		if r := mustAllow(t, a, "login-ip:203.0.113.10", lim); !r.Allowed {
			t.Errorf("another key denied: %+v", r)
		}
	}
	t.Run("miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		mr.SetTime(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		var ls []ratelimit.Limiter
		for range 2 {
			client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { client.Close() })
			ls = append(ls, ratelimit.NewRedis(client, ratelimit.RedisOptions{}))
		}
		check(t, ls[0], ls[1])
	})
	t.Run("real", func(t *testing.T) {
		c1 := redistest.Client(t)
		c2 := redis.NewClient(c1.Options())
		t.Cleanup(func() { c2.Close() })
		prefix := testPrefix(t, c1)
		check(t,
			ratelimit.NewRedis(c1, ratelimit.RedisOptions{Prefix: prefix}),
			ratelimit.NewRedis(c2, ratelimit.RedisOptions{Prefix: prefix}))
	})
}

func TestRedisKeysPrefixedAndExpire(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	lim := ratelimit.Limit{Rate: 1, Per: time.Minute, Burst: 3}
	def := ratelimit.NewRedis(client, ratelimit.RedisOptions{Clock: clk})
	own := ratelimit.NewRedis(client, ratelimit.RedisOptions{Clock: clk, Prefix: "other:"})
	mustAllow(t, def, "login-user:alice", lim)
	mustAllow(t, def, "login-user:alice", lim)
	mustAllow(t, own, "login-user:alice", lim)
	if got, want := strings.Join(mr.Keys(), " "), "gatehouse:rl:login-user:alice other:login-user:alice"; got != want {
		t.Fatalf("keys %q, want %q", got, want)
	}
	// Two events of a one-a-minute limit: the TAT is 2m ahead, and the key
	// lives that long plus a second.
	if ttl := mr.TTL("gatehouse:rl:login-user:alice"); ttl != 2*time.Minute+time.Second {
		t.Errorf("TTL %s, want 2m1s", ttl)
	}
	if ttl := mr.TTL("other:login-user:alice"); ttl != time.Minute+time.Second {
		t.Errorf("TTL of other:... %s, want 1m1s", ttl)
	}
	// A denied event writes nothing, so it does not move the expiry.
	mustAllow(t, own, "login-user:alice", lim)
	mustAllow(t, own, "login-user:alice", lim)
	if r := mustAllow(t, own, "login-user:alice", lim); r.Allowed {
		t.Fatalf("4th event on other: allowed: %+v", r)
	}
	if ttl := mr.TTL("other:login-user:alice"); ttl != 3*time.Minute+time.Second {
		t.Errorf("TTL of other:... after a denied event %s, want 3m1s", ttl)
	}
	mr.FastForward(3 * time.Minute)
	clk.Advance(3 * time.Minute)
	if keys := mr.Keys(); len(keys) != 1 {
		t.Errorf("keys %q, want only other:... 3m after the first events", keys)
	}
	mr.FastForward(time.Second)
	clk.Advance(time.Second)
	if keys := mr.Keys(); len(keys) != 0 {
		t.Errorf("keys %q left after their TATs passed", keys)
	}
	if r := mustAllow(t, def, "login-user:alice", lim); !r.Allowed || r.Remaining != 2 {
		t.Errorf("after expiry: %+v, want a full burst", r)
	}
}

func TestRedisReset(t *testing.T) {
	_, client := redistest.Miniredis(t)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Clock: clocktest.New(time.Unix(1_900_000_000, 0))})
	ctx := context.Background()
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	mustAllow(t, l, "a", lim)
	mustAllow(t, l, "b", lim)
	if mustAllow(t, l, "a", lim).Allowed {
		t.Fatal("a allowed twice")
	}
	if err := l.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reset(ctx, "never-seen"); err != nil {
		t.Fatal(err)
	}
	if r := mustAllow(t, l, "a", lim); !r.Allowed {
		t.Errorf("a limited after Reset: %+v", r)
	}
	if mustAllow(t, l, "b", lim).Allowed {
		t.Error("Reset of a also reset b")
	}
}

// TestRedisDown: with Redis gone, Allow, Reset and Ping fail; nothing is
// silently allowed.
func TestRedisDown(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{})
	ctx := context.Background()
	lim := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 10}
	if err := l.Ping(ctx); err != nil {
		t.Fatalf("Ping while up: %v", err)
	}
	mustAllow(t, l, "k", lim)
	mr.Close()
	r, err := l.Allow(ctx, "k", lim)
	if err == nil || r.Allowed {
		t.Errorf("Allow with Redis down: %+v, %v; want an error and not allowed", r, err)
	}
	if err != nil && (!strings.HasPrefix(err.Error(), "ratelimit: ") || !errors.Is(err, ratelimit.ErrUnavailable)) {
		t.Errorf("error %q lacks context or is not ErrUnavailable", err)
	}
	if err := l.Ping(ctx); err == nil {
		t.Error("Ping with Redis down: nil error")
	}
	if err := l.Reset(ctx, "k"); err == nil {
		t.Error("Reset with Redis down: nil error")
	}
}

func TestRedisErrorReply(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{})
	mr.SetError("LOADING Redis is loading the dataset in memory")
	r, err := l.Allow(context.Background(), "k", ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1})
	if err == nil || r.Allowed || !strings.Contains(err.Error(), "LOADING") {
		t.Errorf("Allow on an error reply: %+v, %v; want the error", r, err)
	}
}

func TestRedisMicroseconds(t *testing.T) {
	_, client := redistest.Miniredis(t)
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Clock: clk})

	// A million events per µs: the interval is clamped to 1µs, Redis's
	// resolution (Memory clamps to 1ns).
	tiny := ratelimit.Limit{Rate: 1_000_000, Per: time.Microsecond, Burst: 2}
	a, b, c := mustAllow(t, l, "tiny", tiny), mustAllow(t, l, "tiny", tiny), mustAllow(t, l, "tiny", tiny)
	if !a.Allowed || !b.Allowed || c.Allowed || c.RetryAfter != time.Microsecond {
		t.Errorf("tiny interval: %+v %+v %+v", a, b, c)
	}

	// 3/s: the 333333333.3ns interval becomes 333333µs.
	third := ratelimit.Limit{Rate: 3, Per: time.Second, Burst: 1}
	mustAllow(t, l, "third", third)
	if r := mustAllow(t, l, "third", third); r.Allowed || r.RetryAfter != 333333*time.Microsecond {
		t.Errorf("3/s: %+v, want RetryAfter 333.333ms", r)
	}

	// Absurd limits saturate instead of overflowing Lua's doubles.
	huge := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: math.MaxInt}
	if r := mustAllow(t, l, "huge-burst", huge); !r.Allowed || r.Remaining < 1_000_000_000 {
		t.Errorf("huge burst: %+v, want allowed with a huge Remaining", r)
	}
	century := ratelimit.Limit{Rate: 1, Per: 100 * 365 * 24 * time.Hour, Burst: math.MaxInt}
	if r := mustAllow(t, l, "century", century); !r.Allowed {
		t.Errorf("once a century, first event: %+v", r)
	}
	if r := mustAllow(t, l, "century", century); r.Allowed || r.RetryAfter < 30*365*24*time.Hour {
		t.Errorf("once a century, second event: %+v, want denied for decades", r)
	}
}

// TestRedisServerTimeReal runs the production mode (Redis's TIME) against
// the real Redis, on the wall clock.
func TestRedisServerTimeReal(t *testing.T) {
	client := redistest.Client(t)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: testPrefix(t, client), Clock: clock.System})
	lim := ratelimit.Limit{Rate: 20, Per: time.Second, Burst: 3} // one per 50ms
	for i := range lim.Burst {
		if r := mustAllow(t, l, "k", lim); !r.Allowed {
			t.Fatalf("event %d: %+v, want allowed", i+1, r)
		}
	}
	r := mustAllow(t, l, "k", lim)
	if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 50*time.Millisecond {
		t.Fatalf("after the burst: %+v, want denied with RetryAfter in (0, 50ms]", r)
	}
	time.Sleep(r.RetryAfter)
	if r := mustAllow(t, l, "k", lim); !r.Allowed {
		t.Errorf("after RetryAfter: %+v, want allowed", r)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))

	t.Run("memory", func(t *testing.T) {
		l, closeFn, err := ratelimit.Open(ctx, "", clk)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := l.(*ratelimit.Memory); !ok {
			t.Errorf("Open(\"\") = %T, want *ratelimit.Memory", l)
		}
		if err := closeFn(); err != nil {
			t.Error(err)
		}
	})

	t.Run("redis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		l, closeFn, err := ratelimit.Open(ctx, "redis://"+mr.Addr()+"/0", clk)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := l.(*ratelimit.Redis)
		if !ok {
			t.Fatalf("Open(redis://) = %T, want *ratelimit.Redis", l)
		}
		lim := ratelimit.Limit{Rate: 1, Per: time.Minute, Burst: 1}
		if !mustAllow(t, l, "k", lim).Allowed || mustAllow(t, l, "k", lim).Allowed {
			t.Error("want one event allowed, then denied")
		}
		// clk is a fake, so the limiter follows it rather than miniredis.
		clk.Advance(time.Minute)
		if !mustAllow(t, l, "k", lim).Allowed {
			t.Error("not allowed after the fake clock moved a minute")
		}
		if !mr.Exists(ratelimit.DefaultRedisPrefix + "k") {
			t.Errorf("keys %q, want %sk", mr.Keys(), ratelimit.DefaultRedisPrefix)
		}
		if err := r.Ping(ctx); err != nil {
			t.Error(err)
		}
		if err := closeFn(); err != nil {
			t.Error(err)
		}
		if err := r.Ping(ctx); err == nil {
			t.Error("Ping after close: nil error")
		}
	})

	t.Run("real", func(t *testing.T) {
		u := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
		if u == "" {
			t.Skip("GATEHOUSE_TEST_REDIS_URL not set")
		}
		l, closeFn, err := ratelimit.Open(ctx, u, clock.System)
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		if err := l.(*ratelimit.Redis).Ping(ctx); err != nil {
			t.Error(err)
		}
	})

	down := miniredis.RunT(t)
	downAddr := down.Addr()
	down.Close()
	for _, tc := range []struct {
		url, want string
	}{
		{"redis://:s3cret@" + downAddr + "/0?max_retries=-1", "ratelimit: ping redis at " + downAddr},
		{"unix://:s3cret@/nonexistent/gatehouse-test.sock?max_retries=-1", "ratelimit: ping redis at /nonexistent/gatehouse-test.sock"},
		{"http://" + downAddr, `unsupported redis url scheme "http"`},
		{"127.0.0.1:6379", "parse redis url"},
		{"redis://:s3cret@" + downAddr + "/zero", "invalid database number"},
		{"redis://:s3cret%zz@" + downAddr, "parse redis url"},
	} {
		l, closeFn, err := ratelimit.Open(ctx, tc.url, clk)
		if err == nil || l != nil || closeFn != nil {
			t.Errorf("Open(%q) = %v, %v; want an error", tc.url, l, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): %q, want it to contain %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): %q reveals the password", tc.url, err)
		}
	}
}

// BenchmarkRedisAllow measures one Allow (one EVALSHA round trip) against
// the real Redis at GATEHOUSE_TEST_REDIS_URL, in the production mode
// (Redis's TIME), over 1024 keys. Like HTTP handlers, 8 callers per CPU
// wait on Redis at once, so ns/op is the cost per Allow under load, not
// one round trip's latency.
func BenchmarkRedisAllow(b *testing.B) {
	client := redistest.Client(b)
	l := ratelimit.NewRedis(client, ratelimit.RedisOptions{Prefix: testPrefix(b, client)})
	lim := ratelimit.Limit{Rate: 20000, Per: time.Second, Burst: 20000}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("token:client:%d", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)], lim); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
