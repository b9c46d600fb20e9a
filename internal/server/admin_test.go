package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// userIsAdmin reports whether u is an enabled admin.
func userIsAdmin(u *storage.User) bool { return !u.Disabled && slices.Contains(u.Roles, RoleAdmin) }

// adminFixture is a userFixture with the bootstrap admin's access token.
type adminFixture struct {
	*userFixture
	admin      *storage.User
	adminToken string
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	return newAdminFixtureOn(newHarness(t))
}

// newAdminFixtureOn is newAdminFixture on the harness h.
func newAdminFixtureOn(h *testHarness) *adminFixture {
	t := h.t
	t.Helper()
	f := &adminFixture{userFixture: newUserFixtureOn(h)}
	a, err := f.store.GetUserByName(context.Background(), AdminUsername)
	if err != nil {
		t.Fatal(err)
	}
	f.admin = a
	f.adminToken = f.tokenFor(a.ID)
	return f
}

// tokenFor returns an admin API access token of the first-party console
// client for a user: audience the admin resource, scope admin.
func (f *adminFixture) tokenFor(userID string) string {
	f.t.Helper()
	return f.resourceToken(userID, []string{"openid", oauth.ScopeAdmin}, []string{oauth.AdminResource(f.issuer)})
}

// adminCall sends a request to the admin API with a bearer token (none if
// empty) and a JSON body (none if nil), and returns the status, the
// decoded body and the headers.
func (h *testHarness) adminCall(method, path, token string, body any) (int, map[string]any, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url(PathAdmin+path), rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return h.doJSON(req)
}

func (f *adminFixture) mustCall(want int, method, path string, body any) map[string]any {
	f.t.Helper()
	st, m, _ := f.adminCall(method, path, f.adminToken, body)
	if st != want {
		f.t.Fatalf("%s %s: status %d, want %d: %v", method, path, st, want, m)
	}
	return m
}

func wantUnauthorized(t *testing.T, what string, st int, body map[string]any, hdr http.Header) {
	t.Helper()
	if st != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401 (%v)", what, st, body)
	}
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: WWW-Authenticate %q, want Bearer", what, hdr.Get("WWW-Authenticate"))
	}
	if errCode(body) == "" {
		t.Errorf("%s: no error code in %v", what, body)
	}
}

func TestAdminAuthentication(t *testing.T) {
	f := newAdminFixture(t)

	st, body, hdr := f.adminCall("GET", "/users", "", nil)
	wantUnauthorized(t, "no token", st, body, hdr)
	st, body, hdr = f.adminCall("GET", "/users", "garbage", nil)
	wantUnauthorized(t, "garbage token", st, body, hdr)
	st, body, hdr = f.adminCall("GET", "/users", "gatehouse_0123456789abcdef_nope", nil)
	wantUnauthorized(t, "unknown API key", st, body, hdr)

	// The browser session of the admin is not a credential here.
	sess := secret.NewToken()
	now := f.clock.Now()
	if err := f.store.CreateSession(context.Background(), &storage.Session{Hash: secret.Hash(sess), UserID: f.admin.ID,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.url(PathAdmin+"/users"), nil)
	req.AddCookie(&http.Cookie{Name: f.srv.sessions.CookieName(browser.SessionCookie), Value: sess})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session cookie: status %d, want 401", resp.StatusCode)
	}

	f.mustCall(200, "GET", "/users", nil)

	// An expired access token.
	f.clock.Advance(time.Duration(f.cfg.Tokens.AccessTokenTTL) + time.Second)
	st, body, hdr = f.adminCall("GET", "/users", f.adminToken, nil)
	wantUnauthorized(t, "expired token", st, body, hdr)
}

