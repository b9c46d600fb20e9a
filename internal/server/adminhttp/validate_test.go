package adminhttp

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminRefusesBadNamesAndBodies: the admin API answers 400 with a clear
// message to control characters (CR, LF, NUL, ...) in any name, to what
// the CLI refuses when it registers a client (same validator,
// internal/clientreg), and to a body with a duplicate member, in any case.
// Nothing is created. SECURITY-CASES 34.
func TestAdminRefusesBadNamesAndBodies(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "user:u1", Roles: []string{"admin"}}
	const pw = `"password": "a long enough password"`
	client := func(extra string) string {
		return `{"id": "ci", "name": "CI", "grant_types": ["client_credentials"]` + extra + `}`
	}
	tests := []struct {
		name, path, body, want string
	}{
		{"username CR LF", "/users", `{"username": "eve\r\nadmin", ` + pw + `}`, "control character"},
		{"username LF at the end", "/users", `{"username": "eve\n", ` + pw + `}`, "control character"},
		{"username NUL", "/users", `{"username": "eve\u0000", ` + pw + `}`, "control character"},
		{"username line separator", "/users", `{"username": "eve\u2028x", ` + pw + `}`, "control character"},
		{"username DEL", "/users", `{"username": "eve\u007f", ` + pw + `}`, "control character"},
		{"client name CR LF", "/clients", `{"id": "ci", "name": "CI\r\nX-Evil: 1", "grant_types": ["client_credentials"]}`, "control character"},
		{"client name tab", "/clients", `{"id": "ci", "name": "C\tI", "grant_types": ["client_credentials"]}`, "control character"},
		{"client id path", "/clients", `{"id": "bad id/../x", "name": "CI", "grant_types": ["client_credentials"]}`, "client ID"},
		{"client id LF", "/clients", `{"id": "ci\n", "name": "CI", "grant_types": ["client_credentials"]}`, "client ID"},
		{"client scope with a space", "/clients", client(`, "scopes": ["a b"]`), "without spaces"},
		{"client scope with a quote", "/clients", client(`, "scopes": ["a\"b"]`), "RFC 6749"},
		{"refresh without code", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["client_credentials", "refresh_token"]}`, "refresh_token grant needs"},
		{"refresh alone", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["refresh_token"]}`, "refresh_token grant needs"},
		{"unknown grant", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["password"]}`, "unknown grant type"},
		{"redirect with fragment", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb#x"]}`, "fragment"},
		{"redirect plain http", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["authorization_code"], "redirect_uris": ["http://a.example/cb"]}`, "non-loopback"},
		{"public client credentials", "/clients", `{"id": "ci", "name": "CI", "public": true, "grant_types": ["client_credentials"]}`, "public client"},
		{"API key name LF", "/apikeys", `{"name": "deploy\nkey"}`, "control character"},
		{"API key scope with a space", "/apikeys", `{"name": "deploy", "scopes": ["a b"]}`, "without spaces"},
		{"role name LF", "/roles", `{"name": "ops\n"}`, "role name"},
		{"role description CR", "/roles", `{"name": "ops", "description": "runs\rjobs"}`, "control characters"},
		{"duplicate member", "/users", `{"username": "bob", "username": "root", ` + pw + `}`, "more than once"},
		{"duplicate member other case", "/users", `{"username": "bob", "Username": "root", ` + pw + `}`, "more than once"},
		{"duplicate member upper case", "/clients", `{"id": "ci", "ID": "other", "name": "CI", "grant_types": ["client_credentials"]}`, "more than once"},
		{"duplicate roles", "/users", `{"username": "bob", ` + pw + `, "roles": ["viewer"], "ROLES": ["admin"]}`, "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, body := f.call("POST", tc.path, tc.body)
			st := w.Code
			desc, _ := body["error_description"].(string)
			if st != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, tc.want) {
				t.Errorf("%d %v, want 400 invalid_request mentioning %q", st, body, tc.want)
			}
		})
	}
	// Nothing was created, and a good request still works.
	for _, path := range []string{"/users/eve", "/users/bob", "/clients/ci", "/roles/ops"} {
		if w, _ := f.call("GET", path, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s after refused creates: %d", path, w.Code)
		}
	}
	f.mustCall(http.StatusCreated, "POST", "/clients", asJSON(map[string]any{"id": "ci", "name": "CI", "grant_types": []string{"client_credentials"}, "scopes": []string{"read", "write"}}))
	f.mustCall(http.StatusCreated, "POST", "/users", asJSON(map[string]any{"username": "bob", "password": "a long enough password", "roles": []string{"viewer"}}))
}
