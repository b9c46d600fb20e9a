package server

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestClientCredentialsIssuesSignedAccessToken(t *testing.T) {
	h := newHarness(t)
	sec := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read", "write"}, Roles: []string{"viewer"}})
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, "ci", sec)
	if st != 200 {
		t.Fatalf("status %d: %v", st, body)
	}
	if body["token_type"] != "Bearer" || body["scope"] != "read" || body["expires_in"].(float64) <= 0 {
		t.Errorf("unexpected response %v", body)
	}
	// RFC 6749 §4.4.3: no refresh token for client credentials.
	if _, ok := body["refresh_token"]; ok {
		t.Error("client credentials response carries a refresh token")
	}
	at := body["access_token"].(string)
	hdr := headerOf(t, at)
	if hdr["typ"] != "at+jwt" || hdr["kid"] == nil || hdr["alg"] != "ES256" {
		t.Errorf("header %v", hdr)
	}
	c := claimsOf(t, at)
	if c["sub"] != "ci" || c["client_id"] != "ci" || c["iss"] != h.issuer || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "viewer" {
		t.Errorf("roles claim %v", c["roles"])
	}
	h.waitAudit("token.issued")
}

func TestClientCredentialsRejections(t *testing.T) {
	h := newHarness(t)
	sec := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	postSec := h.addClient(storage.Client{ID: "poster", AuthMethod: "client_secret_post", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	noGrantSec := h.addClient(storage.Client{ID: "web", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://a.example/cb"}})
	h.addClient(storage.Client{ID: "pub", Public: true, GrantTypes: []string{"client_credentials", "authorization_code"}})
	cc := url.Values{"grant_type": {"client_credentials"}}

	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		query      string
		wantStatus int
		wantErr    string
	}{
		// SECURITY-CASES 16.
		{"wrong secret", cc, "ci", "nope", "", 401, "invalid_client"},
		{"unknown client", cc, "ghost", sec, "", 401, "invalid_client"},
		// SECURITY-CASES 17.
		{"secret in query", cc, "ci", sec, "client_secret=" + sec, 400, "invalid_request"},
		{"two methods", url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci"}, "client_secret": {sec}}, "ci", sec, "", 400, "invalid_request"},
		// SECURITY-CASES 18: registered for basic, uses post; and the reverse.
		{"post for basic client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci"}, "client_secret": {sec}}, "", "", "", 401, "invalid_client"},
		{"basic for post client", cc, "poster", postSec, "", 401, "invalid_client"},
		{"no credentials for basic client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci"}}, "", "", "", 401, "invalid_client"},
		{"no credentials for post client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"poster"}}, "", "", "", 401, "invalid_client"},
		// SECURITY-CASES 21.
		{"client without grant", cc, "web", noGrantSec, "", 400, "unauthorized_client"},
		{"public client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"pub"}}, "", "", "", 400, "unauthorized_client"},
		{"scope not allowed", url.Values{"grant_type": {"client_credentials"}, "scope": {"read admin"}}, "ci", sec, "", 400, "invalid_scope"},
		// SECURITY-CASES 27: the password grant is refused to every client
		// an admin has not opened to terminal sign-in (oauth/grant_password.go).
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"x"}}, "ci", sec, "", 400, "unsupported_grant_type"},
		{"unknown grant", url.Values{"grant_type": {"urn:example:nope"}}, "ci", sec, "", 400, "unsupported_grant_type"},
		{"no grant type", url.Values{}, "ci", sec, "", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := PathToken
			if tc.query != "" {
				path += "?" + tc.query
			}
			st, body, hdr := h.postForm(path, tc.form, tc.user, tc.pass)
			if st != tc.wantStatus || errCode(body) != tc.wantErr {
				t.Fatalf("got %d %v, want %d %s", st, body, tc.wantStatus, tc.wantErr)
			}
			if _, ok := body["access_token"]; ok {
				t.Error("token issued on error")
			}
			if st == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without WWW-Authenticate: %v", hdr)
			}
		})
	}
	// The same post-auth client succeeds with its own method, so the
	// mismatch test above fails for the right reason.
	st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"poster"}, "client_secret": {postSec}}, "", "")
	if st != 200 {
		t.Fatalf("post client with post: %d %v", st, body)
	}
}

func TestTokenEndpointErrorsAreNotCached(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("POST", h.url(PathToken), strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("x:y")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", resp.Header)
	}
}

func TestClientAuthFailuresAreRateLimitedPerIP(t *testing.T) {
	h := newHarness(t)
	h.cfg.Limits.LoginPerIP.Requests, h.cfg.Limits.LoginPerIP.Burst = 3, 3
	h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}})
	var last int
	for range 6 {
		last, _, _ = h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", "guess")
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after repeated bad secrets got %d, want 429", last)
	}
}
