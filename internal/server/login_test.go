package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// loginForm fetches the login page with c and returns its form with the
// given credentials filled in.
func (h *testHarness) loginForm(c *http.Client, user, pass string) url.Values {
	h.t.Helper()
	p := h.browse(c, PathLogin)
	if p.status != http.StatusOK {
		h.t.Fatalf("login page: %d", p.status)
	}
	return fillForm(p.body, url.Values{"username": {user}, "password": {pass}})
}

// sessionCookie is the session id c holds for the server, or "".
func (h *testHarness) sessionCookie(c *http.Client) string {
	u, _ := url.Parse(h.ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == browser.SessionCookie {
			return ck.Value
		}
	}
	return ""
}

func TestLoginSuccess(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, "alice", "correct horse battery"))
	if p.status != http.StatusOK || p.url.Path != h.base+PathLogin || !strings.Contains(p.body, "You are signed in as <strong>alice</strong>") {
		t.Fatalf("after login: %d at %s: %s", p.status, p.url, p.body)
	}
	ev := h.waitAudit(audit.LoginSuccess)
	if ev["user_id"] != u.ID || ev["outcome"] != audit.Success || ev["ip"] != "127.0.0.1" {
		t.Errorf("audit event %v", ev)
	}
	tok := h.sessionCookie(c)
	sess, err := h.store.GetSession(context.Background(), secret.Hash(tok))
	if err != nil {
		t.Fatalf("session %q not stored: %v", tok, err)
	}
	if sess.UserID != u.ID || !sess.AuthTime.Equal(h.clock.Now()) || !sess.ExpiresAt.Equal(h.clock.Now().Add(time.Duration(h.cfg.Tokens.SessionTTL))) {
		t.Errorf("session %+v", sess)
	}
	// The session ends at SessionTTL.
	h.clock.Advance(time.Duration(h.cfg.Tokens.SessionTTL))
	if p := h.browse(c, PathLogin); !strings.Contains(p.body, `name="password"`) {
		t.Error("expired session still signed in")
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	d := h.addUser("dave", "correct horse battery")
	if err := h.store.UpdateUser(context.Background(), d.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	c := h.newBrowser()
	tests := []struct{ user, pass, reason string }{
		{"alice", "wrong password", "bad_password"},
		{"mallory", "correct horse battery", "unknown_user"},
		{"dave", "correct horse battery", "disabled"},
	}
	var bodies []string
	for _, tc := range tests {
		p := h.submit(c, PathLogin, h.loginForm(c, tc.user, tc.pass))
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, msgInvalidLogin) {
			t.Errorf("%s: %d %s", tc.user, p.status, p.body)
		}
		if tok := h.sessionCookie(c); tok != "" {
			t.Errorf("%s: session cookie set", tc.user)
		}
		ev := h.waitAudit(audit.LoginFailure)
		if ev["reason"] != tc.reason || ev["username"] != tc.user || ev["ip"] != "127.0.0.1" {
			t.Errorf("%s: audit %v", tc.user, ev)
		}
		bodies = append(bodies, strings.ReplaceAll(p.body, `value="`+tc.user+`"`, `value="X"`))
	}
	// Unknown, disabled and wrong password give the same page.
	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Errorf("page for %s differs from page for %s:\n%s\n---\n%s", tests[i].user, tests[0].user, bodies[i], bodies[0])
		}
	}
}

func TestLoginRotatesSession(t *testing.T) {
	// SECURITY-CASES 32: a session id present before login never survives it.
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	h.addUser("bob", "battery staple horse")
	base, _ := url.Parse(h.ts.URL)

	// An id planted by an attacker.
	c := h.newBrowser()
	planted := secret.NewToken()
	c.Jar.SetCookies(base, []*http.Cookie{{Name: browser.SessionCookie, Value: planted, Path: "/"}})
	h.loginAs(c, "alice", "correct horse battery")
	if got := h.sessionCookie(c); got == planted || got == "" {
		t.Fatalf("session after login = %q, planted %q", got, planted)
	}

	// A real session of another login is replaced and deleted.
	first := h.sessionCookie(c)
	h.loginAs(c, "bob", "battery staple horse")
	second := h.sessionCookie(c)
	if second == first {
		t.Fatal("session id not rotated at second login")
	}
	if _, err := h.store.GetSession(context.Background(), secret.Hash(first)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("old session still stored: %v", err)
	}
	other := h.newBrowser()
	other.Jar.SetCookies(base, []*http.Cookie{{Name: browser.SessionCookie, Value: first, Path: "/"}})
	if p := h.browse(other, PathLogin); strings.Contains(p.body, "signed in as") {
		t.Error("old session id still signs in")
	}
	if p := h.browse(c, PathLogin); !strings.Contains(p.body, "You are signed in as <strong>bob</strong>") {
		t.Errorf("new session: %s", p.body)
	}
}

