package e2e

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// TestCLIConcurrentRefresh is SECURITY-CASES 37 with real processes: 20
// `gatehouse token --force-refresh` at once on one profile (file store)
// all succeed, and the server never sees a refresh token twice — its
// reuse detection would revoke the whole login (RFC 9700 §4.14.2), so
// every token printed staying active, and the login working afterwards,
// prove it. Then a forced refresh adopts a token a peer obtained after
// the process started instead of spending another refresh.
func TestCLIConcurrentRefresh(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, m := discover(t, t.Context(), g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	const pw = "carol-Pa55word-e2e"
	addUser(t, g, "carol", "viewer", pw)
	u := newCLIUser(t)
	// --no-dpop: peerRefresh below refreshes as a bare HTTP client, without
	// a proof (DPoP-bound refreshes: client.TestDPoPKeyPersistsAcrossProcesses).
	u.loginWithHTTPBrowser(g, "carol", pw, "--no-dpop")
	first := u.stored("default")

	const n = 20
	procs := make([]*cliProcess, n)
	for i := range procs {
		procs[i] = u.start(nil, "", "token", "--force-refresh")
	}
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := p.wait(t, 60*time.Second); code != 0 {
				t.Errorf("process %d: exit %d\n%s", i, code, p.stderr.String())
				return
			}
			tokens[i] = strings.TrimSpace(p.stdout.String())
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	distinct := map[string]bool{}
	for i, tok := range tokens {
		if tok == first.AccessToken {
			t.Errorf("process %d printed the token from before the forced refresh", i)
		}
		distinct[tok] = true
	}
	for tok := range distinct {
		if in := introspect(t, t.Context(), m, rsID, rsSecret, tok); !in.Active {
			t.Fatalf("a printed token is inactive: the login was revoked (a refresh token was presented twice)")
		}
	}
	t.Logf("%d processes, %d refreshes", n, len(distinct))

	// The login is intact: token still works and still refreshes.
	before := u.stored("default")
	again := strings.TrimSpace(u.ok(nil, "token", "--force-refresh"))
	if again == before.AccessToken || !introspect(t, t.Context(), m, rsID, rsSecret, again).Active {
		t.Fatal("after the concurrent refreshes, a forced refresh did not give a new active token")
	}

	// Adoption: hold the profile's lock, start a forced refresh (it reads
	// the stored token, then waits for the lock), refresh as a peer
	// meanwhile, release. The process must take the peer's token.
	store := credstore.NewFile(u.dir)
	unlock, err := store.Lock(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	p := u.start(nil, "", "token", "--force-refresh", "--debug")
	// The process logs once it has read the stored token (its baseline)
	// and goes on to wait for the lock.
	p.waitStderr(t, regexp.MustCompile(`(stored token read; waiting for the profile lock)`))

	peer := peerRefresh(t, store, g)
	unlock()
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("token --force-refresh: exit %d\n%s", code, p.stderr.String())
	}
	if got := strings.TrimSpace(p.stdout.String()); got != peer.AccessToken {
		t.Fatalf("the forced refresh did not adopt the token the peer stored")
	}
	if now := u.stored("default"); now.RefreshToken != peer.RefreshToken {
		t.Error("the process refreshed again instead of adopting the peer's token")
	}
	if !introspect(t, t.Context(), m, rsID, rsSecret, peer.AccessToken).Active {
		t.Error("the adopted token is not active")
	}
}

// peerRefresh does what another process's refresh does, while the caller
// holds the profile lock: refresh the stored login with x/oauth2 and store
// the result.
func peerRefresh(t *testing.T, store *credstore.File, g *gatehouse) *credstore.Credential {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cred, err := store.Get(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	oc := &oauth2.Config{ClientID: cliClientID, Endpoint: oauth2.Endpoint{TokenURL: g.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: cred.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("peer refresh: %v", err)
	}
	cred.AccessToken, cred.RefreshToken, cred.Expiry = tok.AccessToken, tok.RefreshToken, tok.Expiry
	if err := store.Put(ctx, "default", cred); err != nil {
		t.Fatal(err)
	}
	return cred
}

// TestCLIServesStillValidTokenWhenServerDown: with the server down,
// `gatehouse token` whose cached token has less than --min-ttl left but
// has not expired prints that token with one warning naming the next
// step and exits 0 (issue 11, "serve what is still valid"). When the
// server is back on the same address and database, the login refreshes
// as before: the failed attempt spent nothing, and the key it stored for
// the refresh is simply sent with the next one.
func TestCLIServesStillValidTokenWhenServerDown(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	const pw = "erin-Pa55word-e2e"
	addUser(t, g, "erin", "viewer", pw)
	u := newCLIUser(t)
	u.loginWithHTTPBrowser(g, "erin", pw)
	cached := u.stored("default").AccessToken

	g.kill()
	out, errOut, code := u.run(nil, "", "token", "--min-ttl", "20m")
	if code != 0 || strings.TrimSpace(out) != cached {
		t.Fatalf("token with the server down: exit %d, printed the cached token %v\n%s", code, strings.TrimSpace(out) == cached, errOut)
	}
	if n := strings.Count(errOut, "warning: cannot reach "+g.URL); n != 1 || !strings.Contains(errOut, "run `gatehouse login`") {
		t.Errorf("stderr = %q, want one warning with the next step", errOut)
	}

	g = launch(t, g.Addr, g.DataDir, adminPassword)
	if out := u.ok(nil, "token", "--force-refresh"); strings.TrimSpace(out) == cached {
		t.Error("the server is back but the token was not refreshed")
	}
	if c := u.stored("default"); c.PendingRefreshKey != "" {
		t.Errorf("a pending refresh key is left after a successful refresh")
	}
}