func TestAdminNeedsAdminRole(t *testing.T) {
	f := newAdminFixture(t)
	viewer := f.addUser("vera", "correct horse battery", "viewer")
	tok := f.tokenFor(viewer.ID)
	for _, c := range []struct{ method, path string }{{"GET", "/users"}, {"POST", "/keys/rotate"}, {"GET", "/audit"}} {
		st, body, hdr := f.adminCall(c.method, c.path, tok, nil)
		if st != http.StatusForbidden || errCode(body) != "insufficient_scope" {
			t.Errorf("viewer %s %s: %d %v, want 403 insufficient_scope", c.method, c.path, st, body)
		}
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("viewer: WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
		}
	}

	// A non-admin API key, and a key acting as an admin but limited to viewer.
	_, key := f.addAPIKey(storage.APIKey{Roles: []string{"editor"}})
	if st, body, _ := f.adminCall("GET", "/users", key, nil); st != http.StatusForbidden {
		t.Errorf("editor API key: %d %v, want 403", st, body)
	}
	_, key = f.addAPIKey(storage.APIKey{UserID: f.admin.ID, Roles: []string{"viewer"}})
	if st, body, _ := f.adminCall("GET", "/users", key, nil); st != http.StatusForbidden {
		t.Errorf("admin's API key limited to viewer: %d %v, want 403", st, body)
	}

	// An admin API key works.
	_, key = f.addAPIKey(storage.APIKey{Roles: []string{"admin"}})
	if st, body, _ := f.adminCall("GET", "/users", key, nil); st != http.StatusOK {
		t.Errorf("admin API key: %d %v, want 200", st, body)
	}

	// Roles come from the database: a demoted admin's token stops working.
	second := f.addUser("root2", "correct horse battery", "admin")
	tok = f.tokenFor(second.ID)
	if st, _, _ := f.adminCall("GET", "/users", tok, nil); st != http.StatusOK {
		t.Fatalf("second admin: %d", st)
	}
	f.mustCall(200, "PATCH", "/users/"+second.ID, map[string]any{"roles": []string{"viewer"}})
	if st, _, _ := f.adminCall("GET", "/users", tok, nil); st != http.StatusForbidden {
		t.Errorf("demoted admin: %d, want 403", st)
	}
}

func TestAdminUsers(t *testing.T) {
	f := newAdminFixture(t)
	u := f.mustCall(201, "POST", "/users", map[string]any{"username": "Bob", "password": "a long enough password", "roles": []string{"editor"}})
	id, _ := u["id"].(string)
	if id == "" || u["username"] != "bob" {
		t.Fatalf("create: %v", u)
	}
	if _, ok := u["password_hash"]; ok {
		t.Error("create shows the password hash")
	}
	ev := f.waitAudit("user.created")
	if ev["actor"] != "user:"+f.admin.ID || ev["user_id"] != id {
		t.Errorf("audit: %v", ev)
	}
	if st, body, _ := f.adminCall("POST", "/users", f.adminToken, map[string]any{"username": "bob", "password": "a long enough password"}); st != 409 {
		t.Errorf("duplicate: %d %v", st, body)
	}

	got := f.mustCall(200, "GET", "/users/"+id, nil)
	if got["username"] != "bob" {
		t.Errorf("get: %v", got)
	}
	if got := f.mustCall(200, "GET", "/users/bob", nil); got["id"] != id {
		t.Errorf("get by name: %v", got)
	}
	list := f.mustCall(200, "GET", "/users", nil)
	users := list["users"].([]any)
	if len(users) != 3 {
		t.Errorf("list: %d users, want 3", len(users))
	}
	for _, x := range users {
		if _, ok := x.(map[string]any)["password_hash"]; ok {
			t.Error("list shows a password hash")
		}
	}

	upd := f.mustCall(200, "PATCH", "/users/"+id, map[string]any{"roles": []string{"viewer"}, "disabled": true})
	if upd["disabled"] != true || upd["roles"].([]any)[0] != "viewer" {
		t.Errorf("update: %v", upd)
	}
	if ev := f.waitAudit("user.updated"); ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit: %v", ev)
	}
	if st, _, _ := f.adminCall("PATCH", "/users/"+id, f.adminToken, map[string]any{"roles": []string{"root"}}); st != 400 {
		t.Errorf("unknown role: %d", st)
	}

	f.mustCall(204, "PUT", "/users/"+id+"/password", map[string]any{"password": "another long password"})
	stored, err := f.store.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.srv.hasher.Verify(context.Background(), stored.PasswordHash, "another long password"); !ok {
		t.Error("password not set")
	}
	if st, _, _ := f.adminCall("PUT", "/users/"+id+"/password", f.adminToken, map[string]any{"password": "x"}); st != 400 {
		t.Errorf("weak password: %d", st)
	}

	f.mustCall(204, "DELETE", "/users/"+id, nil)
	if ev := f.waitAudit("user.deleted"); ev["user_id"] != id || ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit: %v", ev)
	}
	if st, body, _ := f.adminCall("GET", "/users/"+id, f.adminToken, nil); st != 404 || errCode(body) != "not_found" {
		t.Errorf("after delete: %d %v", st, body)
	}
}

