package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// authzFixture is a harness with a signed-in browser and a few clients:
// the built-in CLI client (public, first party, loopback), "web"
// (confidential, third party), "spa" (public, first party) and "svc"
// (no authorization_code grant).
type authzFixture struct {
	*testHarness
	user      *storage.User
	browser   *http.Client
	webSecret string
}

const (
	cliRedirect = "http://127.0.0.1:5000/callback"
	webRedirect = "https://app.example/cb"
	spaRedirect = "https://spa.example/cb?tenant=a%20b"
)

func newAuthzFixture(t *testing.T, opts ...harnessOption) *authzFixture {
	return newAuthzFixtureOn(t, openSQLite, opts...)
}

// newAuthzFixtureOn is newAuthzFixture on the store open gives.
func newAuthzFixtureOn(t *testing.T, open storeOpener, opts ...harnessOption) *authzFixture {
	h := newHarnessOn(t, open, opts...)
	f := &authzFixture{testHarness: h}
	f.user = h.addUser("alice", "correct horse battery")
	f.webSecret = h.addClient(storage.Client{ID: "web", Name: "Web <App>", RedirectURIs: []string{webRedirect, "https://app.example/cb2"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "read", "write"}})
	h.addClient(storage.Client{ID: "spa", Name: "SPA", Public: true, FirstParty: true, RedirectURIs: []string{spaRedirect},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "read"}})
	h.addClient(storage.Client{ID: "loop", Name: "Loopback", Public: true, FirstParty: true, RedirectURIs: []string{"http://127.0.0.1/cb"},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}})
	h.addClient(storage.Client{ID: "svc", Name: "Service", RedirectURIs: []string{"https://svc.example/cb"},
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	f.browser = h.newBrowser()
	h.loginAs(f.browser, "alice", "correct horse battery")
	return f
}

// cliRequest is a valid request of the CLI client.
func cliRequest() url.Values {
	return url.Values{
		"client_id":             {CLIClientID},
		"redirect_uri":          {cliRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid offline_access"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {s256(testVerifier)},
		"code_challenge_method": {"S256"},
	}
}

// with returns a copy of q with changes applied: a nil value deletes.
func with(q url.Values, changes url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			out.Del(k)
		} else {
			out[k] = v
		}
	}
	return out
}

// storedCode reads the authorization code tok from the store without
// changing it.
func (h *testHarness) storedCode(tok string) *storage.AuthCode {
	h.t.Helper()
	var got storage.AuthCode
	errPeek := errors.New("peek")
	err := h.store.UpdateAuthCode(context.Background(), secret.Hash(tok), func(c *storage.AuthCode) error {
		got = *c
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		h.t.Fatalf("code not stored: %v", err)
	}
	return &got
}

func TestAuthorizeIssuesCode(t *testing.T) {
	f := newAuthzFixture(t)
	sess, err := f.store.GetSession(context.Background(), secret.Hash(f.sessionCookie(f.browser)))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute) // auth_time is the login, not the request
	q := with(cliRequest(), url.Values{"redirect_uri": {"http://127.0.0.1:49152/callback"}})
	p := f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	if p.status != http.StatusFound {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	loc := p.location()
	got := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != "http://127.0.0.1:49152/callback" || got.Get("state") != "st-123" ||
		got.Get("iss") != f.issuer || len(got.Get("code")) != 43 || len(got) != 3 {
		t.Fatalf("redirect %s", loc)
	}
	code := f.storedCode(got.Get("code"))
	want := storage.AuthCode{
		ClientID: CLIClientID, UserID: f.user.ID, RedirectURI: "http://127.0.0.1:49152/callback",
		Scopes: []string{"openid", "offline_access"}, CodeChallenge: s256(testVerifier), CodeChallengeMethod: "S256",
		Nonce: "n-456",
	}
	if code.ClientID != want.ClientID || code.UserID != want.UserID || code.RedirectURI != want.RedirectURI ||
		strings.Join(code.Scopes, " ") != "openid offline_access" || code.CodeChallenge != want.CodeChallenge ||
		code.CodeChallengeMethod != want.CodeChallengeMethod || code.Nonce != want.Nonce || code.Redeemed {
		t.Errorf("stored code %+v", code)
	}
	if !code.AuthTime.Equal(sess.AuthTime) {
		t.Errorf("auth_time %v, want session's %v", code.AuthTime, sess.AuthTime)
	}
	if want := f.clock.Now().Add(time.Duration(f.cfg.Tokens.CodeTTL)); !code.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", code.ExpiresAt, want)
	}
}

