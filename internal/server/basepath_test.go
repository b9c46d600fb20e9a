package server

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The server under an issuer with a path, as the gateway embeds it
// (issuer https://app.example.com/_gatehouse/auth): every endpoint and
// page lives under the path, every URL it makes carries it, and nothing
// outside it is served.

const testBase = "/_gatehouse/auth"

// withIssuerPath appends p to the listener's issuer.
func withIssuerPath(p string) harnessOption {
	return func(c *config.Server) { c.Issuer += p }
}

func newBaseHarness(t *testing.T, opts ...harnessOption) *testHarness {
	h := newHarness(t, append([]harnessOption{withIssuerPath(testBase)}, opts...)...)
	if h.base != testBase || h.srv.BasePath() != testBase || !strings.HasSuffix(h.issuer, testBase) {
		t.Fatalf("base %q, BasePath %q, issuer %q", h.base, h.srv.BasePath(), h.issuer)
	}
	return h
}

// linkAttr finds the URL attributes of a page: links, assets and form
// actions.
var linkAttr = regexp.MustCompile(`(?:href|src|action)="([^"]*)"`)

// wantLinksUnderBase fails when a link, asset or form of p points to a
// path of the origin outside the base path. data: URIs (the favicon, the
// QR code) are the only other URLs a page may hold.
func (h *testHarness) wantLinksUnderBase(what string, p *browserPage) {
	h.t.Helper()
	ms := linkAttr.FindAllStringSubmatch(p.body, -1)
	if len(ms) == 0 {
		h.t.Errorf("%s: no links at all: %s", what, p.body)
	}
	for _, m := range ms {
		v := html.UnescapeString(m[1])
		if strings.HasPrefix(v, "data:") {
			continue
		}
		if !strings.HasPrefix(v, h.base+"/") {
			h.t.Errorf("%s: %s outside the base path %s", what, m[0], h.base)
		}
	}
}

