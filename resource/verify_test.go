package resource_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-auth/gatehouse/resource"
)

var ctx = context.Background()

func TestVerifyAcceptsAccessToken(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	tok := is.token()
	id, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &resource.Identity{
		Subject:  "user-1",
		ClientID: "gatehouse-cli",
		Username: "alice",
		Scopes:   []string{"openid", "read", "write"},
		Roles:    []string{"viewer", "editor"},
		Expiry:   is.clock.Now().Add(300 * time.Second),
		TokenID:  "tok-1",
		Method:   resource.MethodJWT,
	}
	if diff := cmp.Diff(want, id, cmpopts.IgnoreFields(resource.Identity{}, "Claims")); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if id.Claims["gid"] != "grant-1" || id.Claims["iss"] != is.url {
		t.Errorf("claims %v", id.Claims)
	}
	if !id.HasScope("read") || id.HasScope("admin") || !id.HasRole("editor") || id.HasRole("admin") {
		t.Error("HasScope/HasRole disagree with the claims")
	}
	// The second time the same token is answered from the cache.
	again, err := v.Verify(ctx, tok)
	if err != nil || again != id {
		t.Errorf("repeated token: %p, %v; want the cached %p", again, err, id)
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
}

func TestVerifyAcceptsVariants(t *testing.T) {
	is := newTestIssuer(t)
	ed := is.addKey(resource.EdDSA)
	now := is.clock.Now().Unix()
	tests := []struct {
		name string
		cfg  func(*resource.Config)
		tok  func() string
	}{
		{"EdDSA", nil, func() string { return sign(t, ed, header(ed), is.claims()) }},
		{"typ application/at+jwt", nil, func() string { return signWith(is, hdr("typ", "application/at+jwt")) }},
		{"typ in upper case", nil, func() string { return signWith(is, hdr("typ", "AT+JWT")) }},
		{"aud as a string", nil, func() string { return signWith(is, claim("aud", is.url)) }},
		{"one of several audiences", func(c *resource.Config) { c.Audience = []string{"https://api.example", is.url} }, func() string {
			return signWith(is, claim("aud", []string{"https://other.example", "https://api.example"}))
		}},
		{"expired within leeway", nil, func() string { return signWith(is, claim("exp", now-29)) }},
		{"nbf within leeway", nil, func() string { return signWith(is, claim("nbf", now+29)) }},
		{"iat within leeway", nil, func() string { return signWith(is, claim("iat", now+29)) }},
		{"fractional exp", nil, func() string { return signWith(is, claim("exp", float64(now)+0.5+60)) }},
		{"no scope or roles", nil, func() string { return signWith(is, claim("scope", nil), claim("roles", nil)) }},
		{"made by go-jose", nil, func() string { return goJoseToken(t, is) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*resource.Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			if _, err := is.verifier(mods...).Verify(ctx, tt.tok()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// goJoseToken signs the default claims with go-jose, a signer this package
// does not share code with.
func goJoseToken(t *testing.T, is *testIssuer) string {
	k := is.key(0)
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", k.kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(is.claims()).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// change is one change to the default header (hdr) or claims (claim) of
// a token; a nil value deletes the member.
type change struct {
	header bool
	name   string
	value  any
}

func hdr(name string, value any) change   { return change{true, name, value} }
func claim(name string, value any) change { return change{false, name, value} }

func apply(m map[string]any, header bool, cs []change) map[string]any {
	for _, c := range cs {
		switch {
		case c.header != header:
		case c.value == nil:
			delete(m, c.name)
		default:
			m[c.name] = c.value
		}
	}
	return m
}

// signWith signs the default claims with the first key after applying
// changes to the header and claims.
func signWith(is *testIssuer, cs ...change) string {
	k := is.key(0)
	return sign(is.t, k, apply(header(k), true, cs), apply(is.claims(), false, cs))
}

// TestVerifyRejects covers SECURITY-CASES 20 and RFC 8725: every row is
// refused by one check (named by detail), so removing that check makes
// the row fail.
func TestVerifyRejects(t *testing.T) {
	is := newTestIssuer(t)
	ed := is.addKey(resource.EdDSA)
	unpublished := &testKey{kid: is.key(0).kid, alg: resource.ES256, priv: newTestIssuer(t).key(0).priv}
	now := is.clock.Now().Unix()
	tamper := func(tok string, part int) string {
		parts := strings.Split(tok, ".")
		b := []byte(parts[part])
		if b[len(b)/2] == 'A' {
			b[len(b)/2] = 'B'
		} else {
			b[len(b)/2] = 'A'
		}
		parts[part] = string(b)
		return strings.Join(parts, ".")
	}
	tests := []struct {
		name   string
		cfg    func(*resource.Config)
		tok    func() string
		want   error
		detail string
	}{
		// RFC 9068 §4 / RFC 8725 §3.11: explicit typing.
		{"ID token", nil, func() string {
			return signWith(is, hdr("typ", "JWT"), claim("aud", "gatehouse-cli"), claim("nonce", "n"))
		}, resource.ErrInvalidToken, "typ"},
		{"typ JWT", nil, func() string { return signWith(is, hdr("typ", "JWT")) }, resource.ErrInvalidToken, "typ"},
		{"no typ", nil, func() string { return signWith(is, hdr("typ", nil)) }, resource.ErrInvalidToken, "typ"},
		{"typ application/jwt", nil, func() string { return signWith(is, hdr("typ", "application/jwt")) }, resource.ErrInvalidToken, "typ"},
		{"typ at+jwt+x", nil, func() string { return signWith(is, hdr("typ", "at+jwtx")) }, resource.ErrInvalidToken, "typ"},
		// RFC 8725 §2.1, §3.1: algorithms.
		{"alg none", nil, func() string { return signWith(is, hdr("alg", "none")) }, resource.ErrInvalidToken, "alg"},
		{"HS256 keyed with the public key", nil, func() string { return signWith(is, hdr("alg", "HS256")) }, resource.ErrInvalidToken, "alg"},
		{"alg not on the allow-list", func(c *resource.Config) { c.Algorithms = []string{resource.EdDSA} }, func() string { return signWith(is) }, resource.ErrInvalidToken, "not allowed"},
		{"alg of another key type", nil, func() string {
			k := is.key(0) // ES256 key and signature, header says EdDSA
			return sign(t, k, apply(header(k), true, []change{hdr("alg", resource.EdDSA)}), is.claims())
		}, resource.ErrInvalidToken, "does not fit the key"},
		{"EdDSA key with ES256 header", nil, func() string {
			return sign(t, ed, apply(header(ed), true, []change{hdr("alg", resource.ES256)}), is.claims())
		}, resource.ErrInvalidToken, "does not fit the key"},
		{"crit header", nil, func() string { return signWith(is, hdr("crit", []string{"exp"})) }, resource.ErrInvalidToken, "crit"},
		// Keys.
		{"unknown kid", nil, func() string { return signWith(is, hdr("kid", "nobody")) }, resource.ErrInvalidToken, "kid"},
		{"no kid", nil, func() string { return signWith(is, hdr("kid", nil)) }, resource.ErrInvalidToken, "kid"},
		{"signed by an unpublished key under a known kid", nil, func() string {
			return sign(t, unpublished, header(unpublished), is.claims())
		}, resource.ErrInvalidToken, "bad signature"},
		{"payload changed after signing", nil, func() string { return tamper(signWith(is), 1) }, resource.ErrInvalidToken, "bad signature"},
		{"signature changed", nil, func() string { return tamper(signWith(is), 2) }, resource.ErrInvalidToken, "bad signature"},
		{"signature truncated", nil, func() string { tok := signWith(is); return tok[:len(tok)-4] }, resource.ErrInvalidToken, "signature"},
		// Claims (RFC 9068 §2.2, §4).
		{"other issuer", nil, func() string { return signWith(is, claim("iss", "https://evil.example")) }, resource.ErrInvalidToken, "iss"},
		{"issuer with a trailing slash", nil, func() string { return signWith(is, claim("iss", is.url+"/")) }, resource.ErrInvalidToken, "iss"},
		{"no issuer", nil, func() string { return signWith(is, claim("iss", nil)) }, resource.ErrInvalidToken, "iss"},
		{"other audience", nil, func() string { return signWith(is, claim("aud", []string{"https://other.example"})) }, resource.ErrInvalidToken, "aud"},
		{"audience not configured", func(c *resource.Config) { c.Audience = []string{"https://api.example"} }, func() string { return signWith(is) }, resource.ErrInvalidToken, "aud"},
		{"no audience", nil, func() string { return signWith(is, claim("aud", nil)) }, resource.ErrInvalidToken, "aud"},
		{"expired", nil, func() string { return signWith(is, claim("exp", now-31)) }, resource.ErrExpiredToken, "expired"},
		{"expired without leeway", func(c *resource.Config) { c.Leeway = -1 }, func() string { return signWith(is, claim("exp", now)) }, resource.ErrExpiredToken, "expired"},
		{"no exp", nil, func() string { return signWith(is, claim("exp", nil)) }, resource.ErrInvalidToken, "exp is missing"},
		{"exp a string", nil, func() string { return signWith(is, claim("exp", "tomorrow")) }, resource.ErrInvalidToken, "exp is not a NumericDate"},
		{"nbf in the future", nil, func() string { return signWith(is, claim("nbf", now+31)) }, resource.ErrInvalidToken, "nbf"},
		{"iat in the future", nil, func() string { return signWith(is, claim("iat", now+31)) }, resource.ErrInvalidToken, "iat"},
		{"no iat", nil, func() string { return signWith(is, claim("iat", nil)) }, resource.ErrInvalidToken, "iat"},
		{"no sub", nil, func() string { return signWith(is, claim("sub", nil)) }, resource.ErrInvalidToken, "sub"},
		{"no client_id", nil, func() string { return signWith(is, claim("client_id", nil)) }, resource.ErrInvalidToken, "client_id"},
		{"no jti", nil, func() string { return signWith(is, claim("jti", nil)) }, resource.ErrInvalidToken, "jti"},
		{"username not a string", nil, func() string { return signWith(is, claim("preferred_username", 7)) }, resource.ErrInvalidToken, "preferred_username"},
		{"scope not a string", nil, func() string { return signWith(is, claim("scope", []string{"read"})) }, resource.ErrInvalidToken, "scope"},
		{"roles not strings", nil, func() string { return signWith(is, claim("roles", []any{"admin", 1})) }, resource.ErrInvalidToken, "roles"},
		// Shape.
		{"garbage with two dots", nil, func() string { return "a.b.c" }, resource.ErrInvalidToken, "header"},
		{"header not JSON", nil, func() string { return enc.EncodeToString([]byte("[1]")) + ".e30.AA" }, resource.ErrInvalidToken, "header"},
		{"padded part", nil, func() string { return signWith(is) + "==" }, resource.ErrInvalidToken, "base64url"},
		{"not a bearer token", nil, func() string { return "abc def" }, resource.ErrInvalidToken, "not a bearer token"},
		{"opaque without introspection", nil, func() string { return "gatehouse_k1_c2VjcmV0" }, resource.ErrInvalidToken, "introspection is not configured"},
		{"empty", nil, func() string { return "" }, resource.ErrInvalidToken, "empty"},
		{"too long", nil, func() string { return strings.Repeat("a", 1<<20) }, resource.ErrInvalidToken, "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*resource.Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			tok := tt.tok()
			id, err := is.verifier(mods...).Verify(ctx, tok)
			if !errors.Is(err, tt.want) || id != nil {
				t.Fatalf("Verify = %v, %v; want %v", id, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not name %q", err, tt.detail)
			}
			assertNoTokenIn(t, err.Error(), tok)
		})
	}
}

// assertNoTokenIn fails when s holds the token or any long part of it.
func assertNoTokenIn(t *testing.T, s, tok string) {
	t.Helper()
	if tok == "" {
		return
	}
	for _, part := range append(strings.Split(tok, "."), tok) {
		if len(part) >= 8 && strings.Contains(s, part) {
			t.Errorf("%q echoes the token", s)
		}
	}
}

func TestCachedTokenRespectsExpiry(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	tok := is.token() // exp = now + 300 s, leeway 30 s
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	is.clock.Advance(329 * time.Second)
	if id, err := v.Verify(ctx, tok); err != nil || id != first {
		t.Fatalf("within leeway: %p, %v; want the cached identity", id, err)
	}
	is.clock.Advance(time.Second)
	if id, err := v.Verify(ctx, tok); !errors.Is(err, resource.ErrExpiredToken) {
		t.Fatalf("after exp + leeway: %v, %v; want ErrExpiredToken", id, err)
	}
}

func TestRequiredScopes(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier(func(c *resource.Config) { c.RequiredScopes = []string{"read", "admin"} })
	tok := is.token()
	for range 2 { // first sight and cached
		if _, err := v.Verify(ctx, tok); !errors.Is(err, resource.ErrInsufficientScope) {
			t.Fatalf("err = %v, want ErrInsufficientScope", err)
		}
	}
	ok := signWith(is, claim("scope", "admin read"))
	if _, err := v.Verify(ctx, ok); err != nil {
		t.Fatal(err)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	is := newTestIssuer(t)
	aud := []string{is.url}
	tests := []struct {
		name string
		cfg  resource.Config
	}{
		{"no issuer", resource.Config{Audience: aud}},
		{"issuer not a URL", resource.Config{Issuer: "auth.example", Audience: aud}},
		{"issuer with query", resource.Config{Issuer: "https://auth.example/?x=1", Audience: aud, JWKSURL: "https://auth.example/jwks"}},
		{"no audience", resource.Config{Issuer: is.url}},
		{"alg none", resource.Config{Issuer: is.url, Audience: aud, Algorithms: []string{"none"}}},
		{"alg HS256", resource.Config{Issuer: is.url, Audience: aud, Algorithms: []string{"HS256"}}},
		{"alg unknown", resource.Config{Issuer: is.url, Audience: aud, Algorithms: []string{"ES256", "RS257"}}},
		{"empty audience", resource.Config{Issuer: is.url, Audience: []string{""}}},
		{"introspection without secret", resource.Config{Issuer: is.url, Audience: aud, Introspection: &resource.IntrospectionConfig{ClientID: "x"}}},
		{"negative cache size", resource.Config{Issuer: is.url, Audience: aud, CacheSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.HTTPClient = is.srv.Client()
			if v, err := resource.NewVerifier(ctx, tt.cfg); err == nil {
				t.Fatalf("NewVerifier = %v, want an error", v)
			}
		})
	}
}

// TestRSAAllowList checks that RSA tokens pass only when the operator
// lists their algorithm, and that the key's type and alg still bind.
func TestRSAAllowList(t *testing.T) {
	is := newTestIssuer(t)
	rs := is.addKey(resource.RS256)
	ps := is.addKey(resource.PS256)
	rsTok := sign(t, rs, header(rs), is.claims())
	psTok := sign(t, ps, header(ps), is.claims())
	allowRSA := func(c *resource.Config) { c.Algorithms = []string{resource.ES256, resource.RS256, resource.PS256} }

	if _, err := is.verifier().Verify(ctx, rsTok); !errors.Is(err, resource.ErrInvalidToken) || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("RS256 with the default allow-list: %v", err)
	}
	v := is.verifier(allowRSA)
	for name, tok := range map[string]string{"RS256": rsTok, "PS256": psTok, "ES256": is.token()} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s with RSA allowed: %v", name, err)
		}
	}
	// The JWK of rs says RS256: a PS256 signature under its kid fails,
	// though PS256 is allowed and the key is RSA.
	psUnderRS := &testKey{kid: rs.kid, alg: resource.PS256, priv: rs.priv}
	if _, err := v.Verify(ctx, sign(t, psUnderRS, header(psUnderRS), is.claims())); !errors.Is(err, resource.ErrInvalidToken) || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("PS256 under an RS256 key: %v", err)
	}
	// RS256 named for an EC key fails: the token does not pick the key type.
	ec := is.key(0)
	if _, err := v.Verify(ctx, sign(t, ec, apply(header(ec), true, []change{hdr("alg", resource.RS256)}), is.claims())); !errors.Is(err, resource.ErrInvalidToken) {
		t.Errorf("RS256 header on an EC key: %v", err)
	}
}

// TestValidateRequiresAudience: Config.Validate alone (which the CLI calls
// before NewVerifier) refuses a config without an audience.
func TestValidateRequiresAudience(t *testing.T) {
	err := resource.Config{Issuer: "https://auth.example"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "audience is required") {
		t.Fatalf("Validate = %v, want an audience required", err)
	}
	if err := (resource.Config{Issuer: "https://auth.example", Audience: []string{"https://api.example"}}).Validate(); err != nil {
		t.Fatal(err)
	}
}
