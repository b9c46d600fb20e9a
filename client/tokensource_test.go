package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

const profile = "default"

// login stores a user login at the fake server as `gatehouse login`
// would: an access token valid for ttl and a live refresh token.
func login(as *fakeAS, store *memStore, ttl time.Duration) *credstore.Credential {
	as.newRefreshToken("rt-login")
	as.set(func() { as.access["at-login"] = true })
	c := &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       as.issuer,
		ClientID:     publicClient,
		TokenType:    "Bearer",
		AccessToken:  "at-login",
		RefreshToken: "rt-login",
		Expiry:       start.Add(ttl),
		UpdatedAt:    start,
	}
	store.set(profile, c)
	return c
}

func newSource(t *testing.T, as *fakeAS, store credstore.Store, clk *waitClock) *TokenSource {
	t.Helper()
	ts, err := NewTokenSource(TokenSourceOptions{Store: store, Profile: profile, HTTPClient: as.srv.Client(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestTokenSourceReturnsCachedToken(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	ts := newSource(t, as, store, newWaitClock())
	for range 3 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "at-login" || tok.RefreshToken != "" || !tok.Expiry.Equal(start.Add(time.Hour)) {
			t.Errorf("token = %+v (the refresh token must not leave the store)", tok)
		}
	}
	if n := as.count(&as.refreshes); n != 0 {
		t.Errorf("refreshed %d times", n)
	}
}

func TestTokenSourceRefreshesLazily(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	// One minute and one second before expiry: still more than MinTTL.
	clk.Advance(time.Hour - DefaultMinTTL - time.Second)
	if tok, _ := ts.Token(); tok.AccessToken != "at-login" {
		t.Fatalf("refreshed too early: %s", tok.AccessToken)
	}
	clk.Advance(time.Second)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "at-login" || !tok.Expiry.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("token after refresh = %+v", tok)
	}
	stored := store.cred(profile)
	if stored.AccessToken != tok.AccessToken || stored.RefreshToken == "rt-login" || stored.RefreshToken == "" || !stored.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("stored = %+v; want the rotated tokens", stored)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if n := as.count(&as.refreshes); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func TestTokenWithMinTTL(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, 20*time.Minute)
	ts := newSource(t, as, store, newWaitClock())
	if tok, _ := ts.TokenWithMinTTL(context.Background(), 10*time.Minute); tok.AccessToken != "at-login" {
		t.Errorf("20m left, min 10m: refreshed")
	}
	tok, err := ts.TokenWithMinTTL(context.Background(), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "at-login" || as.count(&as.refreshes) != 1 {
		t.Errorf("20m left, min 30m: token %s, refreshes %d", tok.AccessToken, as.count(&as.refreshes))
	}
}

func TestTokenSourceSharesOneRefresh(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Minute) // already within MinTTL
	gate, arrived := make(chan struct{}), make(chan struct{}, 1)
	as.set(func() { as.refreshGate, as.arrived = gate, arrived })
	ts := newSource(t, as, store, newWaitClock())

	const n = 20
	var wg sync.WaitGroup
	tokens := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.Token()
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		}()
	}
	// All callers join the one refresh, which has reached the server and
	// waits there, before it is let through.
	<-arrived
	waitForWaiters(t, ts, n)
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || tokens[i] != tokens[0] || tokens[i] == "at-login" {
			t.Fatalf("caller %d: %q, %v (caller 0: %q)", i, tokens[i], errs[i], tokens[0])
		}
	}
	if got := as.count(&as.refreshes); got != 1 {
		t.Errorf("refresh requests = %d, want 1", got)
	}
	// One shared refresh, not twenty that each took the lock and adopted.
	if got := store.lockCalls.Load(); got != 1 {
		t.Errorf("store locked %d times, want 1", got)
	}
}

