package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// userinfoOf calls userinfo with tok.
func userinfoOf(t *testing.T, h *testHarness, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.url(PathUserinfo), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

// The standard claims follow the scopes (OIDC Core §5.4), in the ID token
// and at userinfo alike.
func TestStandardClaimsFollowScopes(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newHarnessOn(t, open, func(c *config.Server) { c.OIDC.GroupsClaim = "teams" })
		f := newUserFixtureOn(h)
		if err := f.store.UpdateUser(context.Background(), f.user.ID, func(u *storage.User) error {
			u.Email, u.EmailVerified, u.Name = "alice@example.org", true, "Alice Liddell"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			scopes  []string
			want    map[string]any
			without []string
		}{
			{[]string{"openid"}, map[string]any{"preferred_username": "alice"}, []string{"name", "email", "email_verified", "teams"}},
			{[]string{"openid", "profile"}, map[string]any{"name": "Alice Liddell"}, []string{"email", "teams"}},
			{[]string{"openid", "email"}, map[string]any{"email": "alice@example.org", "email_verified": true}, []string{"name", "teams"}},
			{[]string{"openid", "groups"}, map[string]any{"teams": []any{"editor"}}, []string{"name", "email", "groups"}},
		} {
			body := f.codeTokens(tt.scopes...)
			id := claimsOf(t, body["id_token"].(string))
			_, ui := userinfoOf(t, h, body["access_token"].(string))
			for where, got := range map[string]map[string]any{"id token": id, "userinfo": ui} {
				for k, v := range tt.want {
					if !equalJSON(got[k], v) {
						t.Errorf("scopes %v, %s: %s = %v, want %v", tt.scopes, where, k, got[k], v)
					}
				}
				for _, k := range tt.without {
					if _, ok := got[k]; ok {
						t.Errorf("scopes %v, %s: has %s without its scope", tt.scopes, where, k)
					}
				}
			}
		}
	})
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.EqualFunc(as, bs, func(x, y any) bool { return x == y })
	}
	return a == b
}

// Any client registered for openid may ask for profile, email and groups;
// one that is not may not.
func TestIdentityScopesNeedOpenID(t *testing.T) {
	f := newUserFixture(t)
	sec := f.addClient(storage.Client{ID: "machine", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"email"}}, "machine", sec)
	if st != 400 || errCode(body) != "invalid_scope" {
		t.Errorf("email without openid: %d %v, want invalid_scope", st, body)
	}
	// other is registered for openid read write, not for email: allowed.
	st, body, _ = f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid email profile groups"}}, "other", f.otherSecret)
	if st != 200 || body["scope"] != "openid email profile groups" {
		t.Errorf("identity scopes of an openid client: %d %v", st, body)
	}
}
