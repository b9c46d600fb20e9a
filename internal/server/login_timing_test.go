package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/password"
)

// TestUnknownUserTakesAsLongAsWrongPassword checks SECURITY-CASES 30: a
// login for a user that does not exist does the same argon2id work as a
// wrong password, so response time does not reveal which usernames exist.
// The hash is made deliberately expensive (8 MiB, 3 passes) so that the
// difference without the dummy hash (microseconds against milliseconds)
// dwarfs scheduling noise; the test compares medians, not absolute times.
func TestUnknownUserTakesAsLongAsWrongPassword(t *testing.T) {
	h := newHarness(t)
	h.srv.hasher = password.NewHasher(password.Params{Memory: 8 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	h.srv.rewire()
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	median := func(user string) time.Duration {
		var ds []time.Duration
		for range 5 {
			form := h.loginForm(c, user, "wrong password")
			start := time.Now()
			p := h.submit(c, PathLogin, form)
			ds = append(ds, time.Since(start))
			if p.status != http.StatusUnauthorized {
				t.Fatalf("%s: status %d", user, p.status)
			}
		}
		for i := range ds {
			for j := i + 1; j < len(ds); j++ {
				if ds[j] < ds[i] {
					ds[i], ds[j] = ds[j], ds[i]
				}
			}
		}
		return ds[len(ds)/2]
	}
	known := median("alice")
	unknown := median("mallory")
	t.Logf("median login time: wrong password %v, unknown user %v", known, unknown)
	if unknown < known/5 {
		t.Fatalf("unknown user answered in %v, wrong password in %v: the difference reveals which users exist", unknown, known)
	}
}