// SECURITY-CASES 37: N "processes" (token sources sharing only the store
// and its lock) refresh the same profile at once; the single-use refresh
// token is spent once and all of them get a valid token.
func TestTokenSourcesAcrossProcessesSpendRefreshTokenOnce(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, 30*time.Second)
	const n = 8
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		ts := newSource(t, as, store, newWaitClock())
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.Token()
			if err != nil {
				t.Errorf("process %d: %v", i, err)
				return
			}
			tokens[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	for i := range n {
		if tokens[i] != tokens[0] || tokens[i] == "at-login" {
			t.Errorf("process %d got %q, process 0 %q", i, tokens[i], tokens[0])
		}
	}
	if got := as.count(&as.refreshes); got != 1 {
		t.Errorf("refresh requests = %d, want 1", got)
	}
	// newFakeAS fails the test if any refresh token was presented twice.
}

// peerRefresh makes the store act as if another process refreshed the
// profile while this one waited for the lock: right after the next Lock,
// the stored credential changes to a fresh token.
func peerRefresh(store *memStore, clk *waitClock, as *fakeAS, access string) {
	var once sync.Once
	store.afterLock = func(p string) {
		once.Do(func() {
			c := store.cred(p)
			c.AccessToken, c.RefreshToken = access, "rt-peer"
			c.Expiry = clk.Now().Add(time.Hour)
			store.set(p, c)
			as.newRefreshToken("rt-peer")
			as.set(func() { as.access[access] = true })
		})
	}
}

func TestTokenSourceAdoptsPeersRefresh(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour) // expired
	peerRefresh(store, clk, as, "at-peer")
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-peer" {
		t.Errorf("token = %s, want the peer's", tok.AccessToken)
	}
	if n := as.count(&as.refreshes); n != 0 {
		t.Errorf("refreshed %d times; the peer's token should have been adopted", n)
	}
	if store.puts.Load() != 0 {
		t.Error("wrote the store though nothing was refreshed")
	}
}

func TestForceRefresh(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	ts := newSource(t, as, store, newWaitClock())
	first, err := ts.ForceRefresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken == "at-login" {
		t.Error("valid token not refreshed")
	}
	// Forcing again refreshes again: the source's own refresh is not a
	// peer's change.
	second, err := ts.ForceRefresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || as.count(&as.refreshes) != 2 {
		t.Errorf("second force: %s, refreshes %d", second.AccessToken, as.count(&as.refreshes))
	}
}

func TestForceRefreshAdoptsPeersNewerToken(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	// A peer refreshes between this source's first read and its lock
	// (`gatehouse token --force-refresh` run twice at once).
	peerRefresh(store, clk, as, "at-peer")
	tok, err := ts.ForceRefresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-peer" || as.count(&as.refreshes) != 0 {
		t.Errorf("token %s, refreshes %d; want the peer's token adopted", tok.AccessToken, as.count(&as.refreshes))
	}
}

func TestInvalidate(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	ts := newSource(t, as, store, newWaitClock())
	tok, err := ts.Invalidate(context.Background(), "at-login")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "at-login" || as.count(&as.refreshes) != 1 {
		t.Fatalf("token %s, refreshes %d", tok.AccessToken, as.count(&as.refreshes))
	}
	// The same rejection reported again (a second request that failed
	// with the old token): the store no longer holds it, no refresh.
	again, err := ts.Invalidate(context.Background(), "at-login")
	if err != nil {
		t.Fatal(err)
	}
	if again.AccessToken != tok.AccessToken || as.count(&as.refreshes) != 1 {
		t.Errorf("second invalidate: %s, refreshes %d", again.AccessToken, as.count(&as.refreshes))
	}
}

func TestInvalidateAdoptsPeersToken(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	peerRefresh(store, clk, as, "at-peer")
	tok, err := ts.Invalidate(context.Background(), "at-login")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at-peer" || as.count(&as.refreshes) != 0 {
		t.Errorf("token %s, refreshes %d", tok.AccessToken, as.count(&as.refreshes))
	}
}

func TestTokenSourceLoginExpired(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	c := login(as, store, 0)
	c.RefreshToken = "rt-revoked" // unknown to the server
	store.set(profile, c)
	ts := newSource(t, as, store, newWaitClock())
	_, err := ts.Token()
	if !errors.Is(err, ErrLoginExpired) || !errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant}) {
		t.Errorf("err = %v, want ErrLoginExpired and invalid_grant", err)
	}
	if got := store.cred(profile); got.RefreshToken != "rt-revoked" {
		t.Errorf("store changed: %+v", got)
	}

	c.RefreshToken = ""
	store.set(profile, c)
	ts = newSource(t, as, store, newWaitClock())
	if _, err := ts.Token(); !errors.Is(err, ErrLoginExpired) {
		t.Errorf("no refresh token: err = %v", err)
	}
}

