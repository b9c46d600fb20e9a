// Package ratelimit limits how often a key (an IP, a username, a client)
// may do something. Limiter is the interface the server depends on;
// Memory implements it in process, Redis shares it between the replicas of
// a server, and Open picks one from a URL. Every implementation passes the
// conformance suite in ratelimittest.
//
// A limiter that cannot decide (Redis is down or slow) returns an error,
// never an allowed Result, and the caller chooses what an error means:
// login, password and device-code entry paths fail closed (refuse the
// attempt with 503, since an unlimited password guesser is worse than a
// short outage), while the token endpoint fails open (machine clients keep
// getting tokens during an outage; their credentials are still checked).
// Redis bounds every call (RedisOptions.Timeout, 500 ms by default) and,
// after repeated failures, stops calling a dead Redis for a second at a
// time (a circuit breaker), so either choice is reached within the bound
// and usually at once.
//
// The algorithm is GCRA (the generic cell rate algorithm, as in
// go-redis/redis_rate): each key stores one time, its theoretical arrival
// time (TAT). An event is allowed when it arrives no earlier than
// TAT + emission interval - burst × emission interval; it then moves TAT on
// by one emission interval (Per / Rate). A key that is idle for
// Burst × Per / Rate is back to a full burst.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidLimit is returned (wrapped) for a Limit with a non-positive
// field.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Limit allows Rate events per Per, and up to Burst events at once.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// Result is the outcome of one Allow.
type Result struct {
	// Allowed reports whether the event may go ahead.
	Allowed bool
	// RetryAfter is how long to wait before the next event would be
	// allowed; zero when Allowed.
	RetryAfter time.Duration
	// Remaining is how many more events would be allowed right now.
	Remaining int
}

// Limiter decides whether an event for key is allowed under l and counts
// it when it is. Callers put the purpose in the key ("login:ip:203.0.113.9")
// and use one Limit per purpose. A denied event is not counted.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

func (l Limit) check() error {
	if l.Rate <= 0 || l.Per <= 0 || l.Burst <= 0 {
		return fmt.Errorf("%w: %d per %s, burst %d", ErrInvalidLimit, l.Rate, l.Per, l.Burst)
	}
	return nil
}

// interval is the emission interval Per / Rate in nanoseconds, at least 1.
func (l Limit) interval() int64 {
	return max(int64(l.Per)/int64(l.Rate), 1)
}

// gcra applies one event at now to a key whose stored TAT is tat (both
// nanoseconds on the same scale; tat 0 or in the past means a fresh key).
// It returns the TAT to store and the result; a denied event leaves the
// TAT as it was.
func gcra(now, tat int64, l Limit) (int64, Result) {
	t := l.interval()
	burst := int64(l.Burst)
	if burst > math.MaxInt64/t/2 {
		burst = math.MaxInt64 / t / 2 // absurd limits saturate instead of overflowing
	}
	tat = max(tat, now)
	next := tat + t
	allowAt := next - burst*t
	diff := now - allowAt
	if diff < 0 {
		return tat, Result{RetryAfter: time.Duration(-diff)}
	}
	return next, Result{Allowed: true, Remaining: int(diff / t)}
}
