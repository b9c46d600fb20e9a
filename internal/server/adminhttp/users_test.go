package adminhttp

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAdminUserProfile: the admin API sets a user's email, email_verified
// and name on create and update, refuses bad ones with 400 and an email
// another user has (in any case) with 409, and audits the change.
func TestAdminUserProfile(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "user:u1", Roles: []string{"admin"}}
	const pw = "a long enough password"
	alice := f.mustCall(201, "POST", "/users", asJSON(map[string]any{"username": "liddell", "password": pw,
		"email": "Alice@Example.org", "email_verified": true, "name": "Alice Liddell"}))
	if alice["email"] != "Alice@Example.org" || alice["email_verified"] != true || alice["name"] != "Alice Liddell" {
		t.Errorf("create: %v", alice)
	}
	ev := f.lastEvent("user.created")
	if d := ev.Details; d["email"] != "Alice@Example.org" || d["name"] != "Alice Liddell" || d["email_verified"] != "true" {
		t.Errorf("user.created details: %v", ev.Details)
	}
	bob := f.mustCall(201, "POST", "/users", asJSON(map[string]any{"username": "bob", "password": pw}))
	if bob["email"] != "" || bob["email_verified"] != false || bob["name"] != "" {
		t.Errorf("create without a profile: %v", bob)
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // in error_description
	}{
		{"create: email of another user, other case", "POST", "/users", `{"username": "carol", "password": "` + pw + `", "email": "ALICE@example.ORG"}`, 409, `email "ALICE@example.ORG" is already used by another user`},
		{"create: taken username, free email", "POST", "/users", `{"username": "bob", "password": "` + pw + `", "email": "bob@example.org"}`, 409, `user "bob" already exists`},
		{"create: email with CR LF", "POST", "/users", `{"username": "carol", "password": "` + pw + `", "email": "carol@example.org\r\nBcc: x@evil.example"}`, 400, "control character"},
		{"create: name with LF", "POST", "/users", `{"username": "carol", "password": "` + pw + `", "name": "Carol\nAdmin"}`, 400, "control character"},
		{"create: not an address", "POST", "/users", `{"username": "carol", "password": "` + pw + `", "email": "carol"}`, 400, "not an address"},
		{"create: name too long", "POST", "/users", `{"username": "carol", "password": "` + pw + `", "name": "` + strings.Repeat("x", 201) + `"}`, 400, "longer than 200 characters"},
		{"update: email of another user, other case", "PATCH", "/users/bob", `{"email": "alice@EXAMPLE.org"}`, 409, "already used by another user"},
		{"update: email with NUL", "PATCH", "/users/bob", `{"email": "bob\u0000@example.org"}`, 400, "control character"},
		{"update: email with a space", "PATCH", "/users/bob", `{"email": "bob @example.org"}`, 400, "space"},
		{"update: two @", "PATCH", "/users/bob", `{"email": "bob@a@example.org"}`, 400, "not an address"},
		{"update: name with DEL", "PATCH", "/users/bob", `{"name": "Bob\u007f"}`, 400, "control character"},
		{"update: name only spaces", "PATCH", "/users/bob", `{"name": "   "}`, 400, "must not be empty"},
		{"update: email_verified not a boolean", "PATCH", "/users/bob", `{"email_verified": "yes"}`, 400, "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, body := f.call(tc.method, tc.path, tc.body)
			st := w.Code
			desc, _ := body["error_description"].(string)
			code := "invalid_request"
			if tc.status == http.StatusConflict {
				code = "conflict"
			}
			if st != tc.status || body["error"] != code || !strings.Contains(desc, tc.want) {
				t.Errorf("%d %v, want %d %s mentioning %q", st, body, tc.status, code, tc.want)
			}
		})
	}
	if w, _ := f.call("GET", "/users/carol", ""); w.Code != http.StatusNotFound {
		t.Errorf("a refused create stored carol: %d", w.Code)
	}
	if got := f.mustCall(200, "GET", "/users/bob", ""); got["email"] != "" || got["name"] != "" {
		t.Errorf("refused updates changed bob: %v", got)
	}

	// Set, then leave alone (absent or null), then clear.
	id, _ := bob["id"].(string)
	upd := f.mustCall(200, "PATCH", "/users/bob", asJSON(map[string]any{"email": "bob@example.org", "email_verified": true, "name": "Bob"}))
	if upd["email"] != "bob@example.org" || upd["email_verified"] != true || upd["name"] != "Bob" {
		t.Errorf("set: %v", upd)
	}
	ev = f.lastEvent("user.updated")
	if d := ev.Details; ev.UserID != id || d["email"] != "bob@example.org" || d["previous_email"] != "" || d["name"] != "Bob" {
		t.Errorf("user.updated: %+v", ev)
	}
	for _, body := range []string{`{"roles": ["viewer"]}`, `{"email": null, "name": null, "email_verified": null}`, `{}`} {
		w, got := f.call("PATCH", "/users/bob", body)
		if w.Code != 200 || got["email"] != "bob@example.org" || got["email_verified"] != true || got["name"] != "Bob" {
			t.Errorf("PATCH %s: %d %v, want the profile unchanged", body, w.Code, got)
		}
	}
	cleared := f.mustCall(200, "PATCH", "/users/"+id, asJSON(map[string]any{"email": "", "name": ""}))
	if cleared["email"] != "" || cleared["email_verified"] != false || cleared["name"] != "" {
		t.Errorf("clear: %v", cleared)
	}
	stored, err := f.store.GetUser(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Email != "" || stored.EmailVerified || stored.Name != "" {
		t.Errorf("stored after clearing: %+v", stored)
	}
	// The cleared address is free again.
	f.mustCall(201, "POST", "/users", asJSON(map[string]any{"username": "carol", "password": pw, "email": "BOB@example.org"}))
}
