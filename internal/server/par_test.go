package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// webPARRequest is a valid authorization request of the "web" client.
func webPARRequest() url.Values {
	return url.Values{
		"redirect_uri":          {webRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid read"},
		"state":                 {"st-par"},
		"nonce":                 {"n-par"},
		"code_challenge":        {s256(testVerifier)},
		"code_challenge_method": {"S256"},
	}
}

// push sends form to the PAR endpoint as the web client and returns the
// request_uri.
func (f *authzFixture) push(form url.Values) string {
	f.t.Helper()
	st, body, _ := f.postForm(PathPAR, form, "web", f.webSecret)
	if st != http.StatusCreated {
		f.t.Fatalf("par: %d %v", st, body)
	}
	uri, _ := body["request_uri"].(string)
	if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || len(uri) < len(oauth.RequestURIPrefix)+40 {
		f.t.Fatalf("par: request_uri %q", uri)
	}
	if body["expires_in"] != float64(90) {
		f.t.Errorf("par: expires_in %v, want 90", body["expires_in"])
	}
	return uri
}

// byReference is the authorization request that uses requestURI.
func byReference(clientID, requestURI string) string {
	return PathAuthorize + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// wantErrorPage checks that p is the 400 error page naming what.
func wantErrorPage(t *testing.T, p *browserPage, what string) {
	t.Helper()
	if p.status != http.StatusBadRequest || p.location() != nil {
		t.Fatalf("got %d (Location %q), want the 400 error page", p.status, p.header.Get("Location"))
	}
	if !strings.Contains(p.body, what) {
		t.Errorf("error page does not say %q: %s", what, p.body)
	}
}

// TestPARFlow pushes a request, completes it through consent with only
// client_id and request_uri in the browser, exchanges the code, and
// refuses the spent request_uri afterwards — on both backends, since the
// pushed request lives in the database that replicas share.
func TestPARFlow(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newAuthzFixtureOn(t, open)
		uri := f.push(webPARRequest())

		p := f.browse(f.browser, byReference("web", uri))
		if p.status != http.StatusOK || !strings.Contains(p.body, "Allow access?") {
			t.Fatalf("consent: %d %s", p.status, p.body)
		}
		fields := formFields(p.body)
		fields.Del(browser.CSRFField)
		if want := (url.Values{"client_id": {"web"}, "request_uri": {uri}}); fields.Encode() != want.Encode() {
			t.Errorf("consent form carries %v, want only client_id and request_uri", fields)
		}
		p = f.submit(f.browser, PathAuthorize, fillForm(p.body, url.Values{"decision": {"allow"}}))
		loc := p.location()
		if p.status != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), webRedirect+"?") {
			t.Fatalf("allow: %d %s", p.status, p.body)
		}
		q := loc.Query()
		if q.Get("state") != "st-par" || q.Get("iss") != f.issuer || q.Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		code := f.storedCode(q.Get("code"))
		if code.ClientID != "web" || code.RedirectURI != webRedirect || code.Nonce != "n-par" ||
			strings.Join(code.Scopes, " ") != "openid read" || code.CodeChallenge != s256(testVerifier) {
			t.Errorf("stored code %+v", code)
		}
		st, tok, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret)
		if st != http.StatusOK || tok["access_token"] == nil || tok["id_token"] == nil {
			t.Fatalf("token: %d %v", st, tok)
		}

		// Replay: the request_uri was spent by the code.
		wantErrorPage(t, f.browse(f.browser, byReference("web", uri)), "used already")
	})
}

// TestPARPublicClient: the CLI client pushes with its client_id alone.
func TestPARPublicClient(t *testing.T) {
	f := newAuthzFixture(t)
	form := cliRequest()
	st, body, _ := f.postForm(PathPAR, form, "", "")
	if st != http.StatusCreated {
		t.Fatalf("par: %d %v", st, body)
	}
	loc := f.authorizeCode(f.browser, url.Values{"client_id": {CLIClientID}, "request_uri": {body["request_uri"].(string)}})
	if !strings.HasPrefix(loc.String(), cliRedirect+"?") || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st-123" {
		t.Fatalf("redirect %s", loc)
	}
}