func TestBasePathDiscoveryJWKSAndToken(t *testing.T) {
	// SECURITY-CASES 29: the issuer is byte-equal, path included.
	h := newBaseHarness(t)
	for _, p := range []string{PathDiscoveryOAuth, PathDiscoveryOIDC} {
		m, _ := getJSON(t, h.url(p))
		if m["issuer"] != h.issuer {
			t.Errorf("%s: issuer %v, want %s", p, m["issuer"], h.issuer)
		}
		for key, path := range map[string]string{
			"authorization_endpoint":        PathAuthorize,
			"token_endpoint":                PathToken,
			"device_authorization_endpoint": PathDeviceAuthorize,
			"revocation_endpoint":           PathRevoke,
			"introspection_endpoint":        PathIntrospect,
			"userinfo_endpoint":             PathUserinfo,
			"jwks_uri":                      PathJWKS,
		} {
			if want := h.ts.URL + testBase + path; m[key] != want {
				t.Errorf("%s: %s = %v, want %s", p, key, m[key], want)
			}
		}
	}
	m, _ := getJSON(t, h.ts.URL+testBase+PathJWKS)
	if keys, _ := m["keys"].([]any); len(keys) == 0 {
		t.Errorf("JWKS under the base path: %v", m)
	}

	sec := h.addClient(storage.Client{ID: "bot", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, "bot", sec)
	if st != http.StatusOK {
		t.Fatalf("token endpoint: %d %v", st, body)
	}
	tok := body["access_token"].(string)
	if c := claimsOf(t, tok); c["iss"] != h.issuer {
		t.Errorf("access token iss %v, want %s", c["iss"], h.issuer)
	}
	// The server accepts its own token under the same issuer.
	st, body, _ = h.postForm(PathIntrospect, url.Values{"token": {tok}}, "bot", sec)
	if st != http.StatusOK || body["active"] != true || body["iss"] != h.issuer {
		t.Errorf("introspection: %d %v", st, body)
	}
}

func TestBasePathServesNothingOutside(t *testing.T) {
	h := newBaseHarness(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", PathDiscoveryOIDC},
		{"GET", PathDiscoveryOAuth},
		{"GET", PathJWKS},
		{"POST", PathToken},
		{"GET", PathAuthorize},
		{"GET", PathLogin},
		{"POST", PathLogin},
		{"GET", PathAccount},
		{"GET", PathDevice},
		{"GET", PathStatic + "style.css"},
		{"GET", PathHealthz},
		{"GET", PathMetrics},
		{"GET", PathAdmin + "/users"},
		{"GET", "/"},
		// (the base path itself and its root are the start page)
		{"GET", testBase + "x/login"},
		{"GET", "/_gatehouse/login"},
		{"GET", "/_GATEHOUSE/auth/login"},
		{"GET", testBase + "/static/"}, // no directory listing
	} {
		req, err := http.NewRequest(tc.method, h.ts.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tc.method, tc.path, resp.StatusCode)
		}
	}
	// The redirects ServeMux makes to a clean path keep the base path.
	for in, want := range map[string]string{
		testBase + "/static":         testBase + "/static/",
		testBase + "//login":         testBase + "/login",
		testBase + "/oauth2/../jwks": testBase + "/jwks",
	} {
		resp, err := noRedirects.Get(h.ts.URL + in)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != want {
			t.Errorf("GET %s: %d Location %q, want a redirect to %s", in, resp.StatusCode, loc, want)
		}
	}
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestBasePathStaticAssets(t *testing.T) {
	h := newBaseHarness(t)
	p := h.browse(h.newBrowser(), PathLogin)
	if !strings.Contains(p.body, `<link rel="stylesheet" href="`+testBase+`/static/style.css">`) {
		t.Fatalf("login page does not link the style sheet under the base path: %s", p.body)
	}
	resp, err := http.Get(h.ts.URL + testBase + "/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestBasePathCodeFlow(t *testing.T) {
	// The browser flow of the authorization code grant under the base
	// path, with the same CSRF, cookie and CSP checks as at an origin
	// (SECURITY-CASES 32).
	h := newBaseHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	c.CheckRedirect = noRedirects.CheckRedirect
	reqURI := PathAuthorize + "?" + cliRequest().Encode()

	// GET authorize without a session: to the login page under the
	// base, returning to the request under the base.
	p := h.browse(c, reqURI)
	loc := p.location()
	if p.status != http.StatusFound || loc == nil || loc.Path != testBase+PathLogin ||
		loc.Query().Get("return_to") != testBase+reqURI {
		t.Fatalf("authorize without session: %d Location %v", p.status, loc)
	}

	// The login page: form, assets and links under the base; its CSP
	// lets forms post under the base path and to the client only.
	login := h.do(c, mustGet(t, h.ts.URL+loc.String()))
	if login.status != http.StatusOK || !strings.Contains(login.body, `action="`+testBase+PathLogin+`"`) ||
		formFields(login.body).Get("return_to") != testBase+reqURI {
		t.Fatalf("login page: %d %s", login.status, login.body)
	}
	h.wantLinksUnderBase("login page", login)
	if csp := login.header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; form-action "+h.issuer+"/ http://127.0.0.1:5000") {
		t.Errorf("login CSP %q", csp)
	}

	// Without the CSRF token the login is refused, as at an origin.
	noCSRF := fillForm(login.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}})
	noCSRF.Del(browser.CSRFField)
	if p := h.submit(c, PathLogin, noCSRF); p.status != http.StatusForbidden || h.sessionCookie(c) != "" {
		t.Fatalf("login without CSRF token: %d", p.status)
	}

	p = h.submit(c, PathLogin, fillForm(login.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+reqURI {
		t.Fatalf("after login: %d Location %v, want %s", p.status, loc, testBase+reqURI)
	}
	// Cookies keep Path=/ and their names (the __Host- prefix needs
	// Path=/): the jar holds them for the origin's root.
	if h.sessionCookie(c) == "" {
		t.Fatal("no session cookie for path /")
	}
	for _, ck := range p.header.Values("Set-Cookie") {
		if !strings.Contains(ck, "Path=/;") && !strings.HasSuffix(ck, "Path=/") {
			t.Errorf("cookie %q without Path=/", ck)
		}
	}

	// Back at authorize with the session: the code goes to the client.
	p = h.browse(c, reqURI)
	loc = p.location()
	if p.status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), cliRedirect+"?") ||
		loc.Query().Get("iss") != h.issuer || loc.Query().Get("state") != "st-123" {
		t.Fatalf("authorize with session: %d %v %s", p.status, loc, p.body)
	}
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {CLIClientID},
		"code": {loc.Query().Get("code")}, "redirect_uri": {cliRedirect}, "code_verifier": {testVerifier}}, "", "")
	if st != http.StatusOK {
		t.Fatalf("code exchange: %d %v", st, body)
	}
	if cl := claimsOf(t, body["access_token"].(string)); cl["sub"] != u.ID || cl["iss"] != h.issuer {
		t.Errorf("claims %v", cl)
	}

	// The signed-in page and the sign-out pages link under the base.
	h.wantLinksUnderBase("signed-in page", h.browse(c, PathLogin))
	out := h.browse(c, PathLogout)
	h.wantLinksUnderBase("sign-out page", out)
	done := h.submit(c, PathLogout, formFields(out.body))
	if done.status != http.StatusOK || h.sessionCookie(c) != "" {
		t.Fatalf("sign out: %d", done.status)
	}
	h.wantLinksUnderBase("signed-out page", done)
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestBasePathConsent(t *testing.T) {
	h := newBaseHarness(t)
	h.addUser("alice", "correct horse battery")
	h.addClient(storage.Client{ID: "web", Name: "Web", RedirectURIs: []string{webRedirect},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "read"}})
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	q := url.Values{"client_id": {"web"}, "redirect_uri": {webRedirect}, "response_type": {"code"}, "state": {"s"}, "scope": {"read"}}
	p := h.browse(c, PathAuthorize+"?"+q.Encode())
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+testBase+PathAuthorize+`"`) {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	h.wantLinksUnderBase("consent page", p)
	loc := h.authorizeCode(c, q) // allows on the consent form
	if loc.Query().Get("code") == "" || loc.Query().Get("iss") != h.issuer {
		t.Errorf("after consent: %v", loc)
	}
}

