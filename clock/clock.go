// Package clock abstracts time so that expiry, refresh margins, polling
// intervals and rate limits are testable without sleeping. Production code
// takes a Clock; tests pass a clocktest.Fake.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// After waits for the duration to elapse and then sends the current time.
	After(d time.Duration) <-chan time.Time
	// NewTimer creates a Timer that fires once after d.
	NewTimer(d time.Duration) Timer
	// NewTicker creates a Ticker that fires every d.
	NewTicker(d time.Duration) Ticker
}

// Timer is the subset of *time.Timer that Clock users need.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Ticker is the subset of *time.Ticker that Clock users need.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// System is the real wall clock.
//
// Its type has no fields and cannot be named outside this package, so the
// only value that can ever be assigned to System is System itself: no
// package (and no test) can swap the wall clock out from under the others.
// Code that wants another clock takes a Clock.
var System systemClock

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (systemClock) NewTimer(d time.Duration) Timer         { return &systemTimer{time.NewTimer(d)} }
func (systemClock) NewTicker(d time.Duration) Ticker       { return &systemTicker{time.NewTicker(d)} }

type systemTimer struct{ t *time.Timer }

func (s *systemTimer) C() <-chan time.Time        { return s.t.C }
func (s *systemTimer) Stop() bool                 { return s.t.Stop() }
func (s *systemTimer) Reset(d time.Duration) bool { return s.t.Reset(d) }

type systemTicker struct{ t *time.Ticker }

func (s *systemTicker) C() <-chan time.Time { return s.t.C }
func (s *systemTicker) Stop()               { s.t.Stop() }
