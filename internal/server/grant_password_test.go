package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// allowTerminalLogin turns terminal sign-in on for the client id.
func (h *testHarness) allowTerminalLogin(id string) {
	h.t.Helper()
	err := h.store.UpdateClient(context.Background(), id, func(c *storage.Client) error {
		c.TerminalLogin = true
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// terminal sends a password grant of the public CLI client.
func (h *testHarness) terminal(user, pass string, extra ...string) (int, map[string]any, http.Header) {
	h.t.Helper()
	form := url.Values{"grant_type": {protocol.GrantPassword}, "client_id": {CLIClientID},
		"username": {user}, "password": {pass}, "scope": {"openid profile offline_access"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return h.postForm(PathToken, form, "", "")
}

// terminalOTP answers mfa_required with mfaToken and code.
func (h *testHarness) terminalOTP(mfaToken, code string) (int, map[string]any) {
	h.t.Helper()
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {protocol.GrantMFAOTP}, "client_id": {CLIClientID},
		"mfa_token": {mfaToken}, "otp": {code}}, "", "")
	return st, body
}

// enrolTOTP gives u an enrolled TOTP with a fixed secret and recovery
// codes, as /account would.
func (h *testHarness) enrolTOTP(u *storage.User) (string, []string) {
	h.t.Helper()
	const sec = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	sealed, err := secondfactor.SealSecret(h.srv.secretKey, u.ID, []byte(sec))
	if err != nil {
		h.t.Fatal(err)
	}
	codes, hashes := secondfactor.NewRecoveryCodes()
	err = h.store.CreateTOTP(context.Background(), &storage.TOTP{UserID: u.ID, EncryptedSecret: sealed, Enrolled: true,
		RecoveryCodes: hashes, CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	return sec, codes
}

// auditWith waits for an audit event of typ whose details say via
// terminal, and returns it.
func (h *testHarness) auditVia(typ string) map[string]any {
	h.t.Helper()
	for {
		e := h.waitAudit(typ)
		if d, _ := e["details"].(map[string]any); d["via"] == "terminal" {
			return e
		}
	}
}

func TestTerminalLoginOffByDefault(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery", "viewer")
	st, body, _ := h.terminal("alice", "correct horse battery")
	if st != http.StatusBadRequest || errCode(body) != protocol.ErrUnsupportedGrantType {
		t.Fatalf("password grant of a client without terminal sign-in: %d %v", st, body)
	}
	if d, _ := body["error_description"].(string); !strings.Contains(d, "gatehouse clients update gatehouse-cli --terminal-login") {
		t.Errorf("description does not say how to enable it: %q", d)
	}
	if body["access_token"] != nil {
		t.Fatal("tokens issued")
	}
	if st, body := h.terminalOTP("x", "123456"); st != http.StatusBadRequest || errCode(body) != protocol.ErrUnsupportedGrantType {
		t.Fatalf("mfa-otp grant of a client without terminal sign-in: %d %v", st, body)
	}
}

// TestTerminalLoginNeverForThirdParty: the flag set in the database by
// hand does not open the password grant to a third-party client.
func TestTerminalLoginNeverForThirdParty(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery", "viewer")
	sec := h.addClient(storage.Client{ID: "partner", Name: "Partner", GrantTypes: []string{"authorization_code", "refresh_token"},
		RedirectURIs: []string{"https://partner.example/cb"}, Scopes: []string{"openid"}, TerminalLogin: true})
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"correct horse battery"}}, "partner", sec)
	if st != http.StatusBadRequest || errCode(body) != protocol.ErrUnsupportedGrantType || body["access_token"] != nil {
		t.Fatalf("third-party password grant: %d %v", st, body)
	}
	if d, _ := body["error_description"].(string); !strings.Contains(d, "third-party") {
		t.Errorf("description %q", d)
	}
}

func TestTerminalLogin(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newHarnessOn(t, open)
		h.allowTerminalLogin(CLIClientID)
		alice := h.addUser("alice", "correct horse battery", "viewer")

		st, body, _ := h.terminal("Alice ", "correct horse battery")
		if st != http.StatusOK {
			t.Fatalf("password grant: %d %v", st, body)
		}
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, _ := body[k].(string); s == "" {
				t.Errorf("no %s in %v", k, body)
			}
		}
		if sub := claimsOf(t, body["access_token"].(string))["sub"]; sub != alice.ID {
			t.Errorf("access token sub %v", sub)
		}
		e := h.auditVia("login.success")
		if e["user_id"] != alice.ID || e["client_id"] != CLIClientID {
			t.Errorf("login.success %v", e)
		}
		// The refresh token works like a browser login's.
		st, rb, _ := h.postForm(PathToken, url.Values{"grant_type": {"refresh_token"}, "client_id": {CLIClientID},
			"refresh_token": {body["refresh_token"].(string)}}, "", "")
		if st != http.StatusOK || rb["access_token"] == nil {
			t.Fatalf("refresh: %d %v", st, rb)
		}

		for _, tc := range []struct{ name, user, pass, reason string }{
			{"wrong password", "alice", "wrong horse", "bad_password"},
			{"unknown user", "mallory", "correct horse battery", "unknown_user"},
		} {
			st, body, _ := h.terminal(tc.user, tc.pass)
			if st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant || body["access_token"] != nil {
				t.Fatalf("%s: %d %v", tc.name, st, body)
			}
			if d := body["error_description"]; d != "invalid username or password" {
				t.Errorf("%s: description %q", tc.name, d)
			}
			if e := h.auditVia("login.failure"); e["reason"] != tc.reason {
				t.Errorf("%s: audit reason %v", tc.name, e["reason"])
			}
		}

		// A disabled user is refused like a wrong password.
		if err := h.store.UpdateUser(context.Background(), alice.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		st, body, _ = h.terminal("alice", "correct horse battery")
		if st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant {
			t.Fatalf("disabled user: %d %v", st, body)
		}
		if e := h.auditVia("login.failure"); e["reason"] != "disabled" {
			t.Errorf("disabled: audit reason %v", e["reason"])
		}
	})
}

