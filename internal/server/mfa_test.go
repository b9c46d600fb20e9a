package server

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var (
	totpSecretRE   = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
	recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)
)

// totpCode is the code of secret at t.
func totpCode(t *testing.T, sec string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(sec, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a six-digit code that is none of the codes of sec around now.
func (h *testHarness) wrongCode(sec string) string {
	for _, c := range []string{"000000", "111111", "222222"} {
		ok := true
		for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
			ok = ok && totpCode(h.t, sec, h.clock.Now().Add(d)) != c
		}
		if ok {
			return c
		}
	}
	h.t.Fatal("no wrong code")
	return ""
}

// startEnrol starts a TOTP enrolment from the account page c sees and
// returns the secret shown.
func (h *testHarness) startEnrol(c *http.Client) (string, *browserPage) {
	h.t.Helper()
	p := h.browse(c, PathAccount)
	if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+h.base+PathAccount+`/mfa/enroll#mfa"`) {
		h.t.Fatalf("account page: %d %s", p.status, p.body)
	}
	p = h.submit(c, PathAccount+"/mfa/enroll", formFields(p.body))
	m := totpSecretRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, `src="data:image/png;base64,`) ||
		!strings.Contains(p.body, html.EscapeString("otpauth://totp/")) {
		h.t.Fatalf("enrol: %d %s", p.status, p.body)
	}
	return m[1], p
}

// enrol enrols c's user and returns the secret and recovery codes. The
// current time step is used up by the confirmation.
func (h *testHarness) enrol(c *http.Client) (string, []string) {
	h.t.Helper()
	sec, p := h.startEnrol(c)
	p = h.submit(c, PathAccount+"/mfa/confirm", fillForm(p.body, url.Values{"code": {totpCode(h.t, sec, h.clock.Now())}}))
	ms := recoveryCodeRE.FindAllStringSubmatch(p.body, -1)
	if p.status != http.StatusOK || len(ms) != secondfactor.RecoveryCodeCount {
		h.t.Fatalf("confirm: %d %s", p.status, p.body)
	}
	var codes []string
	for _, m := range ms {
		codes = append(codes, m[1])
	}
	return sec, codes
}

// passwordStep submits the login form in a new browser and expects the
// code page.
func (h *testHarness) passwordStep(user, pass string) (*http.Client, *browserPage) {
	h.t.Helper()
	c := h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, user, pass))
	if p.status != http.StatusOK || p.url.Path != h.base+PathLoginMFA || !strings.Contains(p.body, `name="code"`) {
		h.t.Fatalf("password step: %d %s %s", p.status, p.url, p.body)
	}
	if h.sessionCookie(c) != "" {
		h.t.Fatal("session before the second step")
	}
	return c, p
}

func (h *testHarness) submitCode(c *http.Client, page *browserPage, code string) *browserPage {
	h.t.Helper()
	return h.submit(c, PathLoginMFA, fillForm(page.body, url.Values{"code": {code}}))
}

func signedIn(p *browserPage) bool {
	return p.status == http.StatusOK && strings.Contains(p.body, "You are signed in as")
}

func TestMFAEnrolAndLogin(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")

	// A wrong first code does not enrol.
	sec, p := h.startEnrol(c)
	p = h.submit(c, PathAccount+"/mfa/confirm", fillForm(p.body, url.Values{"code": {h.wrongCode(sec)}}))
	if p.status != http.StatusBadRequest || !totpSecretRE.MatchString(p.body) {
		t.Fatalf("wrong confirmation code: %d %s", p.status, p.body)
	}
	st, err := h.store.GetTOTP(context.Background(), u.ID)
	if err != nil || st.Enrolled {
		t.Fatalf("after wrong code: %+v %v", st, err)
	}
	if strings.Contains(string(st.EncryptedSecret), sec) {
		t.Error("TOTP secret stored in the clear")
	}
	sec, _ = h.enrol(c)

	h.clock.Advance(30 * time.Second)
	c2, p := h.passwordStep("alice", "correct horse battery")
	p2 := h.submitCode(c2, p, h.wrongCode(sec))
	if p2.status != http.StatusUnauthorized || h.sessionCookie(c2) != "" {
		t.Fatalf("wrong code: %d %s", p2.status, p2.body)
	}
	if ev := h.waitAudit(audit.LoginFailure); ev["reason"] != "bad_totp" || ev["user_id"] != u.ID {
		t.Errorf("audit %v", ev)
	}
	p2 = h.submitCode(c2, p, totpCode(t, sec, h.clock.Now()))
	if !signedIn(p2) || h.sessionCookie(c2) == "" {
		t.Fatalf("right code: %d %s", p2.status, p2.body)
	}
}

