package breaker

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

func TestBreaker(t *testing.T) {
	clk := clocktest.New(time.Unix(1000, 0))
	b := New(clk, 2, 5*time.Second)
	down := errors.New("down")
	call := func(err error) error {
		if e := b.Allow(); e != nil {
			return e
		}
		b.Done(err)
		return err
	}
	if err := call(down); err != down {
		t.Fatalf("first failure: %v", err)
	}
	if s, _ := b.State(); s != Closed {
		t.Fatalf("after one failure: %v, want closed", s)
	}
	_ = call(down)
	if err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatalf("after threshold failures Allow = %v, want ErrOpen", err)
	}
	if got := b.RetryAfter(); got != 5*time.Second {
		t.Errorf("RetryAfter = %v, want 5s", got)
	}
	clk.Advance(5 * time.Second)
	if err := b.Allow(); err != nil {
		t.Fatalf("after cooldown the probe is refused: %v", err)
	}
	if err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatalf("a second call while the probe is in flight = %v, want ErrOpen", err)
	}
	b.Done(down) // the probe failed: open again at once
	if err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatalf("after a failed probe Allow = %v, want ErrOpen", err)
	}
	clk.Advance(5 * time.Second)
	if err := call(nil); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s, err := b.State(); s != Closed || err != nil {
		t.Fatalf("after a good probe: %v %v, want closed", s, err)
	}
	// A success resets the count of consecutive failures.
	_ = call(down)
	_ = call(nil)
	_ = call(down)
	if err := b.Allow(); err != nil {
		t.Fatalf("non-consecutive failures opened the breaker: %v", err)
	}
}