func TestAdminLastAdmin(t *testing.T) {
	f := newAdminFixture(t)
	path := "/users/" + f.admin.ID
	for _, c := range []struct {
		method string
		body   any
	}{
		{"DELETE", nil},
		{"PATCH", map[string]any{"roles": []string{"viewer"}}},
		{"PATCH", map[string]any{"disabled": true}},
	} {
		st, body, _ := f.adminCall(c.method, path, f.adminToken, c.body)
		if st != http.StatusConflict || errCode(body) != "conflict" || !strings.Contains(body["error_description"].(string), "last admin") {
			t.Errorf("%s %v: %d %v, want 409 last admin", c.method, c.body, st, body)
		}
	}
	if u, err := f.store.GetUser(context.Background(), f.admin.ID); err != nil || !userIsAdmin(u) {
		t.Fatalf("admin changed: %v %v", u, err)
	}
	// A disabled admin does not count as another admin.
	f.addUser("dormant", "correct horse battery", "admin")
	if err := f.store.UpdateUser(context.Background(), "u-dormant", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := f.adminCall("DELETE", path, f.adminToken, nil); st != http.StatusConflict {
		t.Errorf("with a disabled second admin: %d, want 409", st)
	}
	// With another enabled admin the change goes through.
	f.addUser("root2", "correct horse battery", "admin")
	f.mustCall(200, "PATCH", path, map[string]any{"roles": []string{"viewer"}})
}

func TestAdminClients(t *testing.T) {
	f := newAdminFixture(t)
	c := f.mustCall(201, "POST", "/clients", map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"},
		"scopes": []string{"read"}, "roles": []string{"viewer"}})
	sec, _ := c["client_secret"].(string)
	if sec == "" || c["id"] != "ci" || c["has_secret"] != true {
		t.Fatalf("create: %v", c)
	}
	if ev := f.waitAudit("client.created"); ev["client_id"] != "ci" || ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit: %v", ev)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if st, body, _ := f.postForm(PathToken, form, "ci", sec); st != 200 {
		t.Fatalf("new client's secret: %d %v", st, body)
	}
	if st, _, _ := f.adminCall("POST", "/clients", f.adminToken, map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}}); st != 409 {
		t.Errorf("duplicate: %d", st)
	}
	if st, _, _ := f.adminCall("POST", "/clients", f.adminToken, map[string]any{"id": "x", "name": "X", "grant_types": []string{"authorization_code"},
		"redirect_uris": []string{"http://evil.example/cb"}}); st != 400 {
		t.Errorf("http redirect URI: %d", st)
	}
	pub := f.mustCall(201, "POST", "/clients", map[string]any{"id": "app", "name": "App", "public": true,
		"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"http://127.0.0.1/callback"}})
	if _, ok := pub["client_secret"]; ok || pub["auth_method"] != "none" {
		t.Errorf("public client: %v", pub)
	}

	for _, m := range []map[string]any{f.mustCall(200, "GET", "/clients/ci", nil), f.mustCall(200, "GET", "/clients", nil)} {
		b, _ := json.Marshal(m)
		if strings.Contains(string(b), sec) || strings.Contains(string(b), secret.Hash(sec)) || strings.Contains(string(b), "secret_hash") {
			t.Errorf("secret shown again: %s", b)
		}
	}
	if n := len(f.mustCall(200, "GET", "/clients", nil)["clients"].([]any)); n != 7 {
		t.Errorf("list: %d clients, want 7 (gatehouse-cli, web, other, rs, console and the two created)", n)
	}

	rot := f.mustCall(200, "POST", "/clients/ci/rotate-secret", nil)
	sec2, _ := rot["client_secret"].(string)
	if sec2 == "" || sec2 == sec {
		t.Fatalf("rotate: %v", rot)
	}
	if st, _, _ := f.postForm(PathToken, form, "ci", sec); st != 401 {
		t.Errorf("old secret after rotation: %d", st)
	}
	if st, _, _ := f.postForm(PathToken, form, "ci", sec2); st != 200 {
		t.Errorf("new secret: %d", st)
	}
	if st, _, _ := f.adminCall("POST", "/clients/app/rotate-secret", f.adminToken, nil); st != 409 {
		t.Errorf("rotate public: %d", st)
	}

	f.mustCall(204, "DELETE", "/clients/ci", nil)
	if ev := f.waitAudit("client.deleted"); ev["client_id"] != "ci" {
		t.Errorf("audit: %v", ev)
	}
	if st, _, _ := f.adminCall("GET", "/clients/ci", f.adminToken, nil); st != 404 {
		t.Errorf("after delete: %d", st)
	}
	if st, _, _ := f.postForm(PathToken, form, "ci", sec2); st != 401 {
		t.Errorf("deleted client: %d", st)
	}
}

func TestAdminAPIKeys(t *testing.T) {
	f := newAdminFixture(t)
	_, adminKey := f.addAPIKey(storage.APIKey{Name: "ops", Roles: []string{"admin"}})
	st, k, _ := f.adminCall("POST", "/apikeys", adminKey, map[string]any{"name": "reader", "roles": []string{"viewer"}, "expires_in": 3600})
	if st != 201 {
		t.Fatalf("create: %d %v", st, k)
	}
	id, _ := k["id"].(string)
	key, _ := k["key"].(string)
	if id == "" || !strings.Contains(key, id) || k["state"] != "active" || k["expires_at"] == nil {
		t.Fatalf("create: %v", k)
	}
	if ev := f.waitAudit("apikey.created"); !strings.HasPrefix(ev["actor"].(string), "apikey:") {
		t.Errorf("audit actor: %v", ev)
	}
	f.wantAPIKeyActive("new key", key)

	list := f.mustCall(200, "GET", "/apikeys", nil)
	b, _ := json.Marshal(list)
	if strings.Contains(string(b), key) || strings.Contains(string(b), `"key"`) || strings.Contains(string(b), "secret") {
		t.Errorf("list shows a key: %s", b)
	}
	if n := len(list["apikeys"].([]any)); n != 2 {
		t.Errorf("list: %d keys, want 2", n)
	}

	rot := f.mustCall(200, "POST", "/apikeys/"+id+"/rotate", nil)
	key2, _ := rot["key"].(string)
	if key2 == "" || key2 == key {
		t.Fatalf("rotate: %v", rot)
	}
	f.waitAudit("apikey.rotated")
	f.wantAPIKeyRejected("rotated key", key)
	f.wantAPIKeyActive("new secret", key2)

	rev := f.mustCall(200, "POST", "/apikeys/"+id+"/revoke", nil)
	if rev["state"] != "revoked" {
		t.Errorf("revoke: %v", rev)
	}
	if ev := f.waitAudit("apikey.revoked"); ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit: %v", ev)
	}
	f.wantAPIKeyRejected("revoked key", key2)
	if st, _, _ := f.adminCall("POST", "/apikeys/"+id+"/rotate", f.adminToken, nil); st != 409 {
		t.Errorf("rotate revoked: %d", st)
	}
	if st, _, _ := f.adminCall("POST", "/apikeys/0123456789abcdef/revoke", f.adminToken, nil); st != 404 {
		t.Errorf("revoke unknown: %d", st)
	}
}