func TestMFACodeReplayRefused(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c)
	h.clock.Advance(30 * time.Second)

	code := totpCode(t, sec, h.clock.Now())
	c1, p := h.passwordStep("alice", "correct horse battery")
	if p := h.submitCode(c1, p, code); !signedIn(p) {
		t.Fatalf("first use: %d %s", p.status, p.body)
	}
	// SECURITY-CASES 31: the same code in the same time step is refused,
	// and so is the previous step's code (a step before the last used).
	h.clock.Advance(10 * time.Second)
	c2, p := h.passwordStep("alice", "correct horse battery")
	for _, replay := range []string{code, totpCode(t, sec, h.clock.Now().Add(-30*time.Second))} {
		if replay == code && replay != totpCode(t, sec, h.clock.Now()) {
			t.Fatal("test clock left the step")
		}
		if p := h.submitCode(c2, p, replay); p.status != http.StatusUnauthorized {
			t.Fatalf("replayed code %s: %d", replay, p.status)
		}
	}
	// One step of skew ahead is accepted.
	if p := h.submitCode(c2, p, totpCode(t, sec, h.clock.Now().Add(30*time.Second))); !signedIn(p) {
		t.Fatalf("next step's code: %d %s", p.status, p.body)
	}
}

func TestMFARecoveryCodeWorksOnce(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	_, codes := h.enrol(c)

	c1, p := h.passwordStep("alice", "correct horse battery")
	if p := h.submitCode(c1, p, strings.ToUpper(codes[3])); !signedIn(p) {
		t.Fatalf("recovery code: %d %s", p.status, p.body)
	}
	c2, p := h.passwordStep("alice", "correct horse battery")
	if p := h.submitCode(c2, p, codes[3]); p.status != http.StatusUnauthorized {
		t.Fatalf("recovery code reused: %d", p.status)
	}
	if p := h.submitCode(c2, p, codes[4]); !signedIn(p) {
		t.Fatalf("another recovery code: %d %s", p.status, p.body)
	}
}

func TestMFACodeRateLimited(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerUser = perMinute(5) })
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c)
	h.clock.Advance(30 * time.Second)

	c1, p := h.passwordStep("alice", "correct horse battery")
	limited := false
	for range 10 {
		if h.submitCode(c1, p, h.wrongCode(sec)).status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("code guessing never rate limited")
	}
	// Even the right code waits until the limit allows again.
	if p := h.submitCode(c1, p, totpCode(t, sec, h.clock.Now())); p.status != http.StatusTooManyRequests {
		t.Fatalf("right code while limited: %d", p.status)
	}
}

func TestMFAPendingExpires(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c)
	c1, p := h.passwordStep("alice", "correct horse battery")
	h.clock.Advance(pendingTTL + time.Second)
	if p := h.submitCode(c1, p, totpCode(t, sec, h.clock.Now())); signedIn(p) || h.sessionCookie(c1) != "" {
		t.Fatalf("code after the pending login expired: %d %s", p.status, p.body)
	}
}

