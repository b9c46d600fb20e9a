package jwt

import (
	"testing"
	"time"
)

func TestRefreshInterval(t *testing.T) {
	tests := []struct {
		cacheControl []string
		want         time.Duration
	}{
		{nil, DefaultJWKSRefresh},
		{[]string{"public, max-age=300"}, 300 * time.Second},
		{[]string{"public", "MAX-AGE=\"120\""}, 120 * time.Second},
		{[]string{"max-age=0"}, MinJWKSRefetchInterval},
		{[]string{"no-store"}, DefaultJWKSRefresh},
		{[]string{"max-age=abc, max-age=60"}, 60 * time.Second},
		{[]string{"max-age=-5"}, DefaultJWKSRefresh},
		{[]string{"max-age=99999999999999999"}, maxJWKSRefresh},
	}
	for _, tt := range tests {
		if got := refreshInterval(tt.cacheControl); got != tt.want {
			t.Errorf("refreshInterval(%q) = %v, want %v", tt.cacheControl, got, tt.want)
		}
	}
}

// TestFetchRateLimit checks both guards of the rate limit: due (the cheap
// check before joining a fetch) and claim (inside the single flight).
func TestFetchRateLimit(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},                           // first fetch
		{0, false},                          // same instant
		{MinJWKSRefetchInterval - 1, false}, // inside the interval
		{MinJWKSRefetchInterval, true},      // next window
		{-time.Hour, true},                  // the clock went backwards
	}
	var s RemoteKeySet
	for i, st := range steps {
		now := t0.Add(st.at)
		if got := s.due(now); got != st.want {
			t.Errorf("step %d: due = %v, want %v", i, got, st.want)
		}
		if got := s.claim(now); got != st.want {
			t.Errorf("step %d: claim = %v, want %v", i, got, st.want)
		}
	}
}

func TestMembers(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                          0,
		`{"a":1}`:                     1,
		`{"a":{"b":1,"c":2},"d":[1]}`: 2,
		`{"a:":"x:y","b\":":"\\"}`:    2,
		` { "a" : [ {"x":1} ] } `:     1,
	} {
		if got := members([]byte(in)); got != want {
			t.Errorf("members(%s) = %d, want %d", in, got, want)
		}
	}
}
