package secondfactor

import (
	"testing"
	"time"
)

func TestTOTPBackoffSchedule(t *testing.T) {
	for n, want := range map[int]time.Duration{
		0: 0, 1: 0, 5: 0,
		6: time.Minute, 7: 2 * time.Minute, 8: 4 * time.Minute,
		15: 512 * time.Minute, 16: 1024 * time.Minute,
		17: 24 * time.Hour, 100: 24 * time.Hour,
	} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