func TestCSRFRequired(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	good := formFields(h.browse(c, PathLogout).body).Get(browser.CSRFField)
	if good == "" {
		t.Fatal("no CSRF token on the logout page")
	}
	authorize := url.Values{"client_id": {CLIClientID}, "redirect_uri": {"http://127.0.0.1:5000/callback"},
		"response_type": {"code"}, "code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}, "decision": {"allow"}}
	forms := map[string]url.Values{
		PathLogin:     {"username": {"alice"}, "password": {"correct horse battery"}},
		PathLogout:    {},
		PathDevice:    {"user_code": {"BCDF-GHJK"}},
		PathAuthorize: authorize,
	}
	for path, form := range forms {
		for name, tok := range map[string][]string{"missing": nil, "wrong": {secret.NewToken()}, "empty": {""}} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tok != nil {
				f[browser.CSRFField] = tok
			}
			p := h.submit(c, path, f)
			if p.status != http.StatusForbidden || p.location() != nil {
				t.Errorf("%s with %s token: %d %v", path, name, p.status, p.header)
			}
		}
		// The right token in the field but no cookie (another browser).
		f := url.Values{browser.CSRFField: {good}}
		for k, v := range form {
			f[k] = v
		}
		if p := h.submit(&http.Client{CheckRedirect: c.CheckRedirect}, path, f); p.status != http.StatusForbidden {
			t.Errorf("%s without cookie: %d", path, p.status)
		}
	}
	// Still signed in: the refused logout did nothing.
	if p := h.browse(c, PathLogin); !strings.Contains(p.body, "signed in as") {
		t.Error("session ended by a forged logout")
	}
}

// recorderLogin runs GET /login and POST /login through the handler with a
// recorder, as a browser at issuer would, and returns both responses.
func recorderLogin(t *testing.T, h *testHarness, user, pass string) (get, post *http.Response) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, h.issuer+PathLogin, nil))
	get = rec.Result()
	body := rec.Body.String()
	req := httptest.NewRequest(http.MethodPost, h.issuer+PathLogin,
		strings.NewReader(fillForm(body, url.Values{"username": {user}, "password": {pass}}).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range get.Cookies() {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	return get, rec.Result()
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name   string
		opts   []harnessOption
		prefix string
		secure bool
	}{
		{"http issuer", nil, "", false},
		{"https issuer", []harnessOption{withIssuer("https://login.example.com")}, "__Host-", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			h.addUser("alice", "correct horse battery")
			get, post := recorderLogin(t, h, "alice", "correct horse battery")
			if post.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", post.StatusCode)
			}
			csrf := cookieNamed(get, tc.prefix+browser.CSRFCookie)
			sess := cookieNamed(post, tc.prefix+browser.SessionCookie)
			if csrf == nil || sess == nil {
				t.Fatalf("cookies %v / %v", get.Cookies(), post.Cookies())
			}
			for _, c := range []*http.Cookie{csrf, sess} {
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != tc.secure {
					t.Errorf("cookie %s: %+v", c.Name, c)
				}
			}
			if want := int(time.Duration(h.cfg.Tokens.SessionTTL).Seconds()); sess.MaxAge != want {
				t.Errorf("session MaxAge %d, want %d", sess.MaxAge, want)
			}
			// The server reads back the cookie it set.
			req := httptest.NewRequest(http.MethodGet, h.issuer+PathLogin, nil)
			req.AddCookie(sess)
			rec := httptest.NewRecorder()
			h.srv.Handler().ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), "You are signed in as") {
				t.Errorf("session cookie not recognised: %s", rec.Body)
			}
		})
	}
}

func TestPageHeaders(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{PathLogin, PathLogout, PathAuthorize} {
		p := h.browse(h.newBrowser(), path)
		want := "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
		if got := p.header.Get("Content-Security-Policy"); got != want {
			t.Errorf("%s: CSP %q, want %q", path, got, want)
		}
		if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Cache-Control") != "no-store" ||
			p.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: headers %v", path, p.header)
		}
	}
	// The style sheet the CSP allows is served from 'self'.
	p := h.browse(h.newBrowser(), "/static/style.css")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %v", p.status, p.header)
	}
	if p := h.browse(h.newBrowser(), "/static/"); p.status != http.StatusNotFound {
		t.Errorf("static directory listing: %d", p.status)
	}
}

