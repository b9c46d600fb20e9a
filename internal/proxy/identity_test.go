package proxy

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// identityRules judge by who the caller is rather than by roles.
const identityRules = `
version: 1
rules:
  - name: company
    paths: ["/echo/company/**"]
    email_domains: [example.com]
  - name: ops
    paths: ["/echo/ops/**"]
    groups: [ops-admins]
  - name: board
    paths: ["/echo/board/**"]
    emails: [alice@example.com]
`

func withPolicy(t *testing.T, src string) harnessOption {
	pol, err := policy.Parse([]byte(src), "identity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return func(_ *Config, d *Deps) { d.Policy = pol }
}

// setEmail gives the user record of u an address.
func (h *harness) setEmail(u *storage.User, email string, verified bool) {
	h.t.Helper()
	err := h.srv.Store.UpdateUser(context.Background(), u.ID, func(v *storage.User) error {
		v.Email, v.EmailVerified = email, verified
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// loginWith logs a new browser in with l as the issuer's answer.
func (h *harness) loginWith(l *Login) *http.Client {
	h.t.Helper()
	c := h.client()
	res := h.get(c, PathLogin+"?rd=/", nil)
	if res.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login start: %d", res.StatusCode)
	}
	state := locationQuery(h.t, res, "state")
	code := "code-" + l.Subject
	h.provider.mu.Lock()
	h.provider.logins[code] = l
	h.provider.mu.Unlock()
	if res := h.get(c, PathCallback+"?state="+state+"&code="+code, nil); res.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("callback: %d", res.StatusCode)
	}
	return c
}

func locationQuery(t *testing.T, res *http.Response, key string) string {
	t.Helper()
	loc, err := res.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get(key)
}

// TestIdentityRulesEmbeddedSessions: with the embedded server, a browser
// session is judged on the user record's address (and whether it is
// verified) and on the groups the server vouched for at login.
func TestIdentityRulesEmbeddedSessions(t *testing.T) {
	h := newHarness(t, withPolicy(t, identityRules))
	alice := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	bob := h.srv.AddUser(t, "bob", "pw-bob-12345", "viewer")
	eve := h.srv.AddUser(t, "eve", "pw-eve-12345", "viewer")
	h.setEmail(alice, "Alice@Example.com", true)
	h.setEmail(bob, "bob@other.org", true)
	h.setEmail(eve, "eve@example.com", false)

	ca := h.loginWith(&Login{Subject: alice.ID, Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Roles: alice.Roles, Groups: []string{"ops-admins"}, AuthTime: h.srv.Clock.Now()})
	cb := h.loginWith(&Login{Subject: bob.ID, Username: "bob", Email: "bob@other.org", EmailVerified: true,
		Roles: bob.Roles, Groups: []string{"analysts"}, AuthTime: h.srv.Clock.Now()})
	// The login said verified; the user record, which wins, says not.
	ce := h.loginWith(&Login{Subject: eve.ID, Username: "eve", Email: "eve@example.com", EmailVerified: true,
		Roles: eve.Roles, AuthTime: h.srv.Clock.Now()})

	for _, tt := range []struct {
		who  string
		c    *http.Client
		path string
		want int
	}{
		{"alice", ca, "/echo/company/x", http.StatusOK},
		{"alice", ca, "/echo/ops/x", http.StatusOK},
		{"alice", ca, "/echo/board/x", http.StatusOK},
		{"bob", cb, "/echo/company/x", http.StatusForbidden},
		{"bob", cb, "/echo/ops/x", http.StatusForbidden},
		{"bob", cb, "/echo/board/x", http.StatusForbidden},
		{"eve (unverified)", ce, "/echo/company/x", http.StatusForbidden},
	} {
		if res := h.get(tt.c, tt.path, nil); res.StatusCode != tt.want {
			t.Errorf("%s %s: status %d, want %d", tt.who, tt.path, res.StatusCode, tt.want)
		}
	}

	// A changed address applies to the session at once (user directory).
	h.setEmail(bob, "bob@example.com", true)
	h.users.Observe(audit.Event{Type: audit.UserUpdated, UserID: bob.ID, Details: map[string]string{"change": "email set"}})
	if res := h.get(cb, "/echo/company/x", nil); res.StatusCode != http.StatusOK {
		t.Errorf("bob after moving to example.com: status %d, want 200", res.StatusCode)
	}
}

// TestIdentityRulesEmbeddedBearer: an API key acting as a user is judged
// on the user record's address.
func TestIdentityRulesEmbeddedBearer(t *testing.T) {
	h := newHarness(t, withPolicy(t, identityRules))
	alice := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	bob := h.srv.AddUser(t, "bob", "pw-bob-12345", "viewer")
	h.setEmail(alice, "alice@example.com", true)
	h.setEmail(bob, "bob@other.org", true)
	_, ka := h.apiKey(alice, "viewer")
	_, kb := h.apiKey(bob, "viewer")
	bearer := func(k string) http.Header { return http.Header{"Authorization": {"Bearer " + k}} }
	if res := h.get(h.client(), "/echo/company/x", bearer(ka)); res.StatusCode != http.StatusOK {
		t.Errorf("alice's key: status %d, want 200", res.StatusCode)
	}
	if res := h.get(h.client(), "/echo/board/x", bearer(ka)); res.StatusCode != http.StatusOK {
		t.Errorf("alice's key on /board: status %d, want 200", res.StatusCode)
	}
	if res := h.get(h.client(), "/echo/company/x", bearer(kb)); res.StatusCode != http.StatusForbidden {
		t.Errorf("bob's key: status %d, want 403", res.StatusCode)
	}
	// A client's token has no user and no address.
	if res := h.get(h.client(), "/echo/company/x", bearer(h.clientToken("etl", "viewer"))); res.StatusCode != http.StatusForbidden {
		t.Errorf("client token: status %d, want 403", res.StatusCode)
	}
}

// TestIdentityRulesExternalBearer: with another issuer, a bearer JWT is
// judged on its email, email_verified and groups claims.
func TestIdentityRulesExternalBearer(t *testing.T) {
	idp := newFakeIdP(t, false, false)
	for _, groupsClaim := range []string{"groups", ""} {
		t.Run("groups claim "+groupsClaim, func(t *testing.T) {
			g, err := openExternalGatewayWith(t, idp.srv.URL, identityRules, func(c *Config) { c.GroupsClaim = groupsClaim })
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name   string
				path   string
				claims map[string]any
				want   int
			}{
				{"domain", "/echo/company/x", nil, http.StatusOK},
				{"domain, verified", "/echo/company/x", map[string]any{"email_verified": true}, http.StatusOK},
				{"domain, unverified", "/echo/company/x", map[string]any{"email_verified": false}, http.StatusForbidden},
				{"domain, unverified as a string", "/echo/company/x", map[string]any{"email_verified": "false"}, http.StatusForbidden},
				{"other domain", "/echo/company/x", map[string]any{"email": "bob@other.org"}, http.StatusForbidden},
				{"suffix of the domain", "/echo/company/x", map[string]any{"email": "eve@evilexample.com"}, http.StatusForbidden},
				{"subdomain", "/echo/company/x", map[string]any{"email": "eve@eu.example.com"}, http.StatusForbidden},
				{"no email", "/echo/company/x", map[string]any{"email": nil}, http.StatusForbidden},
				{"email", "/echo/board/x", map[string]any{"email": "ALICE@example.com"}, http.StatusOK},
				{"other email", "/echo/board/x", map[string]any{"email": "alice2@example.com"}, http.StatusForbidden},
				{"group", "/echo/ops/x", map[string]any{"groups": []string{"analysts", "ops-admins"}}, http.StatusOK},
				{"one group as a string", "/echo/ops/x", map[string]any{"groups": "ops-admins"}, http.StatusOK},
				{"other group", "/echo/ops/x", map[string]any{"groups": []string{"analysts"}}, http.StatusForbidden},
				{"no groups", "/echo/ops/x", nil, http.StatusForbidden},
				{"a role is not a group", "/echo/ops/x", map[string]any{"realm_access": map[string]any{"roles": []string{"ops-admins"}}}, http.StatusForbidden},
			} {
				if w := g.get(tt.path, idp.token("JWT", tt.claims)); w.Code != tt.want {
					t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.want)
				}
			}
		})
	}
}