func TestMFARequiredRoleMustEnrol(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.MFA.RequiredRoles = []string{RoleAdmin} })
	c := h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, AdminUsername, "admin-password-1"))
	if p.status != http.StatusOK || p.url.Path != h.base+PathAccount || !strings.Contains(p.body, "must use two-step") {
		t.Fatalf("after password: %d %s %s", p.status, p.url, p.body)
	}
	if h.sessionCookie(c) != "" {
		t.Fatal("session before enrolment")
	}
	if p := h.browse(c, PathLogin); signedIn(p) {
		t.Fatal("signed in before enrolment")
	}
	// A user without the role signs in with the password alone.
	h.addUser("bob", "correct horse battery", RoleViewer)
	h.loginAs(h.newBrowser(), "bob", "correct horse battery")

	h.enrol(c)
	if h.sessionCookie(c) == "" || !signedIn(h.browse(c, PathLogin)) {
		t.Fatal("not signed in after enrolment")
	}
}

func TestMFADisableNeedsCode(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c)
	h.clock.Advance(30 * time.Second)
	p := h.browse(c, PathAccount)
	if p2 := h.submit(c, PathAccount+"/mfa/disable", fillForm(p.body, url.Values{"code": {h.wrongCode(sec)}})); p2.status != http.StatusBadRequest {
		t.Fatalf("disable with a wrong code: %d", p2.status)
	}
	if _, err := h.store.GetTOTP(context.Background(), u.ID); err != nil {
		t.Fatalf("TOTP gone after a wrong code: %v", err)
	}
	if p2 := h.submit(c, PathAccount+"/mfa/disable", fillForm(p.body, url.Values{"code": {totpCode(t, sec, h.clock.Now())}})); p2.status != http.StatusOK {
		t.Fatalf("disable: %d %s", p2.status, p2.body)
	}
	if _, err := h.store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TOTP still stored: %v", err)
	}
	h.loginAs(h.newBrowser(), "alice", "correct horse battery")
}

func TestAccountPasswordChangeEndsOtherSessions(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	c1, c2 := h.newBrowser(), h.newBrowser()
	h.loginAs(c1, "bob", "correct horse battery")
	h.loginAs(c2, "bob", "correct horse battery")
	p := h.browse(c1, PathAccount)
	for _, bad := range []url.Values{
		{"current_password": {"wrong password here"}, "new_password": {"new horse battery 2"}, "new_password2": {"new horse battery 2"}},
		{"current_password": {"correct horse battery"}, "new_password": {"new horse battery 2"}, "new_password2": {"new horse battery 3"}},
	} {
		if p2 := h.submit(c1, PathAccount+"/password", fillForm(p.body, bad)); p2.status != http.StatusBadRequest {
			t.Fatalf("bad change %v: %d", bad, p2.status)
		}
	}
	if !signedIn(h.browse(c2, PathLogin)) {
		t.Fatal("refused change ended the other session")
	}
	p2 := h.submit(c1, PathAccount+"/password", fillForm(p.body, url.Values{"current_password": {"correct horse battery"},
		"new_password": {"new horse battery 2"}, "new_password2": {"new horse battery 2"}}))
	if p2.status != http.StatusOK || !strings.Contains(p2.body, "Password changed") {
		t.Fatalf("change: %d %s", p2.status, p2.body)
	}
	if signedIn(h.browse(c2, PathLogin)) {
		t.Error("other session still signed in")
	}
	if !signedIn(h.browse(c1, PathLogin)) {
		t.Error("this session ended")
	}
	h.loginAs(h.newBrowser(), "bob", "new horse battery 2")
}

