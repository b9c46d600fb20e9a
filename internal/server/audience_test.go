package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The rules of "Tokens, audiences and scopes" (docs/server.md), each a
// case that fails when its check is removed.

// audOf is the aud claim of an access token.
func audOf(t *testing.T, tok string) []string {
	t.Helper()
	var out []string
	for _, a := range claimsOf(t, tok)["aud"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

func TestAudienceOfClientCredentials(t *testing.T) { onEachBackend(t, testAudienceOfClientCredentials) }

func testAudienceOfClientCredentials(t *testing.T, open storeOpener) {
	f := newUserFixtureOn(newHarnessOn(t, open))
	plainSec := f.addClient(storage.Client{ID: "plain", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	apiSec := f.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"},
		Audiences: []string{"https://api.example", "https://other.example"}})
	cc := func(id, sec string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {"client_credentials"}}
		for k, v := range extra {
			form[k] = v
		}
		st, body, _ := f.postForm(PathToken, form, id, sec)
		return st, body
	}
	tests := []struct {
		name     string
		id, sec  string
		resource []string
		wantAud  []string
		wantErr  string
	}{
		{"no audiences registered: the client's own id", "plain", plainSec, nil, []string{"plain"}, ""},
		{"default: every registered audience", "ci", apiSec, nil, []string{"https://api.example", "https://other.example"}, ""},
		{"one resource asked for", "ci", apiSec, []string{"https://other.example"}, []string{"https://other.example"}, ""},
		{"two resources asked for", "ci", apiSec, []string{"https://api.example", "https://other.example"}, []string{"https://api.example", "https://other.example"}, ""},
		{"a resource not registered", "ci", apiSec, []string{"https://evil.example"}, nil, "invalid_target"},
		{"the issuer is no audience", "plain", plainSec, []string{"ISSUER"}, nil, "invalid_target"},
		{"admin resource, third-party client", "ci", apiSec, []string{"ADMIN"}, nil, "invalid_target"},
		{"account resource, third-party client", "ci", apiSec, []string{"ACCOUNT"}, nil, "invalid_target"},
		{"not an absolute URI", "ci", apiSec, []string{"api.example"}, nil, "invalid_target"},
		{"a fragment", "ci", apiSec, []string{"https://api.example#x"}, nil, "invalid_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res []string
			for _, r := range tt.resource {
				r = strings.NewReplacer("ISSUER", f.issuer, "ADMIN", oauth.AdminResource(f.issuer), "ACCOUNT", oauth.AccountResource(f.issuer)).Replace(r)
				res = append(res, r)
			}
			st, body := cc(tt.id, tt.sec, url.Values{"resource": res})
			if tt.wantErr != "" {
				if st != http.StatusBadRequest || errCode(body) != tt.wantErr {
					t.Fatalf("got %d %v, want 400 %s", st, body, tt.wantErr)
				}
				return
			}
			if st != http.StatusOK {
				t.Fatalf("got %d %v", st, body)
			}
			if got := audOf(t, body["access_token"].(string)); !slices.Equal(got, tt.wantAud) {
				t.Errorf("aud = %v, want %v", got, tt.wantAud)
			}
			if in := f.introspect(body["access_token"].(string)); in["active"] != true || len(in["aud"].([]any)) != len(tt.wantAud) {
				t.Errorf("introspection: %v, want active with aud %v", in, tt.wantAud)
			}
		})
	}
}

// A third-party client's token is refused by the admin and account APIs,
// whatever the user may do; only a first-party client's token for that
// resource with that scope is accepted.
func TestOwnAPIsNeedTheirAudienceAndScope(t *testing.T) {
	onEachBackend(t, testOwnAPIsNeedTheirAudienceAndScope)
}

