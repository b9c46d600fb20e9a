// Package ratelimittest is the conformance suite every ratelimit.Limiter
// implementation passes: Run(t, newLimiter).
package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
)

// NewLimiter returns a fresh, empty limiter whose time is clk.
type NewLimiter func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter

// Run runs the conformance suite against limiters made by newLimiter.
func Run(t *testing.T, newLimiter NewLimiter) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewLimiter)
	}{
		{"BurstThenDeny", testBurstThenDeny},
		{"RetryAfter", testRetryAfter},
		{"Refill", testRefill},
		{"KeysIndependent", testKeysIndependent},
		{"DeniedNotCounted", testDeniedNotCounted},
		{"InvalidLimit", testInvalidLimit},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newLimiter) })
	}
}

func start() *clocktest.Fake {
	return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func allow(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return r
}

// 10 per minute: one event every 6s.
var tenPerMinute = ratelimit.Limit{Rate: 10, Per: time.Minute, Burst: 3}

func testBurstThenDeny(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	for i := range tenPerMinute.Burst {
		r := allow(t, l, "k", tenPerMinute)
		want := ratelimit.Result{Allowed: true, Remaining: tenPerMinute.Burst - 1 - i}
		if r != want {
			t.Fatalf("event %d: %+v, want %+v", i+1, r, want)
		}
	}
	r := allow(t, l, "k", tenPerMinute)
	if r.Allowed || r.Remaining != 0 {
		t.Fatalf("event after the burst: %+v, want denied", r)
	}
	if r.RetryAfter != 6*time.Second {
		t.Errorf("RetryAfter %s, want 6s (one emission interval)", r.RetryAfter)
	}
}

func testRetryAfter(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	for range tenPerMinute.Burst {
		allow(t, l, "k", tenPerMinute)
	}
	clk.Advance(2 * time.Second)
	r := allow(t, l, "k", tenPerMinute)
	if r.Allowed || r.RetryAfter != 4*time.Second {
		t.Fatalf("2s after the burst: %+v, want denied with RetryAfter 4s", r)
	}
	clk.Advance(r.RetryAfter - time.Millisecond)
	if r := allow(t, l, "k", tenPerMinute); r.Allowed || r.RetryAfter != time.Millisecond {
		t.Fatalf("1ms before RetryAfter: %+v, want denied with RetryAfter 1ms", r)
	}
	clk.Advance(time.Millisecond)
	if r := allow(t, l, "k", tenPerMinute); !r.Allowed || r.RetryAfter != 0 {
		t.Fatalf("at RetryAfter: %+v, want allowed", r)
	}
	if r := allow(t, l, "k", tenPerMinute); r.Allowed {
		t.Fatalf("second event at RetryAfter: %+v, want denied", r)
	}
}

func testRefill(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	lim := ratelimit.Limit{Rate: 5, Per: time.Second, Burst: 5} // one per 200ms
	count := func() int {
		n := 0
		for allow(t, l, "k", lim).Allowed {
			n++
			if n > 1000 {
				t.Fatal("never denied")
			}
		}
		return n
	}
	if n := count(); n != 5 {
		t.Fatalf("fresh key allowed %d, want the burst of 5", n)
	}
	clk.Advance(400 * time.Millisecond)
	if n := count(); n != 2 {
		t.Errorf("400ms later allowed %d, want 2", n)
	}
	clk.Advance(time.Hour)
	if n := count(); n != 5 {
		t.Errorf("an hour later allowed %d, want 5 (refill stops at the burst)", n)
	}
	// A steady 5/s stream is always allowed.
	for i := range 20 {
		clk.Advance(200 * time.Millisecond)
		if r := allow(t, l, "k", lim); !r.Allowed {
			t.Fatalf("steady event %d denied: %+v", i, r)
		}
	}
}

func testKeysIndependent(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	lim := ratelimit.Limit{Rate: 1, Per: time.Minute, Burst: 1}
	if !allow(t, l, "a", lim).Allowed {
		t.Fatal("a denied")
	}
	if allow(t, l, "a", lim).Allowed {
		t.Fatal("a allowed twice")
	}
	for _, k := range []string{"b", "A", "a ", ""} {
		if r := allow(t, l, k, lim); !r.Allowed {
			t.Errorf("key %q denied after a was exhausted: %+v", k, r)
		}
	}
	if allow(t, l, "a", lim).Allowed {
		t.Error("a allowed after other keys were used")
	}
}

func testDeniedNotCounted(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	lim := ratelimit.Limit{Rate: 1, Per: time.Second, Burst: 1}
	allow(t, l, "k", lim)
	for range 100 {
		allow(t, l, "k", lim) // hammering while denied must not push the wait out
	}
	clk.Advance(time.Second)
	if r := allow(t, l, "k", lim); !r.Allowed {
		t.Errorf("denied events were counted: %+v", r)
	}
}

func testInvalidLimit(t *testing.T, newLimiter NewLimiter) {
	l := newLimiter(t, start())
	for _, lim := range []ratelimit.Limit{
		{Rate: 0, Per: time.Second, Burst: 1},
		{Rate: 1, Per: 0, Burst: 1},
		{Rate: 1, Per: time.Second, Burst: 0},
		{Rate: -1, Per: -time.Second, Burst: -1},
	} {
		r, err := l.Allow(context.Background(), "k", lim)
		if !errors.Is(err, ratelimit.ErrInvalidLimit) {
			t.Errorf("%+v: err %v, want ErrInvalidLimit", lim, err)
		}
		if r.Allowed {
			t.Errorf("%+v: allowed", lim)
		}
	}
}

func testConcurrent(t *testing.T, newLimiter NewLimiter) {
	clk := start()
	l := newLimiter(t, clk)
	lim := ratelimit.Limit{Rate: 100, Per: time.Hour, Burst: 100}
	const workers, each = 16, 25 // 400 attempts for a burst of 100
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed = map[string]int{}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				for _, key := range []string{"shared", fmt.Sprintf("own-%d", w)} {
					r, err := l.Allow(context.Background(), key, lim)
					if err != nil {
						t.Errorf("worker %d event %d: %v", w, i, err)
						return
					}
					if r.Allowed {
						mu.Lock()
						allowed[key]++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if allowed["shared"] != lim.Burst {
		t.Errorf("shared key: %d allowed by concurrent callers, want exactly %d", allowed["shared"], lim.Burst)
	}
	for w := range workers {
		if k := fmt.Sprintf("own-%d", w); allowed[k] != each {
			t.Errorf("%s: %d allowed, want %d", k, allowed[k], each)
		}
	}
}