func TestAccountSessionsListAndEnd(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	h.addUser("eve", "correct horse battery")
	c1, c2, ce := h.newBrowser(), h.newBrowser(), h.newBrowser()
	h.loginAs(c1, "bob", "correct horse battery")
	h.loginAs(c2, "bob", "correct horse battery")
	h.loginAs(ce, "eve", "correct horse battery")
	other := secret.Hash(h.sessionCookie(c2))
	p := h.browse(c1, PathAccount)
	if strings.Count(p.body, `action="`+h.base+PathAccount+`/sessions/end#sessions"`) != 2 || !strings.Contains(p.body, other) ||
		strings.Contains(p.body, secret.Hash(h.sessionCookie(ce))) {
		t.Fatalf("session list: %s", p.body)
	}
	// Eve cannot end Bob's session.
	pe := h.browse(ce, PathAccount)
	if p2 := h.submit(ce, PathAccount+"/sessions/end", fillForm(pe.body, url.Values{"id": {other}})); p2.status != http.StatusNotFound {
		t.Fatalf("ending another user's session: %d", p2.status)
	}
	if !signedIn(h.browse(c2, PathLogin)) {
		t.Fatal("another user ended the session")
	}
	if p2 := h.submit(c1, PathAccount+"/sessions/end", fillForm(p.body, url.Values{"id": {other}})); p2.status != http.StatusOK {
		t.Fatalf("end session: %d %s", p2.status, p2.body)
	}
	if signedIn(h.browse(c2, PathLogin)) {
		t.Error("ended session still signed in")
	}
	if !signedIn(h.browse(c1, PathLogin)) {
		t.Error("wrong session ended")
	}
}

func TestMFAPagesHeadersAndCSRF(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	h.enrol(c)
	cp, mfa := h.passwordStep("alice", "correct horse battery")
	want := "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	for _, p := range []*browserPage{h.browse(c, PathAccount), mfa} {
		if got := p.header.Get("Content-Security-Policy"); got != want || p.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: CSP %q", p.url.Path, got)
		}
		if formFields(p.body).Get(browser.CSRFField) == "" {
			t.Errorf("%s: form without CSRF token", p.url.Path)
		}
	}
	for _, tc := range []struct {
		c    *http.Client
		path string
	}{
		{cp, PathLoginMFA},
		{c, PathAccount + "/password"},
		{c, PathAccount + "/mfa/enroll"},
		{c, PathAccount + "/mfa/confirm"},
		{c, PathAccount + "/mfa/disable"},
		{c, PathAccount + "/sessions/end"},
		{c, PathAccount + "/apikeys"},
		{c, PathAccount + "/apikeys/revoke"},
	} {
		p := h.submit(tc.c, tc.path, url.Values{"code": {"123456"}, browser.CSRFField: {secret.NewToken()}})
		if p.status != http.StatusForbidden {
			t.Errorf("POST %s without the CSRF cookie's token: %d", tc.path, p.status)
		}
	}
	if p := h.browse(h.newBrowser(), PathAccount); p.url.Path != h.base+PathLogin {
		t.Errorf("account page without a session: %d %s", p.status, p.url)
	}
}

func TestAccountAPIKeys(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("bob", "correct horse battery")
	h.addUser("eve", "correct horse battery")
	c, ce := h.newBrowser(), h.newBrowser()
	h.loginAs(c, "bob", "correct horse battery")
	h.loginAs(ce, "eve", "correct horse battery")
	p := h.browse(c, PathAccount)
	p = h.submit(c, PathAccount+"/apikeys", fillForm(p.body, url.Values{"name": {"laptop"}}))
	m := regexp.MustCompile(`<code id="new-api-key">(gatehouse_[^<]+)</code>`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("make key: %d %s", p.status, p.body)
	}
	id, sec, ok := apikey.Parse(m[1])
	if !ok {
		t.Fatalf("key %q", m[1])
	}
	k, err := h.store.GetAPIKey(context.Background(), id)
	if err != nil || k.UserID != u.ID || k.SecretHash != secret.Hash(sec) || len(k.Roles) != 0 || k.ExpiresAt.IsZero() {
		t.Fatalf("stored key %+v %v", k, err)
	}
	if p := h.browse(c, PathAccount); !strings.Contains(p.body, id) || strings.Contains(p.body, m[1]) {
		t.Fatal("key not listed, or shown again")
	}
	pe := h.browse(ce, PathAccount)
	if pe.status != http.StatusOK || pe.url.Path != h.base+PathAccount {
		t.Fatalf("eve's account page: %d %s", pe.status, pe.url)
	}
	if strings.Contains(pe.body, id) {
		t.Fatal("another user sees the key")
	}
	if p := h.submit(ce, PathAccount+"/apikeys/revoke", fillForm(pe.body, url.Values{"id": {id}})); p.status != http.StatusNotFound {
		t.Fatalf("another user revokes the key: %d %s", p.status, p.body)
	}
	if k, _ := h.store.GetAPIKey(context.Background(), id); !k.RevokedAt.IsZero() {
		t.Fatal("key revoked by another user")
	}
	if p := h.submit(c, PathAccount+"/apikeys/revoke", fillForm(p.body, url.Values{"id": {id}})); p.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", p.status, p.body)
	}
	if k, _ := h.store.GetAPIKey(context.Background(), id); k.RevokedAt.IsZero() {
		t.Fatal("key not revoked")
	}
}