func TestTokenSourceNotLoggedIn(t *testing.T) {
	as := newFakeAS(t)
	ts := newSource(t, as, newMemStore(), newWaitClock())
	for name, f := range map[string]func() error{
		"token":      func() error { _, err := ts.Token(); return err },
		"force":      func() error { _, err := ts.ForceRefresh(context.Background()); return err },
		"invalidate": func() error { _, err := ts.Invalidate(context.Background(), "x"); return err },
	} {
		if err := f(); !errors.Is(err, ErrNotLoggedIn) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := NewTokenSource(TokenSourceOptions{Profile: profile}); err == nil {
		t.Error("no store accepted")
	}
}

func TestTokenSourceClientCredentials(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	store.set(profile, &credstore.Credential{
		Kind: credstore.KindClientCredentials, Issuer: as.issuer,
		ClientID: secretClient, ClientSecret: clientSecret, Scopes: []string{"api:read"},
	})
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || as.count(&as.ccGrants) != 1 || as.lastScope != "api:read" {
		t.Fatalf("token %+v, grants %d, scope %q", tok, as.count(&as.ccGrants), as.lastScope)
	}
	// Cached in the store for the next process.
	next := newSource(t, as, store, clk)
	if again, _ := next.Token(); again.AccessToken != tok.AccessToken || as.count(&as.ccGrants) != 1 {
		t.Errorf("not cached: %s, grants %d", again.AccessToken, as.count(&as.ccGrants))
	}
	clk.Advance(time.Hour)
	if fresh, _ := next.Token(); fresh.AccessToken == tok.AccessToken || as.count(&as.ccGrants) != 2 {
		t.Errorf("expired token not replaced")
	}
	if got := store.cred(profile); got.ClientSecret != clientSecret || got.AccessToken == tok.AccessToken {
		t.Errorf("stored = %+v", got)
	}
}

func TestTokenSourceAPIKey(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	store.set(profile, &credstore.Credential{Kind: credstore.KindAPIKey, Issuer: as.issuer, APIKey: "ghk_secret"})
	ts := newSource(t, as, store, newWaitClock())
	for name, f := range map[string]func() (string, error){
		"token": func() (string, error) { tok, err := ts.Token(); return tokString(tok), err },
		"force": func() (string, error) { tok, err := ts.ForceRefresh(context.Background()); return tokString(tok), err },
		"invalidate": func() (string, error) {
			tok, err := ts.Invalidate(context.Background(), "ghk_secret")
			return tokString(tok), err
		},
	} {
		got, err := f()
		if err != nil || got != "Bearer ghk_secret" {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
	if store.puts.Load() != 0 {
		t.Error("API key profile written")
	}
}

func tokString(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	return tok.Type() + " " + tok.AccessToken
}

func TestBackgroundRefresh(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	clk := newWaitClock()
	ts := newSource(t, as, store, clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ts.StartBackgroundRefresh(ctx)

	// It sleeps until two MinTTLs before expiry...
	if d := clk.nextWait(t); d != time.Hour-2*DefaultMinTTL {
		t.Fatalf("first wait = %v", d)
	}
	clk.Advance(time.Hour - 2*DefaultMinTTL)
	// ...then refreshes, and sleeps until the same point of the new token.
	if d := clk.nextWait(t); d != time.Hour-2*DefaultMinTTL {
		t.Fatalf("wait after refresh = %v", d)
	}
	if n := as.count(&as.refreshes); n != 1 {
		t.Fatalf("refreshes = %d", n)
	}
	// A request now never waits for a refresh: the token is fresh.
	tok, err := ts.Token()
	if err != nil || tok.AccessToken == "at-login" || !tok.Expiry.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("token = %+v, %v", tok, err)
	}
	if n := as.count(&as.refreshes); n != 1 {
		t.Errorf("refreshes = %d after the foreground call", n)
	}
}
