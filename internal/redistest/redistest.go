// Package redistest gives tests a client of the real Redis named by
// GATEHOUSE_TEST_REDIS_URL (which .ci/run sets), skipping them without it.
package redistest

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
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