func TestAuthorizeOmittedRedirectKeepsRegisteredQuery(t *testing.T) {
	f := newAuthzFixture(t)
	q := url.Values{"client_id": {"spa"}, "response_type": {"code"}, "code_challenge": {s256(testVerifier)},
		"code_challenge_method": {"S256"}}
	loc := f.authorizeCode(f.browser, q)
	if !strings.HasPrefix(loc.String(), spaRedirect+"&code=") {
		t.Fatalf("redirect %s does not keep %s", loc, spaRedirect)
	}
	if loc.Query().Has("state") {
		t.Error("state added though none was sent")
	}
	code := f.storedCode(loc.Query().Get("code"))
	if code.RedirectURI != "" || strings.Join(code.Scopes, " ") != "openid read" {
		t.Errorf("stored code %+v: redirect_uri must be empty when omitted; scope defaults to the client's", code)
	}
}

func TestAuthorizeConfidentialClientWithoutPKCE(t *testing.T) {
	f := newAuthzFixture(t)
	loc := f.authorizeCode(f.browser, url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect},
		"response_type": {"code"}, "scope": {"read"}, "state": {""}})
	q := loc.Query()
	if q.Get("code") == "" || !q.Has("state") || q.Get("state") != "" {
		t.Fatalf("redirect %s: want a code and the empty state echoed", loc)
	}
	if c := f.storedCode(q.Get("code")); c.CodeChallenge != "" || c.CodeChallengeMethod != "" {
		t.Errorf("stored code %+v", c)
	}
}

func TestAuthorizeErrorPages(t *testing.T) {
	// SECURITY-CASES 4, 6: without a known client and a registered
	// redirect URI nothing redirects.
	f := newAuthzFixture(t)
	web := url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect}, "response_type": {"code"}, "state": {"s"}}
	tests := []struct {
		name string
		q    url.Values
	}{
		{"unknown client", with(cliRequest(), url.Values{"client_id": {"nope"}})},
		{"missing client_id", with(cliRequest(), url.Values{"client_id": nil})},
		{"repeated client_id", with(cliRequest(), url.Values{"client_id": {CLIClientID, CLIClientID}})},
		{"repeated redirect_uri", with(cliRequest(), url.Values{"redirect_uri": {cliRedirect, cliRedirect}})},
		{"unregistered redirect_uri", with(web, url.Values{"redirect_uri": {"https://evil.example/cb"}})},
		{"prefix match", with(web, url.Values{"redirect_uri": {webRedirect + "123"}})},
		{"path extension", with(web, url.Values{"redirect_uri": {webRedirect + "/x"}})},
		{"case change", with(web, url.Values{"redirect_uri": {"https://APP.example/cb"}})},
		{"extra query", with(web, url.Values{"redirect_uri": {webRedirect + "?x=1"}})},
		{"fragment", with(web, url.Values{"redirect_uri": {webRedirect + "#x"}})},
		{"userinfo", with(web, url.Values{"redirect_uri": {"https://app.example@evil.example/cb"}})},
		{"omitted with two registered", with(web, url.Values{"redirect_uri": nil})},
		{"omitted loopback pattern", with(cliRequest(), url.Values{"client_id": {"loop"}, "redirect_uri": nil, "scope": nil})},
		{"loopback, other path", with(cliRequest(), url.Values{"client_id": {"loop"}, "redirect_uri": {"http://127.0.0.1:5000/cb2"}, "scope": nil})},
		{"localhost with another path", with(cliRequest(), url.Values{"redirect_uri": {"http://localhost:5000/elsewhere"}})},
		{"empty redirect_uri", with(web, url.Values{"redirect_uri": {""}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := f.browse(f.browser, PathAuthorize+"?"+tc.q.Encode())
			if p.status != http.StatusBadRequest || p.location() != nil || p.url.Path != f.base+PathAuthorize {
				t.Fatalf("got %d at %s (Location %q), want the 400 error page", p.status, p.url, p.header.Get("Location"))
			}
			if !strings.Contains(p.body, "Sign-in cannot go on") || !strings.Contains(p.body, "<dt>Reference</dt>") {
				t.Errorf("body %s", p.body)
			}
		})
	}
}

