package server

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// addRole stores a custom role directly.
func (h *testHarness) addRole(name string, perms ...string) {
	h.t.Helper()
	now := h.clock.Now().UTC()
	if err := h.store.CreateRole(context.Background(), &storage.Role{Name: name, Permissions: perms, CreatedAt: now, UpdatedAt: now}); err != nil {
		h.t.Fatal(err)
	}
}

// TestAdminRolesNeedAdmin is SECURITY-CASES 34 for the role and MFA
// routes: no token is 401, a non-admin 403 — also a user whose custom
// role carries a permission called "admin", which is not the admin role.
func TestAdminRolesNeedAdmin(t *testing.T) {
	f := newAdminFixture(t)
	f.addRole("ops", "admin", "runs:launch")
	opsUser := f.addUser("otto", "correct horse battery", "ops")
	viewer := f.addUser("vera", "correct horse battery", "viewer")
	routes := []struct{ method, path string }{
		{"GET", "/roles"}, {"POST", "/roles"}, {"GET", "/roles/ops"}, {"PATCH", "/roles/ops"}, {"DELETE", "/roles/ops"},
		{"POST", "/users/" + viewer.ID + "/mfa-reset"},
	}
	for _, tok := range []string{f.tokenFor(viewer.ID), f.tokenFor(opsUser.ID)} {
		for _, rt := range routes {
			st, body, _ := f.adminCall(rt.method, rt.path, tok, map[string]any{})
			if st != 403 || errCode(body) != "insufficient_scope" {
				t.Errorf("non-admin %s %s: %d %v, want 403 insufficient_scope", rt.method, rt.path, st, body)
			}
		}
	}
	for _, rt := range routes {
		st, body, hdr := f.adminCall(rt.method, rt.path, "", nil)
		wantUnauthorized(t, "no token "+rt.method+" "+rt.path, st, body, hdr)
	}
	if _, err := f.store.GetRole(context.Background(), "ops"); err != nil {
		t.Errorf("the refused calls changed the role: %v", err)
	}
}

func TestAdminRoles(t *testing.T) {
	f := newAdminFixture(t)
	r := f.mustCall(201, "POST", "/roles", map[string]any{"name": "operator", "description": "Runs jobs",
		"permissions": []string{"runs:launch", "assets:materialize", "runs:launch"}})
	if d := cmp.Diff([]any{"assets:materialize", "runs:launch"}, r["permissions"]); d != "" || r["builtin"] != false {
		t.Errorf("create: %v (-want +got):\n%s", r, d)
	}
	ev := f.waitAudit("role.created")
	if det, _ := ev["details"].(map[string]any); det["role"] != "operator" || det["permissions"] != "assets:materialize runs:launch" ||
		ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("role.created event: %v", ev)
	}

	for _, c := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"name": "operator"}, 409, "already exists"},
		{map[string]any{"name": "viewer"}, 409, "built in"},
		{map[string]any{"name": "Operator"}, 400, "lower case"},
		{map[string]any{"name": "9ops"}, 400, "lower case"},
		{map[string]any{"name": strings.Repeat("a", 65)}, 400, "lower case"},
		{map[string]any{"name": "ops", "permissions": []string{"runs launch"}}, 400, "scope token"},
		{map[string]any{"name": "ops", "permissions": []string{`a"b`}}, 400, "scope token"},
		{map[string]any{"name": "ops", "permissions": []string{""}}, 400, "scope token"},
		{map[string]any{"name": "ops", "description": "a\nb"}, 400, "control"},
		{map[string]any{"name": "ops", "owner": "x"}, 400, "unknown field"},
	} {
		st, body, _ := f.adminCall("POST", "/roles", f.adminToken, c.body)
		if desc, _ := body["error_description"].(string); st != c.status || !strings.Contains(desc, c.msg) {
			t.Errorf("create %v: %d %v, want %d %q", c.body, st, body, c.status, c.msg)
		}
	}

	list := f.mustCall(200, "GET", "/roles", nil)["roles"].([]any)
	var names []string
	for _, x := range list {
		names = append(names, x.(map[string]any)["name"].(string))
	}
	if d := cmp.Diff([]string{"admin", "editor", "viewer", "operator"}, names); d != "" {
		t.Errorf("list (-want +got):\n%s", d)
	}
	if b := f.mustCall(200, "GET", "/roles/editor", nil); b["builtin"] != true {
		t.Errorf("get editor: %v", b)
	}
	f.mustCall(404, "GET", "/roles/nope", nil)

	r = f.mustCall(200, "PATCH", "/roles/operator", map[string]any{"add_permissions": []string{"read"},
		"remove_permissions": []string{"runs:launch"}, "description": "Operators"})
	if d := cmp.Diff([]any{"assets:materialize", "read"}, r["permissions"]); d != "" || r["description"] != "Operators" {
		t.Errorf("update: %v (-want +got):\n%s", r, d)
	}
	ev = f.waitAudit("role.updated")
	if det, _ := ev["details"].(map[string]any); det["previous_permissions"] != "assets:materialize runs:launch" || det["permissions"] != "assets:materialize read" {
		t.Errorf("role.updated event: %v", ev)
	}
	// A bad permission leaves the role as it was.
	if st, body, _ := f.adminCall("PATCH", "/roles/operator", f.adminToken, map[string]any{"add_permissions": []string{"a b"}}); st != 400 {
		t.Errorf("bad permission: %d %v", st, body)
	}
	got, err := f.store.GetRole(context.Background(), "operator")
	if err != nil || strings.Join(got.Permissions, " ") != "assets:materialize read" {
		t.Errorf("after refused update: %+v %v", got, err)
	}
	f.mustCall(404, "PATCH", "/roles/nope", map[string]any{"description": "x"})
	for _, name := range []string{"admin", "editor", "viewer"} {
		f.mustCall(409, "PATCH", "/roles/"+name, map[string]any{"add_permissions": []string{"x"}})
		f.mustCall(409, "DELETE", "/roles/"+name, nil)
	}

	f.mustCall(204, "DELETE", "/roles/operator", nil)
	if ev := f.waitAudit("role.deleted"); ev["details"].(map[string]any)["role"] != "operator" {
		t.Errorf("role.deleted event: %v", ev)
	}
	f.mustCall(404, "DELETE", "/roles/operator", nil)
}