func TestReflectedValuesEscaped(t *testing.T) {
	h := newHarness(t)
	c := h.newBrowser()
	const evil = `"><script>alert(1)</script>`
	f := h.loginForm(c, evil, "x")
	f.Set("return_to", "/device?x="+evil)
	p := h.submit(c, PathLogin, f)
	if p.status != http.StatusUnauthorized {
		t.Fatalf("status %d", p.status)
	}
	if strings.Contains(p.body, "<script>") || !strings.Contains(p.body, "&lt;script&gt;") {
		t.Errorf("username or return_to not escaped: %s", p.body)
	}
	if got := formFields(p.body).Get("return_to"); got != "/device?x="+evil {
		t.Errorf("return_to round trip %q", got)
	}
}

func TestLoginReturnTo(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	tests := []struct{ returnTo, want string }{
		{"/device?user_code=BCDF-GHJK", "/device?user_code=BCDF-GHJK"},
		{"//evil.example/x", "/"},
		{"https://evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"", PathLogin},
	}
	for _, tc := range tests {
		c := h.newBrowser()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		f := h.loginForm(c, "alice", "correct horse battery")
		f.Set("return_to", tc.returnTo)
		p := h.submit(c, PathLogin, f)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != tc.want {
			t.Errorf("return_to %q: %d Location %q, want %q", tc.returnTo, p.status, p.header.Get("Location"), tc.want)
		}
	}
}

func TestLoginRateLimitPerUser(t *testing.T) {
	// SECURITY-CASES 30: variants of one username share one counter.
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerUser = perMinute(3) })
	h.addUser("alice", "correct horse battery")
	h.addUser("bob", "battery staple horse")
	c := h.newBrowser()
	for _, name := range []string{"alice", "Alice", " alice "} {
		if p := h.submit(c, PathLogin, h.loginForm(c, name, "wrong")); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt as %q: %d", name, p.status)
		}
	}
	// The fourth attempt is refused before the password is checked, even
	// with the right one.
	p := h.submit(c, PathLogin, h.loginForm(c, "ALICE", "correct horse battery"))
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || h.sessionCookie(c) != "" {
		t.Fatalf("fourth attempt: %d %v", p.status, p.header)
	}
	ev := h.waitAudit(audit.LoginRateLimited)
	if ev["username"] != "alice" || ev["reason"] != limitLoginUser {
		t.Errorf("audit %v", ev)
	}
	// Another user from the same IP is not affected.
	h.loginAs(c, "bob", "battery staple horse")
	// The limit lifts with time.
	h.clock.Advance(time.Minute)
	h.loginAs(h.newBrowser(), "alice", "correct horse battery")
}

func TestLoginRateLimitPerIP(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerIP = perMinute(2) })
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	for _, name := range []string{"x1", "x2"} {
		if p := h.submit(c, PathLogin, h.loginForm(c, name, "wrong")); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt as %q: %d", name, p.status)
		}
	}
	if p := h.submit(c, PathLogin, h.loginForm(c, "alice", "correct horse battery")); p.status != http.StatusTooManyRequests {
		t.Fatalf("third attempt from the IP: %d", p.status)
	}
	if ev := h.waitAudit(audit.LoginRateLimited); ev["reason"] != limitLoginIP || ev["ip"] != "127.0.0.1" {
		t.Errorf("audit %v", ev)
	}
	h.clock.Advance(time.Minute)
	h.loginAs(c, "alice", "correct horse battery")
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	tok := h.sessionCookie(c)
	p := h.browse(c, PathLogout)
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+h.base+PathLogout+`"`) {
		t.Fatalf("logout page: %d %s", p.status, p.body)
	}
	// GET alone signs nobody out.
	if _, err := h.store.GetSession(context.Background(), secret.Hash(tok)); err != nil {
		t.Fatalf("session gone after GET /logout: %v", err)
	}
	p = h.submit(c, PathLogout, formFields(p.body))
	if p.status != http.StatusOK || !strings.Contains(p.body, "You have been signed out") {
		t.Fatalf("logout: %d %s", p.status, p.body)
	}
	if h.sessionCookie(c) != "" {
		t.Error("session cookie not cleared")
	}
	if _, err := h.store.GetSession(context.Background(), secret.Hash(tok)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session still stored: %v", err)
	}
	if ev := h.waitAudit(audit.Logout); ev["user_id"] != u.ID {
		t.Errorf("audit %v", ev)
	}
	if p := h.browse(c, PathLogin); !strings.Contains(p.body, `name="password"`) {
		t.Error("still signed in after logout")
	}
}

func TestDeletedUserSessionEnds(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	if err := h.store.UpdateUser(context.Background(), u.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if p := h.browse(c, PathLogin); !strings.Contains(p.body, `name="password"`) {
		t.Error("disabled user still signed in")
	}
}
