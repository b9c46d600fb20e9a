package client

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func fakeIDToken(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJFUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func TestIdentity(t *testing.T) {
	const iss, aud = "https://auth.example", "cli"
	for _, tc := range []struct {
		name     string
		token    string
		sub, usr string
	}{
		{"aud string", fakeIDToken(map[string]any{"iss": iss, "aud": aud, "sub": "u1", "preferred_username": "ana"}), "u1", "ana"},
		{"aud list", fakeIDToken(map[string]any{"iss": iss, "aud": []string{"x", aud}, "sub": "u1"}), "u1", ""},
		{"name without username (Dex)", fakeIDToken(map[string]any{"iss": iss, "aud": aud, "sub": "CiQwOGE4", "name": "Ana Lima", "email": "ana@example.org"}), "CiQwOGE4", "Ana Lima"},
		{"only an email", fakeIDToken(map[string]any{"iss": iss, "aud": aud, "sub": "CiQwOGE4", "email": "ana@example.org"}), "CiQwOGE4", "ana@example.org"},
		{"username first", fakeIDToken(map[string]any{"iss": iss, "aud": aud, "sub": "u1", "preferred_username": "ana", "name": "Ana Lima"}), "u1", "ana"},
		{"other issuer", fakeIDToken(map[string]any{"iss": "https://evil.example", "aud": aud, "sub": "u1"}), "", ""},
		{"other audience", fakeIDToken(map[string]any{"iss": iss, "aud": "other", "sub": "u1"}), "", ""},
		{"not a JWT", "opaque", "", ""},
		{"bad payload", "a.!!!.c", "", ""},
	} {
		sub, usr := identity(tc.token, iss, aud)
		if sub != tc.sub || usr != tc.usr {
			t.Errorf("%s: identity = %q, %q; want %q, %q", tc.name, sub, usr, tc.sub, tc.usr)
		}
	}
}

func TestUserCredentialWithoutScopeInResponse(t *testing.T) {
	cfg := &Config{Issuer: "https://auth.example", ClientID: "cli", Scopes: []string{"openid"}, Clock: newWaitClock()}
	tok := (&oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: start.Add(time.Hour)}).WithExtra(map[string]any{
		"id_token": fakeIDToken(map[string]any{"iss": "https://auth.example", "aud": "cli", "sub": "u7", "preferred_username": "bo"}),
	})
	c := cfg.UserCredential(tok)
	if c.Subject != "u7" || c.Username != "bo" || len(c.Scopes) != 1 || c.Scopes[0] != "openid" || c.TokenType != "Bearer" || !c.UpdatedAt.Equal(start) {
		t.Errorf("credential = %+v", c)
	}
}
