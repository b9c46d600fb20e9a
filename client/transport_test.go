package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// do sends a request through hc and returns the status and body.
func do(t *testing.T, hc *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTransportAuthorizes(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	base := as.srv.Client()
	baseTransport := base.Transport
	hc := NewHTTPClient(newSource(t, as, store, newWaitClock()), base)
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, body := do(t, hc, req); status != http.StatusOK || body != "hello at-login " {
		t.Errorf("%d %q", status, body)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was modified")
	}
	if base.Transport != baseTransport {
		t.Error("the base client was modified")
	}
}

func TestTransportRetriesOnceAfter401(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	as.revokeAccess("at-login") // valid by its expiry, rejected by the server
	hc := NewHTTPClient(newSource(t, as, store, newWaitClock()), as.srv.Client())

	req, _ := http.NewRequest(http.MethodPost, as.issuer+"/api", strings.NewReader("payload"))
	status, body := do(t, hc, req)
	if status != http.StatusOK || !strings.HasSuffix(body, " payload") || strings.Contains(body, "at-login") {
		t.Errorf("%d %q; want success with a new token and the same body", status, body)
	}
	if as.count(&as.refreshes) != 1 || as.count(&as.apiCalls) != 2 {
		t.Errorf("refreshes %d, api calls %d; want 1 and 2", as.count(&as.refreshes), as.count(&as.apiCalls))
	}
}

func TestTransportRetriesOnlyOnce(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	as.set(func() { as.apiRejects = true })
	hc := NewHTTPClient(newSource(t, as, store, newWaitClock()), as.srv.Client())
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, _ := do(t, hc, req); status != http.StatusUnauthorized {
		t.Errorf("status %d", status)
	}
	if as.count(&as.apiCalls) != 2 || as.count(&as.refreshes) != 1 {
		t.Errorf("api calls %d, refreshes %d; want 2 and 1", as.count(&as.apiCalls), as.count(&as.refreshes))
	}
}

// A 401 leads to a refresh only if the store still holds the rejected
// token; a process whose peer already refreshed adopts the new token.
func TestTransportRefreshesOnlyIfStoreHoldsRejectedToken(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	a := newSource(t, as, store, newWaitClock())
	b := newSource(t, as, store, newWaitClock())
	if _, err := b.Token(); err != nil { // b caches at-login
		t.Fatal(err)
	}
	as.revokeAccess("at-login")

	for name, ts := range map[string]*TokenSource{"a": a, "b": b} {
		req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
		if status, body := do(t, NewHTTPClient(ts, as.srv.Client()), req); status != http.StatusOK {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	if n := as.count(&as.refreshes); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func TestTransportNoRetryWithoutReplayableBody(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	login(as, store, time.Hour)
	as.revokeAccess("at-login")
	hc := NewHTTPClient(newSource(t, as, store, newWaitClock()), as.srv.Client())
	req, _ := http.NewRequest(http.MethodPost, as.issuer+"/api", io.NopCloser(strings.NewReader("stream")))
	if req.GetBody != nil {
		t.Fatal("test setup: body is replayable")
	}
	if status, _ := do(t, hc, req); status != http.StatusUnauthorized {
		t.Errorf("status %d", status)
	}
	if as.count(&as.apiCalls) != 1 || as.count(&as.refreshes) != 0 {
		t.Errorf("api calls %d, refreshes %d", as.count(&as.apiCalls), as.count(&as.refreshes))
	}
}

func TestTransportStaticTokenNotRetried(t *testing.T) {
	as := newFakeAS(t)
	hc := NewHTTPClient(StaticToken("not-valid"), as.srv.Client())
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, _ := do(t, hc, req); status != http.StatusUnauthorized || as.count(&as.apiCalls) != 1 {
		t.Errorf("status %d, calls %d", status, as.count(&as.apiCalls))
	}
}

func TestTransportLoginExpired(t *testing.T) {
	as := newFakeAS(t)
	store := newMemStore()
	c := login(as, store, time.Hour)
	c.RefreshToken = "rt-revoked"
	store.set(profile, c)
	as.revokeAccess("at-login")
	hc := NewHTTPClient(newSource(t, as, store, newWaitClock()), as.srv.Client())
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	_, err := hc.Do(req)
	if !errors.Is(err, ErrLoginExpired) || !strings.Contains(err.Error(), "run `gatehouse login`") {
		t.Errorf("err = %v", err)
	}
}

func TestClientCredentialsSourceThroughTransport(t *testing.T) {
	as := newFakeAS(t)
	cfg := as.config(newWaitClock())
	cfg.ClientID, cfg.ClientSecret, cfg.Scopes = secretClient, clientSecret, nil
	ts := cfg.ClientCredentialsSource()
	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ts.Token(); again.AccessToken != first.AccessToken || as.count(&as.ccGrants) != 1 {
		t.Errorf("token not reused")
	}
	as.revokeAccess(first.AccessToken)
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, body := do(t, NewHTTPClient(ts, as.srv.Client()), req); status != http.StatusOK || strings.Contains(body, first.AccessToken) {
		t.Errorf("%d %s", status, body)
	}
	if as.count(&as.ccGrants) != 2 {
		t.Errorf("grants = %d, want 2", as.count(&as.ccGrants))
	}
}

func TestAPIKeyAndStaticToken(t *testing.T) {
	for name, ts := range map[string]oauth2.TokenSource{"api key": APIKey("ghk_1"), "static": StaticToken("ghk_1")} {
		tok, err := ts.Token()
		if err != nil || tok.Type() != "Bearer" || tok.AccessToken != "ghk_1" || !tok.Expiry.IsZero() {
			t.Errorf("%s: %+v, %v", name, tok, err)
		}
		tok.AccessToken = "changed"
		if again, _ := ts.Token(); again.AccessToken != "ghk_1" {
			t.Errorf("%s: caller's change leaked into the source", name)
		}
	}
	if _, err := APIKey("").Token(); err == nil {
		t.Error("empty key accepted")
	}
}
