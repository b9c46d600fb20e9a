package resource_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-auth/gatehouse/resource"
)

const apiKey = "gatehouse_k1_9vXcB3o0h2Yq-TmW4s7uLw"

// apiKeyAnswer is what the issuer says about an active API key.
func (is *testIssuer) apiKeyAnswer() map[string]any {
	return map[string]any{
		"active":    true,
		"sub":       "user-2",
		"client_id": "apikey:k1",
		"username":  "bob",
		"scope":     "read",
		"roles":     []string{"viewer"},
		"exp":       is.clock.Now().Add(24 * time.Hour).Unix(),
		"iss":       is.url,
		"jti":       "k1",
	}
}

func TestIntrospectionAcceptsAPIKey(t *testing.T) {
	is := newTestIssuer(t)
	is.setActive(apiKey, is.apiKeyAnswer())
	v := is.verifier(withIntrospection)
	id, err := v.Verify(ctx, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	want := &resource.Identity{
		Subject:  "user-2",
		ClientID: "apikey:k1",
		Username: "bob",
		Scopes:   []string{"read"},
		Roles:    []string{"viewer"},
		Expiry:   is.clock.Now().Add(24 * time.Hour),
		TokenID:  "k1",
		Method:   resource.MethodIntrospection,
	}
	if diff := cmp.Diff(want, id, cmpopts.IgnoreFields(resource.Identity{}, "Claims")); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if id.Claims["active"] != true {
		t.Errorf("claims %v", id.Claims)
	}
	if n := is.jwksHits.Load(); n != 0 {
		t.Errorf("an API key made the verifier fetch the JWKS %d times", n)
	}
}

// TestIntrospectionCache: answers are reused for CacheTTL, so a revoked key
// is refused within that delay (SECURITY-CASES 33) and the issuer sees one
// request per key per TTL, for active and inactive keys alike.
func TestIntrospectionCache(t *testing.T) {
	is := newTestIssuer(t)
	is.setActive(apiKey, is.apiKeyAnswer())
	v := is.verifier(withIntrospection, func(c *resource.Config) { c.Introspection.CacheTTL = 20 * time.Second })

	for range 5 {
		if _, err := v.Verify(ctx, apiKey); err != nil {
			t.Fatal(err)
		}
	}
	if n := is.introspectHits.Load(); n != 1 {
		t.Fatalf("introspected %d times, want 1", n)
	}
	is.setActive(apiKey, nil) // revoked at the issuer
	is.clock.Advance(19 * time.Second)
	if _, err := v.Verify(ctx, apiKey); err != nil {
		t.Fatalf("within the TTL the cached answer holds: %v", err)
	}
	is.clock.Advance(time.Second)
	for range 5 {
		if _, err := v.Verify(ctx, apiKey); !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("revoked key after the TTL: %v, want ErrInvalidToken", err)
		}
	}
	if n := is.introspectHits.Load(); n != 2 {
		t.Fatalf("introspected %d times, want 2 (the refusal is cached too)", n)
	}
	// The negative answer expires as well.
	is.setActive(apiKey, is.apiKeyAnswer())
	is.clock.Advance(20 * time.Second)
	if _, err := v.Verify(ctx, apiKey); err != nil {
		t.Fatal(err)
	}
	if n := is.introspectHits.Load(); n != 3 {
		t.Fatalf("introspected %d times, want 3", n)
	}
}

func TestIntrospectionCacheDisabled(t *testing.T) {
	is := newTestIssuer(t)
	is.setActive(apiKey, is.apiKeyAnswer())
	v := is.verifier(withIntrospection, func(c *resource.Config) { c.Introspection.CacheTTL = -1 })
	for range 3 {
		if _, err := v.Verify(ctx, apiKey); err != nil {
			t.Fatal(err)
		}
	}
	if n := is.introspectHits.Load(); n != 3 {
		t.Fatalf("introspected %d times, want 3", n)
	}
}

// TestIntrospectionCacheStopsAtExpiry: a positive answer is not reused past
// the credential's own exp.
func TestIntrospectionCacheStopsAtExpiry(t *testing.T) {
	is := newTestIssuer(t)
	a := is.apiKeyAnswer()
	a["exp"] = is.clock.Now().Add(5 * time.Second).Unix()
	is.setActive(apiKey, a)
	v := is.verifier(withIntrospection, func(c *resource.Config) { c.Leeway = -1 })
	if _, err := v.Verify(ctx, apiKey); err != nil {
		t.Fatal(err)
	}
	is.clock.Advance(5 * time.Second)
	if _, err := v.Verify(ctx, apiKey); !errors.Is(err, resource.ErrExpiredToken) {
		t.Fatalf("err = %v, want ErrExpiredToken", err)
	}
	if n := is.introspectHits.Load(); n != 2 {
		t.Fatalf("introspected %d times, want 2", n)
	}
}

func TestIntrospectionRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(is *testIssuer, a map[string]any)
		want   error
	}{
		{"inactive", func(is *testIssuer, a map[string]any) { a["active"] = false }, resource.ErrInvalidToken},
		{"active not a boolean", func(is *testIssuer, a map[string]any) { a["active"] = "true" }, resource.ErrInvalidToken},
		{"refresh token", func(is *testIssuer, a map[string]any) { a["token_type"] = "refresh_token" }, resource.ErrInvalidToken},
		{"other issuer", func(is *testIssuer, a map[string]any) { a["iss"] = "https://evil.example" }, resource.ErrInvalidToken},
		{"other audience", func(is *testIssuer, a map[string]any) { a["aud"] = "https://other.example" }, resource.ErrInvalidToken},
		{"expired", func(is *testIssuer, a map[string]any) { a["exp"] = is.clock.Now().Add(-time.Hour).Unix() }, resource.ErrExpiredToken},
		{"not yet valid", func(is *testIssuer, a map[string]any) { a["nbf"] = is.clock.Now().Add(time.Hour).Unix() }, resource.ErrInvalidToken},
		{"sub not a string", func(is *testIssuer, a map[string]any) { a["sub"] = 5 }, resource.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := newTestIssuer(t)
			a := is.apiKeyAnswer()
			tt.change(is, a)
			is.setActive(apiKey, a)
			id, err := is.verifier(withIntrospection).Verify(ctx, apiKey)
			if !errors.Is(err, tt.want) || id != nil {
				t.Fatalf("Verify = %v, %v; want %v", id, err, tt.want)
			}
			assertNoTokenIn(t, err.Error(), apiKey)
		})
	}
}

func TestIntrospectionUnavailable(t *testing.T) {
	is := newTestIssuer(t)
	is.setActive(apiKey, is.apiKeyAnswer())
	v := is.verifier(withIntrospection, func(c *resource.Config) { c.Introspection.ClientSecret = "wrong" })
	for range 2 {
		_, err := v.Verify(ctx, apiKey)
		if !errors.Is(err, resource.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		assertNoTokenIn(t, err.Error(), apiKey)
	}
	if n := is.introspectHits.Load(); n != 2 {
		t.Fatalf("introspected %d times, want 2: failures are not cached", n)
	}
}