func testOwnAPIsNeedTheirAudienceAndScope(t *testing.T, open storeOpener) {
	f := newAdminFixtureOn(newHarnessOn(t, open))
	admin := f.admin.ID
	// The web client is third-party: a token the admin's login gave it.
	webTok := func() string {
		f.t.Helper()
		code := f.insertCode(codeOpts{clientID: "web", userID: admin, redirectURI: f.webRedirect, scopes: []string{"openid"},
			challenge: s256(testVerifier), method: "S256"})
		st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret)
		if st != 200 {
			t.Fatalf("code exchange: %d %v", st, body)
		}
		return body["access_token"].(string)
	}()
	adminRes, accountRes := oauth.AdminResource(f.issuer), oauth.AccountResource(f.issuer)
	tests := []struct {
		name                 string
		tok                  string
		wantAdmin, wantAcct  int
		wantAdminErr, acctEr string
	}{
		{"third-party client, openid", webTok, 403, 403, "insufficient_scope", "insufficient_scope"},
		{"first-party, no resource", f.resourceToken(admin, []string{"openid"}, nil), 403, 403, "insufficient_scope", "insufficient_scope"},
		{"first-party, admin scope without the admin resource", f.resourceToken(admin, []string{"openid", oauth.ScopeAdmin}, []string{accountRes}), 403, 403, "insufficient_scope", "insufficient_scope"},
		{"first-party, admin resource without the admin scope", f.resourceToken(admin, []string{"openid"}, []string{adminRes}), 403, 403, "insufficient_scope", "insufficient_scope"},
		{"first-party, admin resource and scope", f.resourceToken(admin, []string{"openid", oauth.ScopeAdmin}, []string{adminRes}), 200, 403, "", "insufficient_scope"},
		{"first-party, account resource and scope", f.resourceToken(admin, []string{"openid", oauth.ScopeAccount}, []string{accountRes}), 403, 200, "insufficient_scope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body, _ := f.adminCall("GET", "/users", tt.tok, nil)
			if st != tt.wantAdmin || (tt.wantAdminErr != "" && errCode(body) != tt.wantAdminErr) {
				t.Errorf("admin API: %d %v, want %d %s", st, body, tt.wantAdmin, tt.wantAdminErr)
			}
			st, body = accountAPI(t, f.testHarness, nil, accountapi.PathMFAEnroll, tt.tok, "")
			if st != tt.wantAcct || (tt.acctEr != "" && errCode(body) != tt.acctEr) {
				t.Errorf("account API: %d %v, want %d %s", st, body, tt.wantAcct, tt.acctEr)
			}
			if st == 200 {
				if err := f.store.DeleteTOTP(t.Context(), admin); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	// A client marked first-party no more: its admin tokens stop working.
	tok := f.resourceToken(admin, []string{oauth.ScopeAdmin}, []string{adminRes})
	if err := f.store.UpdateClient(t.Context(), "console", func(c *storage.Client) error { c.FirstParty = false; return nil }); err != nil {
		t.Fatal(err)
	}
	f.srv.clients.Forget("console")
	if st, body, _ := f.adminCall("GET", "/users", tok, nil); st != 403 {
		t.Errorf("token of a client no longer first-party: %d %v, want 403", st, body)
	}
}

// Client credentials: a first-party client with the admin role reaches the
// admin API only with a token it asked for the admin resource and scope.
func TestAdminByClientCredentials(t *testing.T) { onEachBackend(t, testAdminByClientCredentials) }

func testAdminByClientCredentials(t *testing.T, open storeOpener) {
	f := newAdminFixtureOn(newHarnessOn(t, open))
	sec := f.addClient(storage.Client{ID: "ops-bot", GrantTypes: []string{"client_credentials"}, Roles: []string{"admin"}, FirstParty: true})
	third := f.addClient(storage.Client{ID: "bot", GrantTypes: []string{"client_credentials"}, Roles: []string{"admin"}, Scopes: []string{"read"}})
	get := func(id, sec string, form url.Values) (int, map[string]any) {
		form.Set("grant_type", "client_credentials")
		st, body, _ := f.postForm(PathToken, form, id, sec)
		return st, body
	}
	st, body := get("ops-bot", sec, url.Values{})
	if st != 200 {
		t.Fatalf("default token: %d %v", st, body)
	}
	if sc, _ := body["scope"].(string); strings.Contains(sc, oauth.ScopeAdmin) {
		t.Errorf("the admin scope was granted by default: %q", sc)
	}
	if st, _, _ := f.adminCall("GET", "/users", body["access_token"].(string), nil); st != 403 {
		t.Errorf("default token at the admin API: %d, want 403", st)
	}
	st, body = get("ops-bot", sec, url.Values{"scope": {oauth.ScopeAdmin}, "resource": {oauth.AdminResource(f.issuer)}})
	if st != 200 {
		t.Fatalf("admin token: %d %v", st, body)
	}
	if st, body, _ := f.adminCall("GET", "/users", body["access_token"].(string), nil); st != 200 {
		t.Errorf("admin token at the admin API: %d %v, want 200", st, body)
	}
	if st, body := get("bot", third, url.Values{"scope": {oauth.ScopeAdmin}}); st != 400 || errCode(body) != "invalid_scope" {
		t.Errorf("third-party client asks for the admin scope: %d %v, want invalid_scope", st, body)
	}
	if st, body := get("bot", third, url.Values{"resource": {oauth.AdminResource(f.issuer)}}); st != 400 || errCode(body) != "invalid_target" {
		t.Errorf("third-party client asks for the admin resource: %d %v, want invalid_target", st, body)
	}
}

// Registration refuses the admin and account scopes and resources for a
// client that is not first-party, over the admin API.
func TestRegistrationRefusesOwnAPIsForThirdParty(t *testing.T) {
	onEachBackend(t, testRegistrationRefusesOwnAPIsForThirdParty)
}

func testRegistrationRefusesOwnAPIsForThirdParty(t *testing.T, open storeOpener) {
	f := newAdminFixtureOn(newHarnessOn(t, open))
	base := map[string]any{"name": "Wiki", "grant_types": []string{"authorization_code"}, "redirect_uris": []string{"https://wiki.example/cb"}}
	with := func(id string, extra map[string]any) map[string]any {
		m := map[string]any{"id": id}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		extra map[string]any
		want  int
	}{
		{"admin scope", map[string]any{"scopes": []string{"openid", "admin"}}, 400},
		{"account scope", map[string]any{"scopes": []string{"account"}}, 400},
		{"admin resource", map[string]any{"audiences": []string{oauth.AdminResource(f.issuer)}}, 400},
		{"account resource", map[string]any{"audiences": []string{oauth.AccountResource(f.issuer)}}, 400},
		{"relative audience", map[string]any{"audiences": []string{"/api"}}, 400},
		{"first-party may", map[string]any{"scopes": []string{"admin"}, "audiences": []string{oauth.AdminResource(f.issuer)}, "first_party": true}, 201},
		{"another audience", map[string]any{"audiences": []string{"https://wiki.example/api"}}, 201},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := strings.ReplaceAll(tt.name, " ", "-")
			st, body, _ := f.adminCall("POST", "/clients", f.adminToken, with(id, tt.extra))
			if st != tt.want {
				t.Errorf("create: %d %v, want %d", st, body, tt.want)
			}
		})
	}
}