func TestAuthorizeErrorRedirects(t *testing.T) {
	f := newAuthzFixture(t)
	cli := cliRequest()
	web := url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect}, "response_type": {"code"}, "state": {"st-123"}}
	tests := []struct {
		name    string
		q       url.Values
		wantErr string
	}{
		{"missing response_type", with(cli, url.Values{"response_type": nil}), "invalid_request"},
		{"token response_type", with(cli, url.Values{"response_type": {"token"}}), "unsupported_response_type"},
		{"hybrid response_type", with(cli, url.Values{"response_type": {"code id_token"}}), "unsupported_response_type"},
		{"client without the grant", url.Values{"client_id": {"svc"}, "redirect_uri": {"https://svc.example/cb"}, "response_type": {"code"}, "state": {"st-123"}}, "unauthorized_client"},
		// SECURITY-CASES 7.
		{"public client without challenge", with(cli, url.Values{"code_challenge": nil, "code_challenge_method": nil}), "invalid_request"},
		// SECURITY-CASES 9.
		{"plain method", with(cli, url.Values{"code_challenge_method": {"plain"}}), "invalid_request"},
		{"unknown method", with(cli, url.Values{"code_challenge_method": {"S512"}}), "invalid_request"},
		{"lower-case method", with(cli, url.Values{"code_challenge_method": {"s256"}}), "invalid_request"},
		{"missing method", with(cli, url.Values{"code_challenge_method": nil}), "invalid_request"},
		{"empty method", with(cli, url.Values{"code_challenge_method": {""}}), "invalid_request"},
		{"confidential client plain", with(web, url.Values{"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"plain"}}), "invalid_request"},
		{"confidential client missing method", with(web, url.Values{"code_challenge": {s256(testVerifier)}}), "invalid_request"},
		{"method without challenge", with(web, url.Values{"code_challenge_method": {"S256"}}), "invalid_request"},
		{"short challenge", with(cli, url.Values{"code_challenge": {s256(testVerifier)[:42]}}), "invalid_request"},
		{"long challenge", with(cli, url.Values{"code_challenge": {s256(testVerifier) + "A"}}), "invalid_request"},
		{"challenge bad characters", with(cli, url.Values{"code_challenge": {s256(testVerifier)[:41] + "+/"}}), "invalid_request"},
		{"empty challenge", with(cli, url.Values{"code_challenge": {""}}), "invalid_request"},
		{"scope not allowed", with(cli, url.Values{"scope": {"openid write"}}), "invalid_scope"},
		{"request object", with(cli, url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}), "request_not_supported"},
		{"max_age not a number", with(cli, url.Values{"max_age": {"soon"}}), "invalid_request"},
		{"max_age negative", with(cli, url.Values{"max_age": {"-1"}}), "invalid_request"},
		{"repeated max_age", with(cli, url.Values{"max_age": {"1", "2"}}), "invalid_request"},
		{"resource not an audience of the client", with(cli, url.Values{"resource": {"https://api.example"}}), "invalid_target"},
		{"resource not absolute", with(cli, url.Values{"resource": {"/admin"}}), "invalid_target"},
		{"resource with fragment", with(cli, url.Values{"resource": {"https://api.example/#x"}}), "invalid_target"},
		{"repeated scope", with(cli, url.Values{"scope": {"openid", "openid"}}), "invalid_request"},
		{"repeated response_type", with(cli, url.Values{"response_type": {"code", "code"}}), "invalid_request"},
		{"repeated code_challenge", with(cli, url.Values{"code_challenge": {s256(testVerifier), s256("other")}}), "invalid_request"},
		{"prompt none with login", with(cli, url.Values{"prompt": {"none login"}}), "invalid_request"},
		{"prompt none needing consent", with(web, url.Values{"prompt": {"none"}}), "consent_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := f.browse(f.browser, PathAuthorize+"?"+tc.q.Encode())
			loc := p.location()
			if p.status != http.StatusFound || loc == nil {
				t.Fatalf("got %d (%s), want a redirect", p.status, p.body)
			}
			wantBase := tc.q.Get("redirect_uri")
			if base := loc.Scheme + "://" + loc.Host + loc.Path; base != wantBase {
				t.Errorf("redirected to %s, want %s", base, wantBase)
			}
			got := loc.Query()
			if got.Get("error") != tc.wantErr || got.Get("state") != "st-123" || got.Get("iss") != f.issuer || got.Has("code") {
				t.Errorf("redirect %s: want error=%s with state and iss", loc, tc.wantErr)
			}
		})
	}
}