// TestPARExpiry: a request_uri not used within expires_in is refused; one
// opened in time lasts through a slow sign-in, whose continuation URL
// carries only client_id and request_uri.
func TestPARExpiry(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newAuthzFixtureOn(t, open)
		late := f.push(webPARRequest())
		f.clock.Advance(oauth.PARTTL)
		wantErrorPage(t, f.browse(f.browser, byReference("web", late)), "unknown or has expired")

		uri := f.push(webPARRequest())
		f.clock.Advance(oauth.PARTTL - time.Second)
		c := f.newBrowser()
		p := f.browse(c, byReference("web", uri))
		if p.status != http.StatusOK || p.url.Path != f.base+PathLogin {
			t.Fatalf("want the login page, got %d at %s", p.status, p.url)
		}
		back, _ := url.Parse(p.url.Query().Get("return_to"))
		if back == nil || back.Query().Encode() != (url.Values{"client_id": {"web"}, "request_uri": {uri}}).Encode() {
			t.Errorf("login returns to %q, want only client_id and request_uri", p.url.Query().Get("return_to"))
		}
		// The form ends in a redirect to the pushed redirect URI, whose
		// origin the page's CSP must allow (Chromium enforces form-action
		// on the redirects after a submission).
		if csp := p.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self' https://app.example") {
			t.Errorf("login page CSP %q does not allow the pushed redirect URI's origin", csp)
		}
		f.clock.Advance(5 * time.Minute) // the user takes their time
		p = f.submit(c, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
		if p.status != http.StatusOK || !strings.Contains(p.body, "Allow access?") {
			t.Fatalf("after login: %d at %s: %s", p.status, p.url, p.body)
		}
		p = f.submit(c, PathAuthorize, fillForm(p.body, url.Values{"decision": {"allow"}}))
		if loc := p.location(); loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("allow: %d %s", p.status, p.body)
		}

		// The expiry job deletes pushed requests.
		f.clock.Advance(oauth.PARSignInWindow)
		if n, err := f.store.DeleteExpired(t.Context(), f.clock.Now()); err != nil || n < 2 {
			t.Errorf("DeleteExpired = %d, %v; want both pushed requests gone", n, err)
		}
	})
}

// TestPARDenySpends: an error response spends the request_uri too.
func TestPARDenySpends(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newAuthzFixtureOn(t, open)
		uri := f.push(webPARRequest())
		p := f.browse(f.browser, byReference("web", uri))
		p = f.submit(f.browser, PathAuthorize, fillForm(p.body, url.Values{"decision": {"deny"}}))
		if loc := p.location(); loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-par" {
			t.Fatalf("deny: %d %s", p.status, p.header.Get("Location"))
		}
		wantErrorPage(t, f.browse(f.browser, byReference("web", uri)), "used already")
	})
}

// TestPARAnotherClientsRequestURI: RFC 9126 §4, the request_uri is bound
// to the client that pushed it.
func TestPARAnotherClientsRequestURI(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newAuthzFixtureOn(t, open)
		uri := f.push(webPARRequest())
		wantErrorPage(t, f.browse(f.browser, byReference("spa", uri)), "pushed by another client")
		// Not spent by the attempt: its own client still gets its code.
		if loc := f.authorizeCode(f.browser, url.Values{"client_id": {"web"}, "request_uri": {uri}}); loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
	})
}

func TestPARRequestURIErrors(t *testing.T) {
	f := newAuthzFixture(t)
	uri := f.push(webPARRequest())
	tests := []struct {
		name, path, want string
	}{
		{"unknown", byReference("web", oauth.RequestURIPrefix+"nope"), "unknown or has expired"},
		{"not a pushed one", byReference("web", "https://app.example/request.jwt"), "request_uri_not_supported"},
		{"empty", byReference("web", oauth.RequestURIPrefix), "request_uri_not_supported"},
		{"conflicting state", byReference("web", uri) + "&state=other", "state differs from the pushed"},
		{"conflicting redirect_uri", byReference("web", uri) + "&" + url.Values{"redirect_uri": {"https://app.example/cb2"}}.Encode(), "redirect_uri differs"},
		{"added prompt", byReference("web", uri) + "&prompt=none", "prompt differs"},
		{"repeated request_uri", byReference("web", uri) + "&" + url.Values{"request_uri": {uri}}.Encode(), "request_uri is repeated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorPage(t, f.browse(f.browser, tc.path), tc.want)
		})
	}
	// A parameter repeated with the pushed value is no conflict.
	p := f.browse(f.browser, byReference("web", uri)+"&state=st-par&response_type=code")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Allow access?") {
		t.Fatalf("same values: %d %s", p.status, p.body)
	}
}