func TestBasePathLoginReturnTo(t *testing.T) {
	// A return target must be a local path under the base path as the
	// browser resolves it; anything else ends at the base path's root,
	// never off-site or elsewhere on the shared origin.
	h := newBaseHarness(t, func(c *config.Server) {
		c.Limits.LoginPerIP, c.Limits.LoginPerUser = perMinute(100), perMinute(100)
	})
	h.addUser("alice", "correct horse battery")
	for _, tc := range []struct{ returnTo, want string }{
		{testBase + "/device?user_code=BCDF-GHJK", testBase + "/device?user_code=BCDF-GHJK"},
		{testBase + PathAccount, testBase + PathAccount},
		{"", testBase + PathLogin},
		{"/app/admin", testBase + "/"},
		{"/device", testBase + "/"},
		{testBase, testBase + "/"},
		{testBase + "x/login", testBase + "/"},
		{testBase + "/../../app", testBase + "/"},
		{testBase + "/%2e%2e/%2e%2e/app", testBase + "/"},
		{testBase + "/..\\..\\app", testBase + "/"},
		{"//evil.example" + testBase + "/login", testBase + "/"},
		{"/\\evil.example", testBase + "/"},
		{"https://evil.example" + testBase + "/login", testBase + "/"},
	} {
		c := h.newBrowser()
		c.CheckRedirect = noRedirects.CheckRedirect
		f := h.loginForm(c, "alice", "correct horse battery")
		f.Set("return_to", tc.returnTo)
		p := h.submit(c, PathLogin, f)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != tc.want {
			t.Errorf("return_to %q: %d Location %q, want %q", tc.returnTo, p.status, p.header.Get("Location"), tc.want)
		}
	}
	// The login page does not carry an unsafe target into its form.
	p := h.browse(h.newBrowser(), PathLogin+"?"+url.Values{"return_to": {"/app"}}.Encode())
	if got := formFields(p.body).Get("return_to"); got != "" {
		t.Errorf("login page kept return_to %q", got)
	}
}

