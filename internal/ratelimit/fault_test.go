package ratelimit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/faultnet"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/redistest"
)

// TestRedisFaults puts a fault-injecting proxy between the limiter (opened
// from a URL, as the server opens it) and the real Redis: a stalled or cut
// link makes Allow fail within the call timeout, then, once the circuit
// breaker is open, at once; after the link comes back a probe closes the
// breaker.
func TestRedisFaults(t *testing.T) {
	raw := os.Getenv(redistest.EnvURL)
	if raw == "" {
		t.Skip(redistest.EnvURL + " not set")
	}
	client := redistest.Client(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultnet.Start(t, u.Host)
	u.Host = proxy.Addr()
	prefix := "gatehouse-test:" + rand.Text() + ":"
	q := u.Query()
	q.Set("key_prefix", prefix)
	u.RawQuery = q.Encode()
	t.Cleanup(func() { testPrefixCleanup(t, client, prefix) })

	const timeout = 200 * time.Millisecond
	ctx := context.Background()
	l, closeL, err := ratelimit.Open(ctx, u.String(), clock.System, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer closeL()
	lim := ratelimit.Limit{Rate: 1000, Per: time.Second, Burst: 1000}
	allow := func() (time.Duration, error) {
		start := time.Now()
		_, err := l.Allow(ctx, "k", lim)
		return time.Since(start), err
	}
	if _, err := allow(); err != nil {
		t.Fatalf("through a healthy link: %v", err)
	}
	for _, fault := range []struct {
		name  string
		apply func()
	}{{"stall", proxy.Stall}, {"cut", proxy.Cut}} {
		t.Run(fault.name, func(t *testing.T) {
			fault.apply()
			// Until the breaker opens each call pays at most the timeout
			// (plus scheduling slack); then calls fail at once.
			for i := range 3 {
				d, err := allow()
				if !errors.Is(err, ratelimit.ErrUnavailable) {
					t.Fatalf("call %d: err %v, want ErrUnavailable", i, err)
				}
				if d > timeout+300*time.Millisecond {
					t.Fatalf("call %d took %v, more than the %v timeout", i, d, timeout)
				}
			}
			d, err := allow()
			if !errors.Is(err, ratelimit.ErrUnavailable) || d > 50*time.Millisecond {
				t.Fatalf("with the breaker open: %v after %v, want ErrUnavailable at once", err, d)
			}
			proxy.Resume()
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := allow()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no recovery 5s after the link came back: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
