package e2e

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestAuthorizationCodePKCE(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	checkAuthCodeFlow(t, g)
}

// cliConfig is the x/oauth2 configuration of the built-in public client
// gatehouse-cli with the given redirect URI, endpoints from discovery.
func cliConfig(p *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    cliClientID,
		Endpoint:    p.Endpoint(),
		RedirectURL: redirectURL,
		Scopes:      []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess},
	}
}

// authRequest is one authorization request with its secrets.
type authRequest struct {
	URL      string
	Verifier string
	State    string
	Nonce    string
}

func newAuthRequest(cfg *oauth2.Config) authRequest {
	r := authRequest{Verifier: oauth2.GenerateVerifier(), State: rand.Text(), Nonce: rand.Text()}
	r.URL = cfg.AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier), oidc.Nonce(r.Nonce))
	return r
}

// checkCallback checks the authorization response parameters: no error,
// the request's state, the server's iss (RFC 9207), a code. It returns the
// code.
func checkCallback(t testing.TB, q url.Values, ar authRequest, issuer string) string {
	t.Helper()
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization response error %q: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != ar.State {
		t.Errorf("state = %q, want %q", q.Get("state"), ar.State)
	}
	if q.Get("iss") != issuer {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), issuer)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("authorization response without code: %v", q)
	}
	return code
}

// authorizeHTTP runs ar through the HTTP browser b: it follows the request,
// signs in as user when the server shows the login form, and returns the
// code from the redirect to cfg.RedirectURL.
func authorizeHTTP(t testing.TB, b *http.Client, g *gatehouse, cfg *oauth2.Config, ar authRequest, user, pass string) string {
	t.Helper()
	p, err := browse(b, http.MethodGet, ar.URL, nil)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	if p.Location == nil && p.isLoginForm() {
		if p, err = submitLogin(b, p, user, pass); err != nil {
			t.Fatalf("login: %v", err)
		}
	}
	if p.Location == nil {
		t.Fatalf("authorization request did not end in a redirect to the client: got %s", p)
	}
	want, err := url.Parse(cfg.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Location
	if got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path {
		t.Fatalf("redirected to %s, want %s", got, cfg.RedirectURL)
	}
	return checkCallback(t, got.Query(), ar, g.URL)
}

// checkAuthCodeFlow signs in with the authorization code grant and PKCE as
// x/oauth2 does it, checks the tokens with go-oidc, refreshes with
// rotation, then revokes and sees the tokens become inactive.
func checkAuthCodeFlow(t *testing.T, g *gatehouse) {
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	p, m := discover(t, ctx, g)
	// A loopback redirect URI on a port nothing listens on: the browser
	// stops at the redirect (RFC 8252 §7.3 lets the client pick the port).
	cfg := cliConfig(p, "http://"+freeAddr(t)+"/callback")
	b := newBrowser(t, g.URL)
	ar := newAuthRequest(cfg)
	code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)

	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	idt, idc := verifyIDToken(t, ctx, p, tok, cliClientID, ar.Nonce)
	if idc.Username != "admin" || !slices.Contains(idc.Roles, "admin") {
		t.Errorf("ID token claims = %+v; want preferred_username admin, roles with admin", idc)
	}
	at := verifyAccessToken(t, ctx, p, g, tok.AccessToken)
	if at.Subject != idt.Subject || at.ClientID != cliClientID || !slices.Contains(at.Roles, "admin") {
		t.Errorf("access token claims = %+v; want sub %s, client_id %s, roles with admin", at, idt.Subject, cliClientID)
	}
	if !slices.Contains(strings.Fields(at.Scope), "openid") {
		t.Errorf("access token scope = %q; want openid among them", at.Scope)
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != idt.Subject {
		t.Errorf("userinfo sub = %q, want %q", ui.Subject, idt.Subject)
	}

	// Refresh through x/oauth2's token source: the refresh token rotates.
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token for scope offline_access")
	}
	tok2, err := cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh token not rotated: before %q, after %q", tok.RefreshToken, tok2.RefreshToken)
	}
	if tok2.AccessToken == tok.AccessToken {
		t.Errorf("refresh returned the same access token")
	}
	if at2 := verifyAccessToken(t, ctx, p, g, tok2.AccessToken); at2.Subject != at.Subject {
		t.Errorf("refreshed access token sub = %q, want %q", at2.Subject, at.Subject)
	}

	// Introspection needs a confidential client.
	iid, isecret := createClient(t, g, "introspector", "--grant", "client_credentials")
	// A refresh token is visible only to the client it was issued to
	// (RFC 7662 §2.2), so another client learns nothing about it.
	if in := introspect(t, ctx, m, iid, isecret, tok2.RefreshToken); in.Active {
		t.Errorf("introspection of another client's refresh token = %+v; want inactive", in)
	}
	if in := introspect(t, ctx, m, iid, isecret, tok2.AccessToken); !in.Active || in.Subject != at.Subject {
		t.Errorf("introspection of the current access token = %+v; want active, sub %s", in, at.Subject)
	}
	if in := introspect(t, ctx, m, iid, isecret, tok.RefreshToken); in.Active {
		t.Errorf("the rotated refresh token is still active: %+v", in)
	}

	// RFC 7009: revoking the refresh token also ends the access tokens of
	// its grant.
	revoke(t, ctx, m, cliClientID, tok2.RefreshToken, "refresh_token")
	if in := introspect(t, ctx, m, iid, isecret, tok2.RefreshToken); in.Active {
		t.Errorf("revoked refresh token is still active: %+v", in)
	}
	if in := introspect(t, ctx, m, iid, isecret, tok2.AccessToken); in.Active {
		t.Errorf("access token of a revoked grant is still active: %+v", in)
	}
	_, err = cfg.TokenSource(ctx, expired(tok2.RefreshToken)).Token()
	wantOAuthError(t, err, "invalid_grant")
}

