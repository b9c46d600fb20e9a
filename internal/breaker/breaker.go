// Package breaker is a circuit breaker for calls to a dependency (Redis,
// the database). While the dependency answers, calls go through. After
// Threshold consecutive failures the breaker opens: calls are refused at
// once with ErrOpen instead of each paying the dependency's timeout. After
// Cooldown one call is let through as a probe (half-open); its success
// closes the breaker, its failure opens it for another Cooldown.
package breaker

import (
	"errors"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// ErrOpen is returned by Allow while the breaker is open.
var ErrOpen = errors.New("dependency unavailable (circuit open)")

// Defaults of New.
const (
	DefaultThreshold = 3
	DefaultCooldown  = time.Second
)

// State is the state of a Breaker.
type State int

// States.
const (
	Closed   State = iota // calls go through
	Open                  // calls are refused
	HalfOpen              // one probe is in flight
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	default:
		return "half-open"
	}
}

// Breaker is safe for concurrent use. The zero value is not usable; call
// New.
type Breaker struct {
	clk       clock.Clock
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	state     State
	failures  int       // consecutive failures while closed
	openUntil time.Time // when Open: the earliest probe
	lastErr   error
}

// New returns a closed breaker that opens after threshold consecutive
// failures and probes every cooldown (defaults when ≤ 0).
func New(clk clock.Clock, threshold int, cooldown time.Duration) *Breaker {
	if clk == nil {
		clk = clock.System
	}
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if cooldown <= 0 {
		cooldown = DefaultCooldown
	}
	return &Breaker{clk: clk, threshold: threshold, cooldown: cooldown}
}

// Allow reports whether a call may go ahead: nil when closed, nil for the
// one probe once the cooldown has passed, else ErrOpen. A caller that got
// nil must report the outcome with Done.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case Closed:
		return nil
	case Open:
		if b.clk.Now().Before(b.openUntil) {
			return ErrOpen
		}
		b.state = HalfOpen
		return nil
	default: // a probe is in flight
		return ErrOpen
	}
}

// Done records the outcome of a call that Allow let through: a nil err is
// a success. Callers pass only errors that mean the dependency is
// unavailable (timeouts, refused connections), not answers it gave.
func (b *Breaker) Done(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.state, b.failures, b.lastErr = Closed, 0, nil
		return
	}
	b.lastErr = err
	b.failures++
	if b.state == HalfOpen || b.failures >= b.threshold {
		b.state = Open
		b.openUntil = b.clk.Now().Add(b.cooldown)
	}
}

// State returns the current state and the last failure (nil when closed
// after a success).
func (b *Breaker) State() (State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && !b.clk.Now().Before(b.openUntil) {
		return HalfOpen, b.lastErr // the next call probes
	}
	return b.state, b.lastErr
}

// RetryAfter is how long until the breaker lets a probe through (at least
// one second, for a Retry-After header).
func (b *Breaker) RetryAfter() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.openUntil.Sub(b.clk.Now()), time.Second)
}