// TestAdminRoleAssignment: only roles that exist can be given, and a role
// someone holds cannot be deleted.
func TestAdminRoleAssignment(t *testing.T) {
	f := newAdminFixture(t)
	f.addRole("operator", "runs:launch")
	unknown := []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/users", map[string]any{"username": "bob", "password": "a long enough password", "roles": []string{"operatr"}}},
		{"PATCH", "/users/alice", map[string]any{"roles": []string{"editor", "operatr"}}},
		{"POST", "/clients", map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}, "roles": []string{"operatr"}}},
		{"POST", "/apikeys", map[string]any{"name": "deploy", "roles": []string{"operatr"}}},
	}
	for _, c := range unknown {
		st, body, _ := f.adminCall(c.method, c.path, f.adminToken, c.body)
		desc, _ := body["error_description"].(string)
		if st != 400 || !strings.Contains(desc, `unknown role "operatr"`) || !strings.Contains(desc, "admin, editor, viewer, operator") {
			t.Errorf("%s %s with an unknown role: %d %v", c.method, c.path, st, body)
		}
	}
	if _, err := f.store.GetUserByName(context.Background(), "bob"); err == nil {
		t.Error("user created with an unknown role")
	}

	f.mustCall(200, "PATCH", "/users/alice", map[string]any{"roles": []string{"editor", "operator"}})
	f.mustCall(201, "POST", "/clients", map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}, "roles": []string{"operator"}})
	key := f.mustCall(201, "POST", "/apikeys", map[string]any{"name": "deploy", "roles": []string{"operator"}})
	keyID := key["id"].(string)

	st, body, _ := f.adminCall("DELETE", "/roles/operator", f.adminToken, nil)
	desc, _ := body["error_description"].(string)
	for _, holder := range []string{"user alice", "client ci", "API key " + keyID} {
		if st != 409 || !strings.Contains(desc, holder) {
			t.Errorf("delete held role: %d %q, want 409 naming %q", st, desc, holder)
		}
	}
	f.mustCall(200, "PATCH", "/users/alice", map[string]any{"roles": []string{"editor"}})
	f.mustCall(204, "DELETE", "/clients/ci", nil)
	// A revoked key can never be used again: it does not hold the role.
	f.mustCall(200, "POST", "/apikeys/"+keyID+"/revoke", nil)
	f.mustCall(204, "DELETE", "/roles/operator", nil)
}

