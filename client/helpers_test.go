package client

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

// start is the fake clock's starting time in every test.
var start = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// waitClock is a fake clock that reports the duration of every timer
// made on it, after making it, so a test knows the code under test is
// waiting before it advances the time.
type waitClock struct {
	*clocktest.Fake
	waits chan time.Duration
}

func newWaitClock() *waitClock {
	return &waitClock{Fake: clocktest.New(start), waits: make(chan time.Duration, 100)}
}

func (c *waitClock) NewTimer(d time.Duration) clock.Timer {
	t := c.Fake.NewTimer(d)
	c.waits <- d
	return t
}

// nextWait returns the duration of the next timer the code makes.
func (c *waitClock) nextWait(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the code under test made no timer")
		return 0
	}
}

// config returns a Config for the fake server's public client.
func (as *fakeAS) config(clk clock.Clock) *Config {
	return &Config{
		Metadata:   as.metadata(),
		ClientID:   publicClient,
		Scopes:     []string{"openid", "offline_access"},
		HTTPClient: as.srv.Client(),
		Clock:      clk,
	}
}

// waitForWaiters waits until n callers wait on the shared refreshes of
// ts, polling with a deadline: the test's own goroutines have entered the
// flight, which the code under test records.
func waitForWaiters(t *testing.T, ts *TokenSource, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		ts.mu.Lock()
		for _, f := range ts.flights {
			f.mu.Lock()
			got += f.waiters
			f.mu.Unlock()
		}
		ts.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers wait on the refresh, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