func TestEmailVerifiedClaim(t *testing.T) {
	for _, tt := range []struct {
		claims map[string]any
		want   bool
	}{
		{map[string]any{}, true},
		{map[string]any{"email_verified": true}, true},
		{map[string]any{"email_verified": false}, false},
		{map[string]any{"email_verified": "true"}, true},
		{map[string]any{"email_verified": "false"}, false},
		{map[string]any{"email_verified": nil}, false},
		{map[string]any{"email_verified": 1.0}, false},
	} {
		if got := emailVerified(tt.claims); got != tt.want {
			t.Errorf("emailVerified(%v) = %v, want %v", tt.claims, got, tt.want)
		}
	}
}

// TestOIDCLoginIdentity: a login at another issuer gives the session its
// address, whether the issuer vouched for it, and its groups.
func TestOIDCLoginIdentity(t *testing.T) {
	idp := newNonceIdP(t)
	const nonce = "n-0123456789abcdef0123456789abcdef"
	login := func(cfg OIDCConfig, claims map[string]any) *Login {
		t.Helper()
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = idp.URL, "gateway", "s", "https://gw.test/callback"
		cfg.Scopes, cfg.RolesClaim, cfg.HTTPClient = []string{"openid"}, "roles", idp.Client()
		p, err := NewOIDCProvider(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := map[string]any{"sub": "u-1", "preferred_username": "alice", "nonce": nonce, "roles": []string{"viewer"}}
		for k, v := range claims {
			c[k] = v
		}
		idp.setClaims(c)
		l, err := p.Exchange(t.Context(), "code-1", "verifier-0123456789abcdef0123456789abcdef0123", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := login(OIDCConfig{}, map[string]any{"email": "alice@example.com", "groups": []string{"ops-admins"}})
	if l.Email != "alice@example.com" || !l.EmailVerified || len(l.Groups) != 1 || l.Groups[0] != "ops-admins" {
		t.Errorf("default claims: %+v", l)
	}
	if len(l.Roles) != 1 || l.Roles[0] != "viewer" {
		t.Errorf("groups became roles without --groups-claim: %v", l.Roles)
	}
	if l := login(OIDCConfig{}, map[string]any{"email": "alice@example.com", "email_verified": false}); l.EmailVerified {
		t.Errorf("email_verified false: %+v", l)
	}
	l = login(OIDCConfig{GroupsClaim: "teams"}, map[string]any{"teams": []string{"sre"}, "groups": []string{"other"}})
	if len(l.Groups) != 1 || l.Groups[0] != "sre" || len(l.Roles) != 2 {
		t.Errorf("--groups-claim teams: groups %v roles %v", l.Groups, l.Roles)
	}
	l = login(OIDCConfig{IdentityGroupsClaim: "directory_groups"}, map[string]any{"directory_groups": []string{"analysts"}})
	if len(l.Groups) != 1 || l.Groups[0] != "analysts" || len(l.Roles) != 1 {
		t.Errorf("embedded-style groups claim: groups %v roles %v", l.Groups, l.Roles)
	}
}
