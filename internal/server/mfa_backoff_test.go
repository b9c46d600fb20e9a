package server

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// TestMFABackoffAcrossPages: wrong codes back off per user, counted
// together on the login page and the account pages: 5 are free, the 6th
// locks code entry for a minute (429 with Retry-After, even for the right
// code), the 7th for two; a right code clears the count. SECURITY-CASES 30.
func TestMFABackoffAcrossPages(t *testing.T) {
	// Rate limits high enough that only the back-off answers.
	h := newHarness(t, func(c *config.Server) {
		c.Limits.LoginPerUser, c.Limits.LoginPerIP = perMinute(1000), perMinute(1000)
	})
	u := h.addUser("alice", "correct horse battery")
	acct := h.newBrowser()
	h.loginAs(acct, "alice", "correct horse battery")
	sec, _ := h.enrol(acct)
	h.clock.Advance(30 * time.Second)

	c, p := h.passwordStep("alice", "correct horse battery")
	for i := range 4 {
		if got := h.submitCode(c, p, h.wrongCode(sec)); got.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, got.status)
		}
	}
	// The 5th wrong code, on the account page's "turn off" form, counts
	// in the same series.
	ap := h.browse(acct, PathAccount)
	if got := h.submit(acct, PathAccount+"/mfa/disable", fillForm(ap.body, url.Values{"code": {h.wrongCode(sec)}})); got.status != http.StatusBadRequest {
		t.Fatalf("wrong code on the account page: %d", got.status)
	}
	// The 6th: still answered as wrong, but now code entry is locked.
	if got := h.submitCode(c, p, h.wrongCode(sec)); got.status != http.StatusUnauthorized {
		t.Fatalf("wrong code 6: %d", got.status)
	}
	locked := func(what string, want string) {
		t.Helper()
		got := h.submitCode(c, p, totpCode(t, sec, h.clock.Now()))
		if got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != want {
			t.Fatalf("%s: %d, Retry-After %q, want 429 and %s", what, got.status, got.header.Get("Retry-After"), want)
		}
	}
	locked("right code while locked", "60")
	if ev := h.waitAudit("login.rate_limited"); ev["reason"] != limitMFABackoff {
		t.Errorf("audit %v", ev)
	}
	// The account page is locked as well.
	ap = h.browse(acct, PathAccount)
	if got := h.submit(acct, PathAccount+"/mfa/disable", fillForm(ap.body, url.Values{"code": {totpCode(t, sec, h.clock.Now())}})); got.status != http.StatusTooManyRequests {
		t.Fatalf("account page while locked: %d", got.status)
	}
	h.clock.Advance(59 * time.Second)
	locked("a second before the lock ends", "1")

	h.clock.Advance(time.Second)
	c, p = h.passwordStep("alice", "correct horse battery") // the pending login lasts 5 minutes
	if got := h.submitCode(c, p, h.wrongCode(sec)); got.status != http.StatusUnauthorized {
		t.Fatalf("wrong code 7: %d", got.status)
	}
	locked("after the 7th", "120")
	h.clock.Advance(2 * time.Minute)
	c, p = h.passwordStep("alice", "correct horse battery")
	if got := h.submitCode(c, p, totpCode(t, sec, h.clock.Now())); !signedIn(got) {
		t.Fatalf("right code after the lock: %d %s", got.status, got.body)
	}
	st, err := h.store.GetTOTP(context.Background(), u.ID)
	if err != nil || st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after a right code: %+v %v", st, err)
	}
}

// TestMFAWindowIsExactlyOneStep: a code of the step before or after the
// current one is accepted, two steps away is not, even when neither step
// was used before. SECURITY-CASES 31.
func TestMFAWindowIsExactlyOneStep(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c) // uses up the current step
	h.clock.Advance(90 * time.Second)
	now := h.clock.Now()
	step := 30 * time.Second

	c1, p := h.passwordStep("alice", "correct horse battery")
	for _, d := range []time.Duration{-2 * step, 2 * step} {
		if got := h.submitCode(c1, p, totpCode(t, sec, now.Add(d))); got.status != http.StatusUnauthorized {
			t.Fatalf("code %v away: %d, want 401", d, got.status)
		}
	}
	if got := h.submitCode(c1, p, totpCode(t, sec, now.Add(-step))); !signedIn(got) {
		t.Fatalf("previous step's code: %d", got.status)
	}
	c2, p := h.passwordStep("alice", "correct horse battery")
	if got := h.submitCode(c2, p, totpCode(t, sec, now.Add(step))); !signedIn(got) {
		t.Fatalf("next step's code: %d", got.status)
	}
}