func TestTerminalLoginMissingParameters(t *testing.T) {
	h := newHarness(t)
	h.allowTerminalLogin(CLIClientID)
	if st, body, _ := h.terminal("", "x"); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidRequest {
		t.Fatalf("no username: %d %v", st, body)
	}
	if st, body := h.terminalOTP("", "123456"); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidRequest {
		t.Fatalf("no mfa_token: %d %v", st, body)
	}
}

// TestTerminalLoginRateLimited: the login page's per-user limit applies,
// with the wait in Retry-After, and it is one budget for both doors.
func TestTerminalLoginRateLimited(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerUser = perMinute(3) })
	h.allowTerminalLogin(CLIClientID)
	h.addUser("alice", "correct horse battery", "viewer")
	for range 3 {
		if st, _, _ := h.terminal("alice", "wrong horse"); st != http.StatusBadRequest {
			t.Fatalf("wrong password: %d", st)
		}
	}
	st, body, hdr := h.terminal("ALICE", "correct horse battery")
	if st != http.StatusTooManyRequests || errCode(body) != protocol.ErrTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %v Retry-After %q", st, body, hdr.Get("Retry-After"))
	}
	h.auditVia("login.rate_limited")
	// The login page shares the budget.
	c := h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "alice", "correct horse battery")); p.status != http.StatusTooManyRequests {
		t.Fatalf("login page after terminal attempts: %d", p.status)
	}
	h.clock.Advance(time.Minute)
	if st, _, _ := h.terminal("alice", "correct horse battery"); st != http.StatusOK {
		t.Fatalf("after the wait: %d", st)
	}
}

func TestTerminalLoginMFA(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newHarnessOn(t, open)
		h.allowTerminalLogin(CLIClientID)
		alice := h.addUser("alice", "correct horse battery", "viewer")
		sec, recovery := h.enrolTOTP(alice)

		mfaStep := func() string {
			t.Helper()
			st, body, _ := h.terminal("alice", "correct horse battery")
			tok, _ := body["mfa_token"].(string)
			if st != http.StatusForbidden || errCode(body) != protocol.ErrMFARequired || tok == "" || body["access_token"] != nil {
				t.Fatalf("password of an enrolled user: %d %v", st, body)
			}
			return tok
		}
		mt := mfaStep()

		// A wrong code is refused and audited; the mfa_token stays good.
		if st, body := h.terminalOTP(mt, h.wrongCode(sec)); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant {
			t.Fatalf("wrong code: %d %v", st, body)
		}
		if e := h.auditVia("login.failure"); e["reason"] != "bad_totp" {
			t.Errorf("wrong code audit %v", e)
		}
		st, body := h.terminalOTP(mt, totpCode(t, sec, h.clock.Now()))
		if st != http.StatusOK || body["refresh_token"] == nil {
			t.Fatalf("right code: %d %v", st, body)
		}
		if e := h.auditVia("login.success"); e["details"].(map[string]any)["mfa"] != "totp" {
			t.Errorf("login.success %v", e)
		}

		// The mfa_token worked once: a replay with the next code fails.
		h.clock.Advance(30 * time.Second)
		if st, body := h.terminalOTP(mt, totpCode(t, sec, h.clock.Now())); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant ||
			!strings.Contains(body["error_description"].(string), "already used") {
			t.Fatalf("replayed mfa_token: %d %v", st, body)
		}

		// A newer mfa_token replaces an older one.
		old, cur := mfaStep(), mfaStep()
		if st, _ := h.terminalOTP(old, totpCode(t, sec, h.clock.Now())); st != http.StatusBadRequest {
			t.Fatalf("superseded mfa_token: %d", st)
		}
		// A recovery code works, once.
		if st, body := h.terminalOTP(cur, recovery[0]); st != http.StatusOK {
			t.Fatalf("recovery code: %d %v", st, body)
		}
		if st, _ := h.terminalOTP(mfaStep(), recovery[0]); st != http.StatusBadRequest {
			t.Fatalf("used recovery code: %d", st)
		}

		// Tampered, expired, or another client's mfa_token.
		mt = mfaStep()
		if st, _ := h.terminalOTP(mt[:len(mt)-2]+"AA", totpCode(t, sec, h.clock.Now())); st != http.StatusBadRequest {
			t.Fatalf("tampered mfa_token: %d", st)
		}
		h.clock.Advance(oauth.TerminalMFATTL + time.Second)
		if st, body := h.terminalOTP(mt, totpCode(t, sec, h.clock.Now())); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant {
			t.Fatalf("expired mfa_token: %d %v", st, body)
		}
		mt = mfaStep()
		otherSec := h.addClient(storage.Client{ID: "tool", Name: "Tool", GrantTypes: []string{"refresh_token"}, FirstParty: true, TerminalLogin: true})
		st, body, _ = h.postForm(PathToken, url.Values{"grant_type": {protocol.GrantMFAOTP}, "mfa_token": {mt},
			"otp": {totpCode(t, sec, h.clock.Now())}}, "tool", otherSec)
		if st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant {
			t.Fatalf("another client's mfa_token: %d %v", st, body)
		}
		// Nor may a user disabled in between finish.
		if err := h.store.UpdateUser(context.Background(), alice.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if st, body := h.terminalOTP(mt, totpCode(t, sec, h.clock.Now())); st != http.StatusBadRequest || errCode(body) != protocol.ErrInvalidGrant {
			t.Fatalf("disabled user's mfa_token: %d %v", st, body)
		}
	})
}

