package e2e

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIInterruptedRefreshKeepsLogin checks SECURITY-CASES 72 with the
// real binary against a real server: `gatehouse token --force-refresh` is
// interrupted at random moments of its run — SIGINT and SIGKILL in turn —
// and after every interruption the login must still refresh, without a
// new login.
//
// SIGINT is caught: a refresh that reached the server is stored before
// the process exits, one that had not is not sent. SIGKILL cannot be
// caught: a kill between the server's rotation and the local write loses
// the answer, and the next run presents the spent refresh token. That run
// repeats the Idempotency-Key stored before the request, and the server
// answers it with the same successor (client/refresh_retry.go,
// internal/server/oauth/refresh_retry.go); the check below runs within the
// server's reuse interval, as the retry needs.
func TestCLIInterruptedRefreshKeepsLogin(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	const pw = "dave-Pa55word-e2e"
	addUser(t, g, "dave", "viewer", pw)
	u := newCLIUser(t)
	u.loginWithHTTPBrowser(g, "dave", pw)

	// How long one forced refresh takes, process start to exit, to spread
	// the signals over it.
	var span time.Duration
	for range 3 {
		start := time.Now()
		u.ok(nil, "token", "--force-refresh")
		span += time.Since(start) / 3
	}
	iterations := 100
	if testing.Short() {
		iterations = 20
	}
	signals := []syscall.Signal{syscall.SIGINT, syscall.SIGKILL}
	names := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL"}
	interrupted := map[syscall.Signal]int{} // runs that did not finish
	outstanding := 0                        // kills that left a sent refresh unsaved
	lost := map[syscall.Signal]int{}
	for i := range iterations {
		sig := signals[i%len(signals)]
		p := u.start(nil, "", "token", "--force-refresh")
		time.Sleep(time.Duration(rand.Int64N(int64(span + span/4))))
		_ = p.cmd.Process.Signal(sig)
		if code := p.wait(t, time.Minute); code != 0 {
			interrupted[sig]++
			if sig == syscall.SIGINT && strings.Contains(p.stderr.String(), "invalid_grant") {
				t.Errorf("iteration %d: the interrupted run was refused by the server:\n%s", i, p.stderr.String())
			}
		}
		if sig == syscall.SIGKILL && u.stored("default").PendingRefreshKey != "" {
			outstanding++
		}
		// The login must still work: a refresh, not the cached token.
		if _, errOut, code := u.run(nil, "", "token", "--force-refresh"); code != 0 {
			lost[sig]++
			t.Errorf("iteration %d: after %s the login no longer refreshes (exit %d):\n%s", i, names[sig], code, errOut)
			u.loginWithHTTPBrowser(g, "dave", pw) // to go on counting
		}
	}
	for _, sig := range signals {
		t.Logf("%s: %d of %d runs interrupted, %d lost the login", names[sig], interrupted[sig], iterations/len(signals), lost[sig])
	}
	t.Logf("SIGKILL: %d kills came after the refresh was recorded and before its answer was stored (refresh took %v)", outstanding, span)
}