// TestPARPushValidation: the PAR endpoint validates like /authorize and
// answers errors as JSON (RFC 9126 §2.3), and authenticates the client
// like the token endpoint.
func TestPARPushValidation(t *testing.T) {
	f := newAuthzFixture(t)
	svcSecret := f.addClient(storage.Client{ID: "svc2", Name: "Service", RedirectURIs: []string{"https://svc.example/cb"},
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		want       string
	}{
		{"unregistered redirect_uri", with(webPARRequest(), url.Values{"redirect_uri": {"https://evil.example/cb"}}), "web", f.webSecret, 400, "invalid_request"},
		{"unsupported response_type", with(webPARRequest(), url.Values{"response_type": {"token"}}), "web", f.webSecret, 400, "unsupported_response_type"},
		{"scope not allowed", with(webPARRequest(), url.Values{"scope": {"admin"}}), "web", f.webSecret, 400, "invalid_scope"},
		{"plain PKCE", with(webPARRequest(), url.Values{"code_challenge_method": {"plain"}}), "web", f.webSecret, 400, "invalid_request"},
		{"request_uri pushed", with(webPARRequest(), url.Values{"request_uri": {oauth.RequestURIPrefix + "x"}}), "web", f.webSecret, 400, "invalid_request"},
		{"request object", with(webPARRequest(), url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}), "web", f.webSecret, 400, "request_not_supported"},
		{"other client_id", with(webPARRequest(), url.Values{"client_id": {"spa"}}), "web", f.webSecret, 400, "invalid_request"},
		{"bad resource", with(webPARRequest(), url.Values{"resource": {"https://nowhere.example"}}), "web", f.webSecret, 400, "invalid_target"},
		{"wrong secret", webPARRequest(), "web", "wrong", 401, "invalid_client"},
		{"no client authentication", with(webPARRequest(), url.Values{"client_id": {"web"}}), "", "", 401, "invalid_client"},
		{"public client without PKCE", with(cliRequest(), url.Values{"code_challenge": nil, "code_challenge_method": nil}), "", "", 400, "invalid_request"},
		{"client without the grant", with(webPARRequest(), url.Values{"client_id": {"svc2"}, "redirect_uri": {"https://svc.example/cb"}, "scope": {"read"}}), "svc2", svcSecret, 400, "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body, _ := f.postForm(PathPAR, tc.form, tc.user, tc.pass)
			if st != tc.status || errCode(body) != tc.want {
				t.Errorf("got %d %v, want %d %s", st, body, tc.status, tc.want)
			}
		})
	}
}

// TestPARRequired: with require_pushed_authorization_requests (the
// client's or the server's) a request sent in full is refused on the
// error page, and a pushed one works.
func TestPARRequired(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newAuthzFixtureOn(t, open)
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(f.store.UpdateClient(t.Context(), "web", func(c *storage.Client) error { c.RequirePAR = true; return nil }))
		f.srv.clients.Forget("web")
		full := with(webPARRequest(), url.Values{"client_id": {"web"}})
		wantErrorPage(t, f.browse(f.browser, PathAuthorize+"?"+full.Encode()), "must push its authorization requests")
		if loc := f.authorizeCode(f.browser, url.Values{"client_id": {"web"}, "request_uri": {f.push(webPARRequest())}}); loc.Query().Get("code") == "" {
			t.Fatalf("redirect %s", loc)
		}
		// Other clients are not affected.
		if loc := f.authorizeCode(f.browser, cliRequest()); loc.Query().Get("code") == "" {
			t.Fatalf("cli redirect %s", loc)
		}
	})
	t.Run("server", func(t *testing.T) {
		f := newAuthzFixture(t, func(c *config.Server) { c.Authorize.RequirePAR = true })
		wantErrorPage(t, f.browse(f.browser, PathAuthorize+"?"+cliRequest().Encode()), "must push its authorization requests")
		p := f.browse(f.browser, PathDiscoveryOAuth)
		if !strings.Contains(p.body, `"require_pushed_authorization_requests":true`) ||
			!strings.Contains(p.body, `"pushed_authorization_request_endpoint":"`+f.issuer+PathPAR+`"`) {
			t.Errorf("discovery %s", p.body)
		}
	})
}

