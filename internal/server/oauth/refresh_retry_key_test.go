package oauth

import "testing"

// TestRetryKeyMatchesOnlyAStoredKey: a token rotated by a request without
// an Idempotency-Key keeps no key hash, and a repeat without a key (whose
// hash is empty too) is not a retry of it: it is a repeat or a reuse.
func TestRetryKeyMatchesOnlyAStoredKey(t *testing.T) {
	k := retryKeyHash("Ut9mhnP0sLRlV3e8x0p6Bw", "")
	for _, tc := range []struct {
		stored, presented string
		want              bool
	}{
		{k, k, true},
		{"", "", false},
		{"", k, false},
		{k, "", false},
		{k, retryKeyHash("Ut9mhnP0sLRlV3e8x0p6Bw", "some-jkt"), false},
		{k, retryKeyHash("another-key-of-22-chars", ""), false},
	} {
		if got := retryKeyMatches(tc.stored, tc.presented); got != tc.want {
			t.Errorf("retryKeyMatches(%q, %q) = %v, want %v", tc.stored, tc.presented, got, tc.want)
		}
	}
}
