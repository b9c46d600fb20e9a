// Package clocktest provides a manually advanced clock.Clock for tests.
package clocktest

import (
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// Fake is a clock.Clock that only moves when Advance or Set is called.
// Timers and tickers fire as the fake time passes their deadlines.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
}

type waiter struct {
	at     time.Time
	period time.Duration // > 0 for tickers
	ch     chan time.Time
	active bool
}

// New returns a Fake set to t.
func New(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d and fires due timers.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.fireLocked()
	f.mu.Unlock()
}

// Set moves the fake time to t and fires due timers.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.fireLocked()
	f.mu.Unlock()
}

func (f *Fake) fireLocked() {
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.active {
			continue
		}
		for w.active && !w.at.After(f.now) {
			select {
			case w.ch <- f.now:
			default:
			}
			if w.period > 0 {
				w.at = w.at.Add(w.period)
			} else {
				w.active = false
			}
		}
		if w.active {
			kept = append(kept, w)
		}
	}
	f.waiters = kept
}

func (f *Fake) add(d, period time.Duration) *waiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &waiter{at: f.now.Add(d), period: period, ch: make(chan time.Time, 1), active: true}
	f.waiters = append(f.waiters, w)
	f.fireLocked()
	return w
}

// After returns a channel that receives the fake time once d has passed.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.add(d, 0).ch }

// NewTimer returns a timer driven by the fake time.
func (f *Fake) NewTimer(d time.Duration) clock.Timer { return &fakeTimer{f: f, w: f.add(d, 0)} }

// NewTicker returns a ticker driven by the fake time.
func (f *Fake) NewTicker(d time.Duration) clock.Ticker {
	if d <= 0 {
		panic("clocktest: non-positive ticker period")
	}
	return &fakeTicker{f: f, w: f.add(d, d)}
}

type fakeTimer struct {
	f *Fake
	w *waiter
}

func (t *fakeTimer) C() <-chan time.Time { return t.w.ch }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.w.active
	t.w.active = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	was := t.w.active
	t.w.active = false
	nw := &waiter{at: t.f.now.Add(d), ch: t.w.ch, active: true}
	t.w = nw
	t.f.waiters = append(t.f.waiters, nw)
	t.f.fireLocked()
	t.f.mu.Unlock()
	return was
}

type fakeTicker struct {
	f *Fake
	w *waiter
}

func (t *fakeTicker) C() <-chan time.Time { return t.w.ch }

func (t *fakeTicker) Stop() {
	t.f.mu.Lock()
	t.w.active = false
	t.f.mu.Unlock()
}