func TestAuthorizeRequiresLogin(t *testing.T) {
	f := newAuthzFixture(t)
	c := f.newBrowser()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := cliRequest()
	reqURI := PathAuthorize + "?" + q.Encode()
	p := f.browse(c, reqURI)
	loc := p.location()
	if p.status != http.StatusFound || loc == nil || loc.Path != PathLogin || loc.Query().Get("return_to") != reqURI {
		t.Fatalf("got %d Location %v, want the login page returning to %s", p.status, loc, reqURI)
	}

	// prompt=none without a session: login_required at the client.
	p = f.browse(c, PathAuthorize+"?"+with(q, url.Values{"prompt": {"none"}}).Encode())
	if loc := p.location(); p.status != http.StatusFound || loc == nil || loc.Query().Get("error") != "login_required" ||
		loc.Query().Get("iss") != f.issuer || loc.Query().Get("state") != "st-123" {
		t.Fatalf("prompt=none: %d %v", p.status, loc)
	}

	// Through the login form and back: the code arrives.
	c = f.newBrowser()
	p = f.browse(c, reqURI)
	if p.url.Path != f.base+PathLogin || formFields(p.body).Get("return_to") != reqURI {
		t.Fatalf("login page %s: %s", p.url, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' http://127.0.0.1:5000") {
		t.Errorf("login form for an authorization request: CSP %q must allow the client's origin", csp)
	}
	p = f.submit(c, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if loc := p.location(); p.status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), cliRedirect+"?code=") {
		t.Fatalf("after login: %d %v %s", p.status, loc, p.body)
	}
}

func TestAuthorizePromptLogin(t *testing.T) {
	f := newAuthzFixture(t)
	before := f.sessionCookie(f.browser)
	q := with(cliRequest(), url.Values{"prompt": {"login"}})
	p := f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	// The signed-in browser still gets the form, and the request it goes
	// back to no longer asks for a login (no loop).
	if p.url.Path != f.base+PathLogin || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("prompt=login: %d at %s", p.status, p.url)
	}
	back, _ := url.Parse(formFields(p.body).Get("return_to"))
	if back.Path != PathAuthorize || back.Query().Has("prompt") || back.Query().Get("client_id") != CLIClientID {
		t.Fatalf("return_to %s", back)
	}
	p = f.submit(f.browser, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	loc := p.location()
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("after login: %d %s", p.status, p.body)
	}
	if f.sessionCookie(f.browser) == before {
		t.Error("session not renewed")
	}
}

func TestConsent(t *testing.T) {
	f := newAuthzFixture(t)
	q := url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect}, "response_type": {"code"},
		"scope": {"openid read"}, "state": {`"><b>st</b>`}, "nonce": {"n1"}}

	// A third-party client gets the consent screen.
	p := f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, "Web &lt;App&gt;") || !strings.Contains(p.body, "<code>read</code>") {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	if strings.Contains(p.body, "<b>st</b>") || strings.Contains(p.body, "<App>") {
		t.Error("reflected values not escaped")
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' https://app.example") {
		t.Errorf("consent CSP %q must allow the client's origin", csp)
	}
	fields := formFields(p.body)
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce"} {
		if fields.Get(k) != q.Get(k) {
			t.Errorf("consent form carries %s=%q, want %q", k, fields.Get(k), q.Get(k))
		}
	}

	// Deny: access_denied at the client, nothing stored.
	p = f.submit(f.browser, PathAuthorize, fillForm(p.body, url.Values{"decision": {"deny"}}))
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "access_denied" ||
		loc.Query().Get("state") != q.Get("state") || loc.Query().Get("iss") != f.issuer {
		t.Fatalf("deny: %d %v", p.status, loc)
	}
	if _, err := f.store.GetConsent(context.Background(), f.user.ID, "web"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent stored after deny: %v", err)
	}

	// Allow: the code arrives with a 303 and the consent is kept.
	loc := f.authorizeCode(f.browser, q)
	if loc.Query().Get("code") == "" || loc.Query().Get("iss") != f.issuer {
		t.Fatalf("allow: %s", loc)
	}
	if ev := f.waitAudit(audit.ConsentGranted); ev["client_id"] != "web" || ev["user_id"] != f.user.ID {
		t.Errorf("audit %v", ev)
	}
	if c := f.storedCode(loc.Query().Get("code")); c.Nonce != "n1" || c.RedirectURI != webRedirect {
		t.Errorf("code %+v", c)
	}

	// The stored consent covers the same or fewer scopes...
	for _, scope := range []string{"openid read", "read"} {
		p = f.browse(f.browser, PathAuthorize+"?"+with(q, url.Values{"scope": {scope}}).Encode())
		if p.status != http.StatusFound || p.location().Query().Get("code") == "" {
			t.Errorf("scope %q after consent: %d", scope, p.status)
		}
	}
	// ...but not more, and prompt=consent always asks.
	for _, change := range []url.Values{{"scope": {"openid write"}}, {"prompt": {"consent"}}} {
		if p = f.browse(f.browser, PathAuthorize+"?"+with(q, change).Encode()); p.status != http.StatusOK {
			t.Errorf("%v: %d, want the consent page", change, p.status)
		}
	}
}