func TestAdminSigningKeys(t *testing.T) {
	f := newAdminFixture(t)
	keys := f.mustCall(200, "GET", "/keys", nil)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["signing"] != true {
		t.Fatalf("keys: %v", keys)
	}
	b, _ := json.Marshal(keys)
	if strings.Contains(strings.ToLower(string(b)), "private") {
		t.Errorf("private key material listed: %s", b)
	}
	k := f.mustCall(201, "POST", "/keys/rotate", map[string]any{"activate_in": 60})
	if k["state"] != "next" || k["id"] == keys[0].(map[string]any)["id"] {
		t.Errorf("rotate: %v", k)
	}
	if ev := f.waitAudit("key.rotated"); ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit: %v", ev)
	}
	if n := len(f.mustCall(200, "GET", "/keys", nil)["keys"].([]any)); n != 2 {
		t.Errorf("after rotate: %d keys", n)
	}
}

func TestAdminAudit(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	_, err := f.store.AppendAudit(ctx, [][]byte{
		[]byte(`{"time":"2026-01-02T03:00:00Z","type":"user.created","user_id":"u1"}`),
		[]byte(`{"time":"2026-01-02T04:00:00Z","type":"user.deleted","user_id":"u1"}`),
		[]byte(`{"time":"2026-01-02T05:00:00Z","type":"user.created","user_id":"u2"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		t.Helper()
		return len(f.mustCall(200, "GET", "/audit"+q, nil)["events"].([]any))
	}
	for q, want := range map[string]int{"": 3, "?type=user.created": 2, "?user=u1": 2, "?since=2026-01-02T03:30:00Z": 2,
		"?type=user.created&user=u2": 1, "?after=2": 1, "?limit=1": 1} {
		if got := count(q); got != want {
			t.Errorf("audit%s: %d events, want %d", q, got, want)
		}
	}
	ev := f.mustCall(200, "GET", "/audit?limit=1", nil)["events"].([]any)[0].(map[string]any)
	if ev["seq"] != float64(3) || ev["event"].(map[string]any)["user_id"] != "u2" || ev["hash"] == "" {
		t.Errorf("latest event: %v", ev)
	}
	if st, _, _ := f.adminCall("GET", "/audit?since=yesterday", f.adminToken, nil); st != 400 {
		t.Errorf("bad since: %d", st)
	}
	if v := f.mustCall(200, "GET", "/audit/verify", nil); v["ok"] != true || v["checked"] != float64(3) {
		t.Errorf("verify: %v", v)
	}
}