// TestTerminalLoginMFABackoff: wrong codes back off as on the login page.
func TestTerminalLoginMFABackoff(t *testing.T) {
	h := newHarness(t)
	h.allowTerminalLogin(CLIClientID)
	alice := h.addUser("alice", "correct horse battery", "viewer")
	sec, _ := h.enrolTOTP(alice)
	_, body, _ := h.terminal("alice", "correct horse battery")
	mt := body["mfa_token"].(string)
	for range secondfactor.FreeFailures + 1 {
		if st, _ := h.terminalOTP(mt, h.wrongCode(sec)); st != http.StatusBadRequest {
			t.Fatalf("wrong code: %d", st)
		}
	}
	st, body := h.terminalOTP(mt, totpCode(t, sec, h.clock.Now()))
	if st != http.StatusTooManyRequests || errCode(body) != protocol.ErrTooManyRequests {
		t.Fatalf("right code while backing off: %d %v", st, body)
	}
}

// TestTerminalLoginMFARequiredRole: a user whose role needs MFA and who has
// not enrolled is sent to a browser, never given tokens.
func TestTerminalLoginMFARequiredRole(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.MFA.RequiredRoles = []string{"admin"} })
	h.allowTerminalLogin(CLIClientID)
	h.addUser("root", "correct horse battery", "admin")
	st, body, _ := h.terminal("root", "correct horse battery")
	if st != http.StatusForbidden || errCode(body) != protocol.ErrAccessDenied || body["access_token"] != nil {
		t.Fatalf("admin without TOTP: %d %v", st, body)
	}
	if d, _ := body["error_description"].(string); !strings.Contains(d, PathAccount) {
		t.Errorf("description does not point to the account page: %q", d)
	}
}

// TestAdminClientTerminalLogin: the admin API turns terminal sign-in on
// for a first-party client (and the password grant then works), never for
// a third-party one, at creation or later.
func TestAdminClientTerminalLogin(t *testing.T) {
	f := newAdminFixture(t)
	if st, _, _ := f.terminal("alice", "correct horse battery"); st != http.StatusBadRequest {
		t.Fatalf("before: %d", st)
	}
	m := f.mustCall(200, "PATCH", "/clients/"+CLIClientID, map[string]any{"terminal_login": true})
	if m["terminal_login"] != true {
		t.Fatalf("PATCH answer %v", m)
	}
	if e := f.waitAudit("client.updated"); e["details"].(map[string]any)["change"] != "terminal_login on" {
		t.Errorf("audit %v", e)
	}
	if st, body, _ := f.terminal("alice", "correct horse battery"); st != http.StatusOK {
		t.Fatalf("after: %d %v", st, body)
	}
	f.mustCall(400, "PATCH", "/clients/web", map[string]any{"terminal_login": true})
	f.mustCall(400, "PATCH", "/clients/"+CLIClientID, map[string]any{})
	f.mustCall(404, "PATCH", "/clients/nope", map[string]any{"terminal_login": true})
	f.mustCall(400, "POST", "/clients", map[string]any{"id": "partner", "name": "Partner", "grant_types": []string{"client_credentials"}, "terminal_login": true})
	m = f.mustCall(201, "POST", "/clients", map[string]any{"id": "own", "name": "Own", "grant_types": []string{"client_credentials"},
		"first_party": true, "terminal_login": true})
	if m["terminal_login"] != true {
		t.Fatalf("create answer %v", m)
	}
	f.mustCall(200, "PATCH", "/clients/"+CLIClientID, map[string]any{"terminal_login": false})
	if st, _, _ := f.terminal("alice", "correct horse battery"); st != http.StatusBadRequest {
		t.Fatalf("after turning it off: %d", st)
	}
}