// RFC 8707 §2.2 at the token endpoint: a resource that was not authorised
// is invalid_target, and the code or refresh token stays usable.
func TestNarrowingAtTheTokenEndpoint(t *testing.T) { onEachBackend(t, testNarrowingAtTheTokenEndpoint) }

func testNarrowingAtTheTokenEndpoint(t *testing.T, open storeOpener) {
	f := newUserFixtureOn(newHarnessOn(t, open))
	sec := f.addClient(storage.Client{ID: "app", RedirectURIs: []string{f.webRedirect}, GrantTypes: []string{"authorization_code", "refresh_token"},
		Scopes: []string{"read"}, Audiences: []string{"https://a.example", "https://b.example"}})
	code := f.insertCode(codeOpts{clientID: "app", userID: f.user.ID, redirectURI: f.webRedirect, scopes: []string{"read"},
		resources: []string{"https://a.example", "https://b.example"}, challenge: s256(testVerifier), method: "S256"})
	exchange := func(resource ...string) (int, map[string]any) {
		st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}, "resource": resource}, "app", sec)
		return st, body
	}
	if st, body := exchange("https://c.example"); st != 400 || errCode(body) != "invalid_target" {
		t.Fatalf("code with an unauthorised resource: %d %v", st, body)
	}
	st, body := exchange("https://b.example")
	if st != 200 {
		t.Fatalf("the code was spent by a refused request: %d %v", st, body)
	}
	if got := audOf(t, body["access_token"].(string)); !slices.Equal(got, []string{"https://b.example"}) {
		t.Errorf("narrowed aud = %v", got)
	}
	rt := body["refresh_token"].(string)
	if st, body := f.refresh("app", sec, rt, url.Values{"resource": {"https://c.example"}}); st != 400 || errCode(body) != "invalid_target" {
		t.Fatalf("refresh with an unauthorised resource: %d %v", st, body)
	}
	st, body = f.refresh("app", sec, rt, url.Values{"resource": {"https://a.example"}})
	if st != 200 {
		t.Fatalf("the refresh token was spent by a refused request: %d %v", st, body)
	}
	if got := audOf(t, body["access_token"].(string)); !slices.Equal(got, []string{"https://a.example"}) {
		t.Errorf("refresh aud = %v", got)
	}
	// Without a resource: the whole grant.
	st, body = f.refresh("app", sec, body["refresh_token"].(string), nil)
	if got := audOf(t, body["access_token"].(string)); st != 200 || !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("refresh without resource: %d aud %v", st, got)
	}
}