// TestPARPromptLogin: prompt=login in a pushed request shows the login
// form once, then the request goes on (it is taken out of the stored
// request, which the browser cannot change).
func TestPARPromptLogin(t *testing.T) {
	f := newAuthzFixture(t)
	uri := f.push(with(webPARRequest(), url.Values{"prompt": {"login consent"}}))
	p := f.browse(f.browser, byReference("web", uri))
	if p.status != http.StatusOK || p.url.Path != f.base+PathLogin || p.url.Query().Get("prompt") != "login" {
		t.Fatalf("want the forced login form, got %d at %s", p.status, p.url)
	}
	p = f.submit(f.browser, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Allow access?") {
		t.Fatalf("after login: %d at %s", p.status, p.url)
	}
}

// TestAdminClientRequirePAR: the admin API sets the client's
// require_pushed_authorization_requests at creation and by PATCH, and
// /authorize follows it at once.
func TestAdminClientRequirePAR(t *testing.T) {
	f := newAdminFixture(t)
	c := f.mustCall(201, "POST", "/clients", map[string]any{"id": "app", "name": "App", "public": true,
		"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"http://127.0.0.1/callback"},
		"require_pushed_authorization_requests": true})
	if c["require_pushed_authorization_requests"] != true {
		t.Fatalf("create: %v", c)
	}
	browser := f.newBrowser()
	full := url.Values{"client_id": {"app"}, "redirect_uri": {"http://127.0.0.1:4000/callback"}, "response_type": {"code"},
		"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}}
	wantErrorPage(t, f.browse(browser, PathAuthorize+"?"+full.Encode()), "must push")

	u := f.mustCall(200, "PATCH", "/clients/app", map[string]any{"require_pushed_authorization_requests": false})
	if u["require_pushed_authorization_requests"] != false {
		t.Fatalf("patch: %v", u)
	}
	if ev := f.waitAudit("client.updated"); ev["client_id"] != "app" {
		t.Errorf("audit: %v", ev)
	}
	if p := f.browse(browser, PathAuthorize+"?"+full.Encode()); p.url.Path != f.base+PathLogin {
		t.Errorf("after patch: %d at %s, want the login page", p.status, p.url)
	}
	if st, _, _ := f.adminCall("PATCH", "/clients/app", f.adminToken, map[string]any{}); st != 400 {
		t.Errorf("empty patch: %d", st)
	}
	if st, _, _ := f.adminCall("PATCH", "/clients/app", f.adminToken, map[string]any{"name": "x"}); st != 400 {
		t.Errorf("unknown field: %d", st)
	}
	if st, _, _ := f.adminCall("PATCH", "/clients/nope", f.adminToken, map[string]any{"require_pushed_authorization_requests": true}); st != 404 {
		t.Errorf("unknown client: %d", st)
	}
}

// TestPARPublicClientLimitedPerIP: pushes of a public client (anyone who
// knows its id can push, and each push stores a row) count per address
// with limits.login_per_ip; a confidential client's do not.
func TestPARPublicClientLimitedPerIP(t *testing.T) {
	f := newAuthzFixture(t, func(c *config.Server) { c.Limits.LoginPerIP = perMinute(2) })
	for i := range 2 {
		if st, body, _ := f.postForm(PathPAR, cliRequest(), "", ""); st != http.StatusCreated {
			t.Fatalf("push %d: %d %v", i, st, body)
		}
	}
	st, body, hdr := f.postForm(PathPAR, cliRequest(), "", "")
	if st != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("third push: %d %v, want 429 with Retry-After", st, body)
	}
	for range 3 {
		f.push(webPARRequest())
	}
}
