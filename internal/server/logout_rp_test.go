package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

const signedOut = "https://app.example/signed-out"

// newLogoutFixture is a signed-in browser (alice) and a client "app" with a
// registered post-logout redirect URI.
func newLogoutFixture(t *testing.T) *authzFixture {
	f := newAuthzFixture(t)
	if err := f.store.UpdateClient(context.Background(), "web", func(c *storage.Client) error {
		c.PostLogoutRedirectURIs = []string{signedOut}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.srv.clients.Forget("web")
	return f
}

// idTokenFor signs an ID token of this server for sub and aud, issued at
// the fake clock's now minus age.
func (f *authzFixture) idTokenFor(t *testing.T, sub, aud string, age time.Duration) string {
	t.Helper()
	now := f.clock.Now().Add(-age)
	tok, err := f.srv.keys.Sign("JWT", map[string]any{"iss": f.issuer, "sub": sub, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *authzFixture) signedIn(t *testing.T) bool {
	t.Helper()
	p := f.browse(f.browser, PathLogin)
	return strings.Contains(p.body, "alice") && !strings.Contains(p.body, `name="password"`)
}

func TestRPInitiatedLogoutWithHint(t *testing.T) {
	f := newLogoutFixture(t)
	// An expired ID token of the signed-in user is still a valid hint.
	hint := f.idTokenFor(t, f.user.ID, "web", time.Hour)
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {signedOut}, "state": {"s-1"}}
	p := f.browse(f.browser, PathLogout+"?"+q.Encode())
	loc := p.location()
	if p.status != http.StatusFound || loc == nil || loc.String() != signedOut+"?state=s-1" {
		t.Fatalf("logout with a hint: %d %v %s", p.status, loc, p.body)
	}
	if f.signedIn(t) {
		t.Error("still signed in after RP-initiated logout")
	}
	if a := f.waitAudit("logout"); a["client_id"] != "web" {
		t.Errorf("audit: %v", a)
	}
}

func TestRPInitiatedLogoutConfirms(t *testing.T) {
	f := newLogoutFixture(t)
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"no hint", url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {signedOut}, "state": {"s-2"}}},
		{"hint of another user", url.Values{"id_token_hint": {f.idTokenFor(t, "someone-else", "web", 0)}, "post_logout_redirect_uri": {signedOut}, "state": {"s-2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.browse(f.browser, PathLogout+"?"+tc.q.Encode())
			if p.status != http.StatusOK || !strings.Contains(p.body, "Sign out on this browser?") {
				t.Fatalf("confirmation page: %d %s", p.status, p.body)
			}
			if !f.signedIn(t) {
				t.Fatal("signed out without confirming")
			}
			if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://app.example") {
				t.Errorf("CSP %q must let the form go on to the application", csp)
			}
		})
	}
	q := url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {signedOut}, "state": {"s-2"}}
	p := f.browse(f.browser, PathLogout+"?"+q.Encode())
	p = f.submit(f.browser, PathLogout, fillForm(p.body, nil))
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != signedOut+"?state=s-2" {
		t.Fatalf("after confirming: %d %v %s", p.status, loc, p.body)
	}
	if f.signedIn(t) {
		t.Error("still signed in after confirming")
	}
}

func TestRPInitiatedLogoutRefuses(t *testing.T) {
	f := newLogoutFixture(t)
	other, _ := f.srv.keys.Sign("JWT", map[string]any{"iss": "https://evil.example", "sub": f.user.ID, "aud": "web"})
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"unregistered post_logout_redirect_uri", url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"registered URI of another client", url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {signedOut}}},
		{"redirect without a client", url.Values{"post_logout_redirect_uri": {signedOut}}},
		{"hint of another issuer", url.Values{"id_token_hint": {other}, "post_logout_redirect_uri": {signedOut}}},
		{"hint not a token", url.Values{"id_token_hint": {"not.a.token"}}},
		{"client_id not the hint's", url.Values{"id_token_hint": {f.idTokenFor(t, f.user.ID, "web", 0)}, "client_id": {"spa"}}},
		{"unknown client", url.Values{"client_id": {"nope"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.browse(f.browser, PathLogout+"?"+tc.q.Encode())
			if p.status != http.StatusBadRequest || p.location() != nil {
				t.Errorf("got %d %v, want the 400 error page", p.status, p.location())
			}
			if !f.signedIn(t) {
				t.Fatal("a refused request signed the user out")
			}
		})
	}
	// A forged confirmation POST with an unregistered URI is refused too.
	p := f.browse(f.browser, PathLogout)
	form := fillForm(p.body, url.Values{"client_id": {"web"}, "post_logout_redirect_uri": {"https://evil.example/"}})
	if p = f.submit(f.browser, PathLogout, form); p.status != http.StatusBadRequest || p.location() != nil {
		t.Errorf("POST with an unregistered URI: %d %v", p.status, p.location())
	}
}