// The reuse interval: a repeat by the same client soon after rotation is
// refused without revoking the family; after it, reuse revokes.
func TestRefreshReuseInterval(t *testing.T) { onEachBackend(t, testRefreshReuseInterval) }

func testRefreshReuseInterval(t *testing.T, open storeOpener) {
	f := newUserFixtureOn(newHarnessOn(t, open))
	first := f.codeTokens("read")
	st, second := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, second)
	}
	f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) - time.Second)
	st, repeat := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st != 400 || errCode(repeat) != "invalid_grant" {
		t.Fatalf("repeat within the interval: %d %v, want invalid_grant", st, repeat)
	}
	if a := f.waitAudit("refresh.reuse"); !strings.Contains(a["reason"].(string), "kept") {
		t.Errorf("audit of a repeat: %v", a)
	}
	if in := f.introspect(second["access_token"].(string)); in["active"] != true {
		t.Errorf("the successor's access token was revoked by a repeat within the interval: %v", in)
	}
	// Another client presenting it is no repeat of its own: invalid_grant,
	// as for any token of another client.
	if st, _ := f.refresh("other", f.otherSecret, first["refresh_token"].(string), nil); st != 400 {
		t.Errorf("another client: %d", st)
	}
	st, third := f.refresh("web", f.webSecret, second["refresh_token"].(string), nil)
	if st != 200 {
		t.Fatalf("the successor no longer refreshes after a repeat within the interval: %d %v", st, third)
	}
	// After the interval the old token is reuse: the family is revoked.
	f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) + time.Second)
	if st, _ := f.refresh("web", f.webSecret, second["refresh_token"].(string), nil); st != 400 {
		t.Fatalf("reuse after the interval: %d", st)
	}
	if st, body := f.refresh("web", f.webSecret, third["refresh_token"].(string), nil); st != 400 {
		t.Errorf("family not revoked by reuse after the interval: %d %v", st, body)
	}
}

func TestRefreshReuseIntervalZeroRevokesAtOnce(t *testing.T) {
	onEachBackend(t, testRefreshReuseIntervalZeroRevokesAtOnce)
}

func testRefreshReuseIntervalZeroRevokesAtOnce(t *testing.T, open storeOpener) {
	h := newHarnessOn(t, open, func(c *config.Server) { c.Tokens.RefreshReuseInterval = 0 })
	f := &userFixture{testHarness: h, webRedirect: "https://app.example/cb"}
	f.user = h.addUser("alice", "correct horse battery")
	f.webSecret = h.addClient(storage.Client{ID: "web", RedirectURIs: []string{f.webRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read"}})
	first := f.codeTokens("read")
	_, second := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st, _ := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil); st != 400 {
		t.Fatalf("reuse: %d", st)
	}
	if st, _ := f.refresh("web", f.webSecret, second["refresh_token"].(string), nil); st != 400 {
		t.Errorf("with a zero interval a repeat did not revoke the family")
	}
}

// Starting an MFA enrolment over the account API needs a recent sign-in
// or the current password.
func TestAccountAPINeedsRecentAuthentication(t *testing.T) {
	onEachBackend(t, testAccountAPINeedsRecentAuthentication)
}

func testAccountAPINeedsRecentAuthentication(t *testing.T, open storeOpener) {
	f := newUserFixtureOn(newHarnessOn(t, open))
	// A token of a sign-in older than the window (as a refresh gives).
	old := f.clock.Now().Add(-time.Duration(f.cfg.Tokens.AccountRecentAuth) - time.Second)
	tok := f.resourceTokenAuthTime(f.user.ID, []string{oauth.ScopeAccount}, []string{oauth.AccountResource(f.issuer)}, old)
	for _, tt := range []struct {
		name, body string
		want       int
		wantErr    string
	}{
		{"old sign-in, no password", "", 401, "reauthentication_required"},
		{"old sign-in, wrong password", `{"password":"wrong password"}`, 401, "reauthentication_required"},
		{"not JSON", `{"password":`, 400, "invalid_request"},
		{"old sign-in, current password", `{"password":"correct horse battery"}`, 200, ""},
	} {
		st, body := accountAPI(t, f.testHarness, nil, accountapi.PathMFAEnroll, tok, tt.body)
		if st != tt.want || (tt.wantErr != "" && errCode(body) != tt.wantErr) {
			t.Errorf("%s: %d %v, want %d %s", tt.name, st, body, tt.want, tt.wantErr)
		}
	}
}