// TestRolePermissionsInTokens: access tokens, introspection and userinfo
// carry the union of the permissions of the subject's roles, and a role
// change shows in the tokens issued after it.
func TestRolePermissionsInTokens(t *testing.T) {
	f := newAdminFixture(t)
	f.addRole("operator", "runs:launch", "assets:materialize")
	f.addRole("reader", "read", "runs:launch")
	f.mustCall(200, "PATCH", "/users/alice", map[string]any{"roles": []string{"editor", "operator", "reader"}})

	want := []any{"assets:materialize", "read", "runs:launch"}
	tok := f.codeTokens("openid", "read")
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if d := cmp.Diff(want, claimsOf(t, at)["permissions"]); d != "" {
		t.Errorf("access token permissions (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]any{"editor", "operator", "reader"}, claimsOf(t, at)["roles"]); d != "" {
		t.Errorf("access token roles (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, f.introspect(at)["permissions"]); d != "" {
		t.Errorf("introspection permissions (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, f.introspectAs("web", f.webSecret, rt)["permissions"]); d != "" {
		t.Errorf("refresh token introspection permissions (-want +got):\n%s", d)
	}
	st, body, _ := userinfo(t, f.testHarness, at)
	if d := cmp.Diff(want, body["permissions"]); st != 200 || d != "" {
		t.Errorf("userinfo: %d (-want +got):\n%s", st, d)
	}

	// A role change: the issued token keeps its claim, userinfo and new
	// tokens follow the database.
	f.mustCall(200, "PATCH", "/roles/operator", map[string]any{"remove_permissions": []string{"assets:materialize"}, "add_permissions": []string{"deploy"}})
	want2 := []any{"deploy", "read", "runs:launch"}
	if d := cmp.Diff(want, f.introspect(at)["permissions"]); d != "" {
		t.Errorf("introspection of the earlier token (-want +got):\n%s", d)
	}
	_, body, _ = userinfo(t, f.testHarness, at)
	if d := cmp.Diff(want2, body["permissions"]); d != "" {
		t.Errorf("userinfo after the change (-want +got):\n%s", d)
	}
	st, ref := f.refresh("web", f.webSecret, rt, nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, ref)
	}
	if d := cmp.Diff(want2, claimsOf(t, ref["access_token"].(string))["permissions"]); d != "" {
		t.Errorf("refreshed token permissions (-want +got):\n%s", d)
	}

	// Built-in roles alone: no permissions claim at all.
	f.mustCall(200, "PATCH", "/users/alice", map[string]any{"roles": []string{"editor"}})
	at = f.codeTokens("openid")["access_token"].(string)
	if _, ok := claimsOf(t, at)["permissions"]; ok {
		t.Errorf("token of an editor carries permissions: %v", claimsOf(t, at))
	}
	if _, ok := f.introspect(at)["permissions"]; ok {
		t.Error("introspection of an editor's token carries permissions")
	}

	// A client's own token, and API keys.
	sec := f.addClient(storage.Client{ID: "ci", Name: "CI", GrantTypes: []string{"client_credentials"}, Roles: []string{"reader"}})
	st, cc, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec)
	if st != 200 {
		t.Fatalf("client credentials: %d %v", st, cc)
	}
	ccTok := cc["access_token"].(string)
	if d := cmp.Diff([]any{"read", "runs:launch"}, claimsOf(t, ccTok)["permissions"]); d != "" {
		t.Errorf("client credentials token (-want +got):\n%s", d)
	}
	if _, body, _ := userinfo(t, f.testHarness, ccTok); cmp.Diff([]any{"read", "runs:launch"}, body["permissions"]) != "" {
		t.Errorf("userinfo of a client token: %v", body)
	}
	_, key := f.addAPIKey(storage.APIKey{Roles: []string{"operator"}})
	if d := cmp.Diff([]any{"deploy", "runs:launch"}, f.introspect(key)["permissions"]); d != "" {
		t.Errorf("API key introspection (-want +got):\n%s", d)
	}
	if _, body, _ := userinfo(t, f.testHarness, key); cmp.Diff([]any{"deploy", "runs:launch"}, body["permissions"]) != "" {
		t.Errorf("userinfo of an API key: %v", body)
	}
}

func TestAdminMFAReset(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	now := f.clock.Now().UTC()
	if err := f.store.CreateTOTP(ctx, &storage.TOTP{UserID: f.user.ID, EncryptedSecret: []byte{1}, Enrolled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	// Passkeys go too: a user who lost the device holding them.
	for i, id := range []string{"pk_1", "pk_2"} {
		if err := f.store.CreatePasskey(ctx, &storage.Passkey{ID: id, UserID: f.user.ID, CredentialID: []byte{byte(i), 1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// Users are addressed by id or by username, like the other user routes.
	r := f.mustCall(200, "POST", "/users/alice/mfa-reset", nil)
	if r["removed"] != true || r["user"].(map[string]any)["id"] != f.user.ID {
		t.Errorf("reset: %v", r)
	}
	if _, err := f.store.GetTOTP(ctx, f.user.ID); err == nil {
		t.Error("TOTP still stored after the reset")
	}
	if keys, err := f.store.ListUserPasskeys(ctx, f.user.ID); err != nil || len(keys) != 0 {
		t.Errorf("passkeys after the reset: %v %v", keys, err)
	}
	ev := f.waitAudit("user.updated")
	if ev["details"].(map[string]any)["change"] != "mfa reset" || ev["details"].(map[string]any)["passkeys_removed"] != "2" || ev["user_id"] != f.user.ID || ev["actor"] != "user:"+f.admin.ID {
		t.Errorf("audit event: %v", ev)
	}
	if r := f.mustCall(200, "POST", "/users/"+f.user.ID+"/mfa-reset", nil); r["removed"] != false {
		t.Errorf("second reset: %v", r)
	}
	f.mustCall(404, "POST", "/users/nobody/mfa-reset", nil)
}
