package server

import (
	"testing"
	"time"
)

// TestPruneInterval: retention is enforced every tenth of it, between a
// minute and an hour, so a short retention (a soak, a demo) is not held
// for an hour and a long one is not pruned every minute.
func TestPruneInterval(t *testing.T) {
	for _, tc := range []struct{ retention, want time.Duration }{
		{time.Minute, time.Minute},
		{10 * time.Minute, time.Minute},
		{30 * time.Minute, 3 * time.Minute},
		{10 * time.Hour, time.Hour},
		{2160 * time.Hour, time.Hour},
	} {
		if got := pruneInterval(tc.retention); got != tc.want {
			t.Errorf("pruneInterval(%s) = %s, want %s", tc.retention, got, tc.want)
		}
	}
}
