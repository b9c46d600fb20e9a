// Package redistest gives tests Redis: a client of the real Redis named by
// GATEHOUSE_TEST_REDIS_URL (which .ci/run sets), skipping them without it,
// and an in-process miniredis whose time can follow a fake clock.
package redistest

import (
	"context"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// EnvURL names the variable with the Redis URL of the tests.
const EnvURL = "GATEHOUSE_TEST_REDIS_URL"

// Client returns a client of the Redis at GATEHOUSE_TEST_REDIS_URL, closed
// when the test ends, or skips tb when the variable is not set. A Redis
// that does not answer fails the test.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		tb.Skip(EnvURL + " not set")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	return client
}

// Miniredis starts an in-process miniredis for tb and returns it with a
// client that does not retry (a test of failures sees them at once).
func Miniredis(tb testing.TB) (*miniredis.Miniredis, *redis.Client) {
	tb.Helper()
	mr := miniredis.RunT(tb)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialerRetries: 1})
	tb.Cleanup(func() { client.Close() })
	return mr, client
}

// FollowClock makes mr's TIME and key expiry follow clk: before every
// command client sends, mr's time is set to clk's, so advancing a fake
// clock expires keys as Redis would.
func FollowClock(mr *miniredis.Miniredis, client *redis.Client, clk clock.Clock) {
	mr.SetTime(clk.Now())
	mr.ClockTTL(true)
	client.AddHook(followClock{mr, clk})
}

type followClock struct {
	mr  *miniredis.Miniredis
	clk clock.Clock
}

func (f followClock) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f followClock) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		f.mr.SetTime(f.clk.Now())
		return next(ctx, cmd)
	}
}

func (f followClock) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		f.mr.SetTime(f.clk.Now())
		return next(ctx, cmds)
	}
}
