package client

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRefreshStoredWhenTheCallerGivesUp: a caller that gives up (Ctrl-C)
// after its refresh request reached the server waits until the answer is
// stored, so the rotated refresh token is never lost and the next run does
// not present the spent one (which would revoke the login).
func TestRefreshStoredWhenTheCallerGivesUp(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, 30*time.Second) // within MinTTL: Token refreshes
	gate := make(chan struct{})
	as.set(func() { as.refreshGate, as.arrived = gate, make(chan struct{}, 1) })
	ts := newSource(t, as, store, newWaitClock())
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		token string
		err   error
	}
	res := make(chan result, 1)
	go func() {
		tok, err := ts.TokenContext(ctx)
		r := result{err: err}
		if tok != nil {
			r.token = tok.AccessToken
		}
		res <- r
	}()
	<-as.arrived // the refresh request is at the server
	cancel()
	select {
	case r := <-res:
		t.Fatalf("TokenContext returned (%+v) while its refresh was in flight: the process could exit before storing it", r)
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	r := <-res
	if r.err != nil || r.token == "at-login" || r.token == "" {
		t.Fatalf("after the refresh completed: %+v, want the new token", r)
	}
	if got := store.cred(profile); got.RefreshToken == "rt-login" || got.AccessToken != r.token {
		t.Fatalf("store holds refresh token %q, access %q: the rotated token was not stored", got.RefreshToken, got.AccessToken)
	}
	// A fresh process goes on with the stored token, without reuse
	// (newFakeAS fails the test on any reuse).
	as.set(func() { as.refreshGate, as.arrived = nil, nil })
	if _, err := newSource(t, as, store, newWaitClock()).ForceRefresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRefreshNotSentOnceTheCallerGaveUp: a refresh that has not reached
// its critical section when every caller has given up is not sent.
func TestRefreshNotSentOnceTheCallerGaveUp(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, 30*time.Second)
	unlock, err := store.Lock(context.Background(), profile) // a peer holds the lock
	if err != nil {
		t.Fatal(err)
	}
	ts := newSource(t, as, store, newWaitClock())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ts.TokenContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("TokenContext = %v, want the caller's deadline", err)
	}
	unlock()
	time.Sleep(200 * time.Millisecond) // the detached refresh gets the lock now
	if n := as.count(&as.refreshes); n != 0 {
		t.Fatalf("%d refresh requests sent after the only caller gave up", n)
	}
}

// TestServeStillValidTokenWhenIssuerUnreachable: a refresh that fails for
// a network reason returns the cached token while it has not expired,
// warning once; an expired one is an error.
func TestServeStillValidTokenWhenIssuerUnreachable(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, 30*time.Second)
	clk := newWaitClock()
	var warnings int
	ts, err := NewTokenSource(TokenSourceOptions{Store: store, Profile: profile, HTTPClient: as.srv.Client(), Clock: clk,
		Warn: func(error, time.Time) { warnings++ }})
	if err != nil {
		t.Fatal(err)
	}
	as.srv.Close() // the issuer is unreachable
	for range 2 {
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != "at-login" {
			t.Fatalf("Token with the issuer down and 30s left = %v, %v; want the cached token", tok, err)
		}
	}
	if warnings != 1 {
		t.Errorf("warned %d times, want once", warnings)
	}
	clk.Advance(31 * time.Second)
	if _, err := ts.Token(); err == nil {
		t.Fatal("Token with the issuer down and the cached token expired: no error")
	}
}

// TestLoginExpiredIsNotServedStale: an answer of the issuer (invalid_grant)
// is not a network failure; the cached token is not served.
func TestLoginExpiredIsNotServedStale(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	c := login(as, store, 30*time.Second)
	c.RefreshToken = "rt-unknown"
	store.set(profile, c)
	ts := newSource(t, as, store, newWaitClock())
	if _, err := ts.Token(); !errors.Is(err, ErrLoginExpired) {
		t.Fatalf("Token = %v, want ErrLoginExpired", err)
	}
}