// TestReplayDetection: a code used twice and a refresh token used after it
// was rotated both end everything their grant issued (RFC 6749 §4.1.2,
// RFC 9700 §4.14). The server runs with no refresh reuse interval, so a
// repeat at once is reuse (TestRefreshReuseInterval has the default).
func TestReplayDetection(t *testing.T) {
	t.Parallel()
	g := spawn(t, freeAddr(t), t.TempDir(), []string{"GATEHOUSE_REFRESH_REUSE_INTERVAL=0s"})
	g.waitHealthy(t)
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	p, m := discover(t, ctx, g)
	cfg := cliConfig(p, "http://"+freeAddr(t)+"/callback")
	b := newBrowser(t, g.URL)
	iid, isecret := createClient(t, g, "introspector", "--grant", "client_credentials")

	t.Run("code", func(t *testing.T) {
		ar := newAuthRequest(cfg)
		code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		if in := introspect(t, ctx, m, iid, isecret, tok.AccessToken); !in.Active {
			t.Fatalf("fresh access token inactive")
		}
		_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		wantOAuthError(t, err, "invalid_grant")
		if in := introspect(t, ctx, m, iid, isecret, tok.AccessToken); in.Active {
			t.Errorf("access token still active after its code was replayed")
		}
		if in := introspect(t, ctx, m, iid, isecret, tok.RefreshToken); in.Active {
			t.Errorf("refresh token still active after its code was replayed")
		}
	})

	t.Run("wrong verifier", func(t *testing.T) {
		ar := newAuthRequest(cfg)
		code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant")
	})

	t.Run("refresh token", func(t *testing.T) {
		ar := newAuthRequest(cfg)
		code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		tok2, err := cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		_, err = cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
		wantOAuthError(t, err, "invalid_grant")
		// The reuse revoked the family: the legitimate holder's newer
		// tokens are dead too.
		if in := introspect(t, ctx, m, iid, isecret, tok2.RefreshToken); in.Active {
			t.Errorf("rotated-to refresh token still active after the old one was reused")
		}
		if in := introspect(t, ctx, m, iid, isecret, tok2.AccessToken); in.Active {
			t.Errorf("access token still active after its family was revoked")
		}
		_, err = cfg.TokenSource(ctx, expired(tok2.RefreshToken)).Token()
		wantOAuthError(t, err, "invalid_grant")
	})

	t.Run("redirect uri", func(t *testing.T) {
		// An unregistered redirect URI is refused on a page, never
		// redirected to (RFC 6749 §4.1.2.1).
		evil := *cfg
		evil.RedirectURL = "http://evil.example/callback"
		p, err := browse(b, http.MethodGet, newAuthRequest(&evil).URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Location != nil || p.Status != http.StatusBadRequest {
			t.Errorf("authorization request with an unregistered redirect_uri: got %s; want a 400 page", p)
		}
	})
}

// TestThirdPartyConsent: a confidential third-party web client (no
// --first-party) gets a code only after the user allows it on the consent
// page; the consent is remembered, and prompt=consent asks again, where
// Deny sends access_denied back to the client.
func TestThirdPartyConsent(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, _ := discover(t, ctx, g)
	const redirect = "https://app.example/oauth/callback"
	id, secret := createClient(t, g, "webapp", "--grant", "authorization_code", "--grant", "refresh_token",
		"--redirect-uri", redirect, "--scope", "openid", "--scope", "profile")
	cfg := &oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "profile"}}
	b := newBrowser(t, g.URL)

	// consentPage follows an authorization request to the consent form.
	consentPage := func(t *testing.T, authURL string) *form {
		t.Helper()
		pg, err := browse(b, http.MethodGet, authURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Location == nil && pg.isLoginForm() {
			if pg, err = submitLogin(b, pg, "admin", adminPassword); err != nil {
				t.Fatal(err)
			}
		}
		if pg.Location != nil {
			t.Fatalf("redirected to the client without asking for consent: %s", pg)
		}
		f, err := pg.form("/oauth2/authorize")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(f.Buttons["decision"], "allow") || !slices.Contains(f.Buttons["decision"], "deny") {
			t.Fatalf("consent form buttons = %v; want allow and deny", f.Buttons)
		}
		return f
	}

	ar := newAuthRequest(cfg)
	next, err := consentPage(t, ar.URL).submit(b, url.Values{"decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	if next.Location == nil || next.Location.Scheme+"://"+next.Location.Host+next.Location.Path != redirect {
		t.Fatalf("after Allow: got %s; want a redirect to %s", next, redirect)
	}
	code := checkCallback(t, next.Location.Query(), ar, g.URL)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("code exchange with client_secret_basic: %v", err)
	}
	if idt, _ := verifyIDToken(t, ctx, p, tok, id, ar.Nonce); idt.Audience[0] != id {
		t.Errorf("ID token aud = %v, want [%s]", idt.Audience, id)
	}
	if at := verifyAccessToken(t, ctx, p, g, tok.AccessToken); at.ClientID != id {
		t.Errorf("access token client_id = %q, want %q", at.ClientID, id)
	}

	// The consent is remembered.
	ar2 := newAuthRequest(cfg)
	code2 := authorizeHTTP(t, b, g, cfg, ar2, "admin", adminPassword)
	if _, err := cfg.Exchange(ctx, code2, oauth2.VerifierOption(ar2.Verifier)); err != nil {
		t.Fatalf("second code exchange: %v", err)
	}

	// prompt=consent asks again; Deny goes back to the client as an error.
	ar3 := authRequest{Verifier: oauth2.GenerateVerifier(), State: rand.Text()}
	ar3.URL = cfg.AuthCodeURL(ar3.State, oauth2.S256ChallengeOption(ar3.Verifier), oauth2.SetAuthURLParam("prompt", "consent"))
	denied, err := consentPage(t, ar3.URL).submit(b, url.Values{"decision": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	if denied.Location == nil {
		t.Fatalf("after Deny: got %s; want a redirect to the client", denied)
	}
	q := denied.Location.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != ar3.State || q.Get("iss") != g.URL || q.Has("code") {
		t.Errorf("after Deny the client got %v; want error access_denied with state and iss, no code", q)
	}
}

// TestRefreshReuseInterval: with the default interval, a refresh token
// presented again right after its rotation (a lost response, a killed
// process, two racing refreshes) is refused without ending the login: the
// successor keeps working.
func TestRefreshReuseInterval(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	p, m := discover(t, ctx, g)
	cfg := cliConfig(p, "http://"+freeAddr(t)+"/callback")
	b := newBrowser(t, g.URL)
	iid, isecret := createClient(t, g, "introspector", "--grant", "client_credentials")
	ar := newAuthRequest(cfg)
	code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	tok2, err := cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	_, err = cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
	wantOAuthError(t, err, "invalid_grant")
	if in := introspect(t, ctx, m, iid, isecret, tok2.AccessToken); !in.Active {
		t.Errorf("a repeat within the reuse interval ended the login")
	}
	if _, err := cfg.TokenSource(ctx, expired(tok2.RefreshToken)).Token(); err != nil {
		t.Errorf("the successor refresh token no longer works after a repeat within the interval: %v", err)
	}
}