func TestConsentPostNeedsSession(t *testing.T) {
	f := newAuthzFixture(t)
	q := url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect}, "response_type": {"code"}, "state": {"s"}}
	p := f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	form := fillForm(p.body, url.Values{"decision": {"allow"}})
	// Sign out, keeping the CSRF cookie, then post the consent.
	f.submit(f.browser, PathLogout, formFields(f.browse(f.browser, PathLogout).body))
	c := f.browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p = f.submit(c, PathAuthorize, form)
	loc := p.location()
	if p.status != http.StatusSeeOther || loc == nil || loc.Path != PathLogin {
		t.Fatalf("consent without session: %d %v", p.status, loc)
	}
	if _, err := f.store.GetConsent(context.Background(), f.user.ID, "web"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent stored without a session: %v", err)
	}
}

func TestCodeFlowEndToEnd(t *testing.T) {
	// The code from the browser flow is what the token endpoint redeems.
	f := newAuthzFixture(t)
	loc := f.authorizeCode(f.browser, cliRequest())
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {CLIClientID},
		"code": {loc.Query().Get("code")}, "redirect_uri": {cliRedirect}, "code_verifier": {testVerifier}}, "", "")
	if st != http.StatusOK || body["access_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("token: %d %v", st, body)
	}
	if c := claimsOf(t, body["access_token"].(string)); c["sub"] != f.user.ID || c["client_id"] != CLIClientID {
		t.Errorf("claims %v", c)
	}
}

// OIDC Core §3.1.2.1 max_age: a sign-in older than max_age signs in again;
// with prompt=none it is login_required; a recent one passes.
func TestAuthorizeMaxAge(t *testing.T) {
	f := newAuthzFixture(t)
	f.clock.Advance(10 * time.Minute) // the browser signed in 10 minutes ago
	q := with(cliRequest(), url.Values{"max_age": {"60"}})
	p := f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	if p.url.Path != f.base+PathLogin || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("stale sign-in with max_age=60: %d at %s", p.status, p.url)
	}
	none := with(q, url.Values{"prompt": {"none"}})
	p = f.browse(f.browser, PathAuthorize+"?"+none.Encode())
	if loc := p.location(); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("stale sign-in with prompt=none: %d %v", p.status, p.location())
	}
	recent := with(cliRequest(), url.Values{"max_age": {"3600"}})
	p = f.browse(f.browser, PathAuthorize+"?"+recent.Encode())
	if loc := p.location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("a sign-in within max_age: %d %v %s", p.status, p.location(), p.body)
	}
	// Signing in again satisfies max_age and issues a code.
	p = f.browse(f.browser, PathAuthorize+"?"+q.Encode())
	p = f.submit(f.browser, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if loc := p.location(); loc == nil || !strings.HasPrefix(loc.String(), cliRedirect+"?code=") {
		t.Fatalf("after signing in again: %d %v %s", p.status, loc, p.body)
	}
}