func TestMFAPendingCookieSealed(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	sec, _ := h.enrol(c)
	h.clock.Advance(30 * time.Second)
	c1, p := h.passwordStep("alice", "correct horse battery")
	u, _ := url.Parse(h.ts.URL)
	var val string
	for _, ck := range c1.Jar.Cookies(u) {
		if ck.Name == pendingCookieName {
			val = ck.Value
		}
	}
	if val == "" {
		t.Fatal("no pending cookie")
	}
	b := []byte(val)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	c1.Jar.SetCookies(u, []*http.Cookie{{Name: pendingCookieName, Value: string(b), Path: "/"}})
	if p := h.submitCode(c1, p, totpCode(t, sec, h.clock.Now())); signedIn(p) || h.sessionCookie(c1) != "" {
		t.Fatalf("tampered pending cookie accepted: %d", p.status)
	}
}

// The code page of a sign-in that continues an authorization request lets
// its form go on to the client's origin (CSP form-action), as the login
// page does: otherwise a browser refuses the final redirect to the client.
func TestMFAPageAllowsTheClientOrigin(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	h.enrol(c)
	h.clock.Advance(30 * time.Second)

	b := h.newBrowser()
	q := url.Values{"client_id": {CLIClientID}, "redirect_uri": {"http://127.0.0.1:5000/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}}
	p := h.browse(b, PathAuthorize+"?"+q.Encode())
	p = h.submit(b, PathLogin, fillForm(p.body, url.Values{"username": {"alice"}, "password": {"correct horse battery"}}))
	if p.url.Path != h.base+PathLoginMFA {
		t.Fatalf("not at the code page: %d %s", p.status, p.url)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:5000") {
		t.Errorf("code page CSP %q does not let the form go on to the client", csp)
	}
}

// SECURITY-CASES 56: creating an API key or starting an MFA enrolment on
// /account needs a recent sign-in, not just a session cookie.
func TestAccountChangesNeedARecentSignIn(t *testing.T) {
	h := newHarness(t)
	u := h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "bob", "correct horse battery")
	h.clock.Advance(time.Duration(h.cfg.Tokens.AccountRecentAuth) + time.Minute)

	for _, path := range []string{PathAccount + "/apikeys", PathAccount + "/mfa/enroll"} {
		p := h.browse(c, PathAccount)
		p = h.submit(c, path, fillForm(p.body, url.Values{"name": {"laptop"}}))
		if p.url.Path != h.base+PathLogin || !strings.Contains(p.body, `name="password"`) {
			t.Errorf("%s with a sign-in older than the window: %d at %s, want the login form", path, p.status, p.url)
		}
	}
	keys, err := h.store.ListAPIKeys(t.Context())
	if err != nil || len(keys) != 0 {
		t.Fatalf("a key was made without a recent sign-in: %d %v", len(keys), err)
	}
	if _, err := h.store.GetTOTP(t.Context(), u.ID); err == nil {
		t.Fatal("an enrolment was started without a recent sign-in")
	}
	// Signing in again opens them.
	h.loginAs(c, "bob", "correct horse battery")
	p := h.browse(c, PathAccount)
	p = h.submit(c, PathAccount+"/apikeys", fillForm(p.body, url.Values{"name": {"laptop"}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="new-api-key"`) {
		t.Fatalf("after signing in again: %d %s", p.status, p.body)
	}
	h.startEnrol(c)
}