func TestBasePathDeviceFlow(t *testing.T) {
	h := newBaseHarness(t)
	u := h.addUser("alice", "correct horse battery")
	st, dev, _ := h.postForm(PathDeviceAuthorize, url.Values{"client_id": {CLIClientID}, "scope": {"openid"}}, "", "")
	if st != http.StatusOK || dev["verification_uri"] != h.issuer+PathDevice {
		t.Fatalf("device authorization: %d %v", st, dev)
	}
	complete, err := url.Parse(dev["verification_uri_complete"].(string))
	if err != nil || complete.Path != testBase+PathDevice {
		t.Fatalf("verification_uri_complete %v", dev["verification_uri_complete"])
	}
	code := dev["user_code"].(string)

	// Following the link without a session: the login page under the
	// base, returning to the device page under the base.
	c := h.newBrowser()
	p := h.do(c, mustGet(t, complete.String()))
	if p.status != http.StatusOK || p.url.Path != testBase+PathLogin ||
		formFields(p.body).Get("return_to") != testBase+PathDevice+"?user_code="+url.QueryEscape(code) {
		t.Fatalf("device link without session: %d at %s: %s", p.status, p.url, p.body)
	}
	p = h.submit(c, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if p.status != http.StatusOK || p.url.Path != testBase+PathDevice || !strings.Contains(p.body, `action="`+testBase+PathDevice+`"`) ||
		!strings.Contains(p.body, `value="`+code+`"`) {
		t.Fatalf("device page after login: %d at %s: %s", p.status, p.url, p.body)
	}
	h.wantLinksUnderBase("device page", p)
	p = h.submit(c, PathDevice, fillForm(p.body, url.Values{"user_code": {code}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+testBase+PathDevice+`"`) || !strings.Contains(p.body, "Approve") {
		t.Fatalf("confirmation: %d %s", p.status, p.body)
	}
	h.wantLinksUnderBase("device confirmation", p)
	p = h.submit(c, PathDevice, fillForm(p.body, url.Values{"decision": {"approve"}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "return to your device") {
		t.Fatalf("approval: %d %s", p.status, p.body)
	}
	h.wantLinksUnderBase("device done page", p)
	if d := h.deviceCode(code); d.Status != storage.DeviceStatusApproved || d.UserID != u.ID {
		t.Errorf("device code %+v", d)
	}
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {dev["device_code"].(string)}, "client_id": {CLIClientID}}, "", "")
	if st != http.StatusOK || body["access_token"] == nil {
		t.Errorf("device token: %d %v", st, body)
	}
}

func TestBasePathAccountAndMFA(t *testing.T) {
	h := newBaseHarness(t)
	h.addUser("alice", "correct horse battery")

	// /account without a session: to the login page returning to it.
	c := h.newBrowser()
	c.CheckRedirect = noRedirects.CheckRedirect
	p := h.browse(c, PathAccount)
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.Path != testBase+PathLogin ||
		loc.Query().Get("return_to") != testBase+PathAccount {
		t.Fatalf("account without session: %d %v", p.status, loc)
	}

	c = h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	p = h.browse(c, PathAccount)
	for _, action := range []string{"/mfa/enroll#mfa", "/password#password", "/sessions/end#sessions", "/apikeys#api-keys"} {
		if !strings.Contains(p.body, `action="`+testBase+PathAccount+action+`"`) {
			t.Errorf("account page has no form posting to %s%s%s", testBase, PathAccount, action)
		}
	}
	h.wantLinksUnderBase("account page", p)
	sec, _ := h.enrol(c) // posts to the forms' actions under the base
	p = h.browse(c, PathAccount)
	if !strings.Contains(p.body, `action="`+testBase+PathAccount+`/mfa/disable#mfa"`) {
		t.Errorf("enrolled account page: %s", p.body)
	}
	h.wantLinksUnderBase("enrolled account page", p)

	// The password step of an enrolled user leads to the code page
	// under the base; the code completes the login at the return target.
	h.clock.Advance(30 * time.Second)
	c2 := h.newBrowser()
	c2.CheckRedirect = noRedirects.CheckRedirect
	f := h.loginForm(c2, "alice", "correct horse battery")
	f.Set("return_to", testBase+PathAccount)
	p = h.submit(c2, PathLogin, f)
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+PathLoginMFA {
		t.Fatalf("password step: %d %v", p.status, loc)
	}
	p = h.browse(c2, PathLoginMFA)
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+testBase+PathLoginMFA+`"`) {
		t.Fatalf("code page: %d %s", p.status, p.body)
	}
	h.wantLinksUnderBase("code page", p)
	p = h.submitCode(c2, p, totpCode(t, sec, h.clock.Now()))
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+PathAccount {
		t.Fatalf("code: %d %v", p.status, loc)
	}
	// Without a pending login the code page sends back to the login page.
	p = h.browse(h.newBrowserNoRedirects(), PathLoginMFA)
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+PathLogin {
		t.Errorf("code page without pending login: %d %v", p.status, loc)
	}

	// Ending the current session from /account: back to the login page.
	p = h.browse(c2, PathAccount)
	current := secret.Hash(h.sessionCookie(c2))
	if !strings.Contains(p.body, `value="`+current+`"`) {
		t.Fatalf("no current session on the account page: %s", p.body)
	}
	p = h.submit(c2, PathAccount+"/sessions/end", url.Values{browser.CSRFField: {formFields(p.body).Get(browser.CSRFField)}, "id": {current}})
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+PathLogin {
		t.Errorf("ending the current session: %d %v", p.status, loc)
	}
}

func (h *testHarness) newBrowserNoRedirects() *http.Client {
	c := h.newBrowser()
	c.CheckRedirect = noRedirects.CheckRedirect
	return c
}

func TestBasePathMFARequiredEnrolment(t *testing.T) {
	// A user who must enrol is sent to /account under the base, and the
	// page's Continue link after enrolment stays under it.
	h := newBaseHarness(t, func(c *config.Server) { c.MFA.RequiredRoles = []string{RoleAdmin} })
	c := h.newBrowserNoRedirects()
	f := h.loginForm(c, AdminUsername, "admin-password-1")
	f.Set("return_to", testBase+PathDevice)
	p := h.submit(c, PathLogin, f)
	if loc := p.location(); p.status != http.StatusSeeOther || loc == nil || loc.String() != testBase+PathAccount {
		t.Fatalf("after password: %d %v", p.status, loc)
	}
	sec, p := h.startEnrol(c)
	p = h.submit(c, PathAccount+"/mfa/confirm", fillForm(p.body, url.Values{"code": {totpCode(t, sec, h.clock.Now())}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, `<a href="`+testBase+PathDevice+`">Continue</a>`) {
		t.Fatalf("after enrolment: %d %s", p.status, p.body)
	}
	h.wantLinksUnderBase("recovery codes page", p)
	if h.sessionCookie(c) == "" {
		t.Error("no session after the required enrolment")
	}
}

func TestBasePathErrorAndHeaders(t *testing.T) {
	h := newBaseHarness(t)
	// An unknown client: the error page, no redirect (SECURITY-CASES 6).
	p := h.browse(h.newBrowserNoRedirects(), PathAuthorize+"?"+with(cliRequest(), url.Values{"client_id": {"nope"}}).Encode())
	if p.status != http.StatusBadRequest || p.location() != nil {
		t.Fatalf("unknown client: %d %v", p.status, p.location())
	}
	h.wantLinksUnderBase("error page", p)
	want := "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action " + h.issuer + "/"
	if got := p.header.Get("Content-Security-Policy"); got != want {
		t.Errorf("CSP %q, want %q", got, want)
	}
	if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", p.header)
	}
	// The JSON endpoints and health checks answer under the base.
	for _, path := range []string{PathHealthz, PathReadyz} {
		resp, err := http.Get(h.url(path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}
