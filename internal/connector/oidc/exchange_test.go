package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

func TestHappyPath(t *testing.T) {
	f := newFake(t)
	c := f.connector(t, f.config(t))
	id, err := f.login(t, c)
	if err != nil {
		t.Fatal(err)
	}
	want := connector.Identity{ConnectorID: "up", Subject: fakeSubject, Username: "ada", Email: "ada@example.com", EmailVerified: true,
		Name: "Ada Lovelace", Groups: []string{"ops-admins", "analysts"}, AMR: []string{"pwd", "mfa"}}
	if id.ConnectorID != want.ConnectorID || id.Subject != want.Subject || id.Username != want.Username || id.Email != want.Email ||
		id.EmailVerified != want.EmailVerified || id.Name != want.Name || !slices.Equal(id.Groups, want.Groups) || !slices.Equal(id.AMR, want.AMR) {
		t.Errorf("identity = %+v\nwant %+v", *id, want)
	}
	if got := id.Claims["department"]; !slices.Equal(got, []string{"research"}) {
		t.Errorf("Claims[department] = %q", got)
	}
	if got := id.Claims["groups"]; !slices.Equal(got, want.Groups) {
		t.Errorf("Claims[groups] = %q", got)
	}
	if _, ok := id.Claims["nonce"]; ok {
		t.Error("Claims has the nonce")
	}
	if f.lastAuth != "basic" {
		t.Errorf("client authenticated with %s, want client_secret_basic", f.lastAuth)
	}
	// The ID token had everything: no userinfo call.
	if n := f.count("/userinfo"); n != 0 {
		t.Errorf("userinfo called %d times", n)
	}
	// A second sign-in uses the cached discovery document and keys.
	if _, err := f.login(t, c); err != nil {
		t.Fatal(err)
	}
	if n, k := f.count(wellKnown), f.count("/jwks"); n != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, JWKS %d times; want once each", n, k)
	}
}

func TestAuthCodeURL(t *testing.T) {
	f := newFake(t)
	cfg := f.config(t)
	cfg.HostedDomain = "example.com"
	cfg.Scopes = []string{"email", "groups"}
	cfg.AuthParams = map[string]string{"prompt": "select_account"}
	c := f.connector(t, cfg)
	p := newPending(t)
	raw, err := c.AuthCodeURL(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	if got := u.Scheme + "://" + u.Host + u.Path; got != f.issuer()+"/authorize" {
		t.Errorf("endpoint %s", got)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": fakeClientID, "redirect_uri": fakeRedirect, "scope": "openid email groups",
		"state": p.State, "nonce": p.Nonce, "code_challenge": challenge(p.CodeVerifier), "code_challenge_method": "S256",
		"hd": "example.com", "prompt": "select_account",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	// RFC 7636 Appendix B's example.
	if got := challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge = %s", got)
	}
	// Default scopes.
	c2 := f.connector(t, f.config(t))
	raw, _ = c2.AuthCodeURL(context.Background(), p)
	u, _ = url.Parse(raw)
	if s := u.Query().Get("scope"); s != "openid email profile" || u.Query().Has("hd") {
		t.Errorf("default request: scope %q, hd %v", s, u.Query().Has("hd"))
	}
	// A pending sign-in without a proper verifier is refused.
	bad := p
	bad.CodeVerifier = "short"
	if _, err := c.AuthCodeURL(context.Background(), bad); err == nil {
		t.Error("a 5-character code verifier was accepted")
	}
}

// TestPKCEVerifiedByProvider shows that the fake checks the verifier, so
// the happy path proves the connector sends the right one.
func TestPKCEVerifiedByProvider(t *testing.T) {
	f := newFake(t)
	c := f.connector(t, f.config(t))
	p := newPending(t)
	q := authorize(t, c, f.srv.Client(), p)
	p.CodeVerifier = strings.Repeat("x", 43)
	_, err := c.Exchange(context.Background(), q, p)
	if !errors.Is(err, connector.ErrInvalidCredentials) || !strings.Contains(err.Error(), "PKCE") {
		t.Fatalf("wrong verifier: %v", err)
	}
}

// expectErr signs in and wants err to wrap target and to mention want.
func expectErr(t *testing.T, f *fakeProvider, c *Connector, target error, want string) {
	t.Helper()
	id, err := f.login(t, c)
	if !errors.Is(err, target) {
		t.Fatalf("err = %v (identity %+v), want %v", err, id, target)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to mention %q", err, want)
	}
}

func TestIDTokenChecks(t *testing.T) {
	testKeys(t)
	for _, tc := range []struct {
		name   string
		claims func(map[string]any)
		raw    func(*testing.T) func(map[string]any) string
		doc    func(map[string]any)
		want   string
	}{
		{name: "missing nonce", claims: func(c map[string]any) { delete(c, "nonce") }, want: "nonce is missing"},
		{name: "wrong nonce", claims: func(c map[string]any) { c["nonce"] = "another-sign-in" }, want: "nonce does not match"},
		{name: "wrong aud", claims: func(c map[string]any) { c["aud"] = "another-client" }, want: "wrong audience"},
		{name: "azp mismatch", claims: func(c map[string]any) { c["aud"] = []string{fakeClientID, "other"}; c["azp"] = "other" }, want: "azp"},
		{name: "several aud without azp", claims: func(c map[string]any) { c["aud"] = []string{fakeClientID, "other"} }, want: "no azp"},
		{name: "azp of another client with one aud", claims: func(c map[string]any) { c["azp"] = "other" }, want: "azp"},
		{name: "wrong iss", claims: func(c map[string]any) { c["iss"] = "https://evil.example" }, want: "wrong issuer"},
		{name: "expired", claims: func(c map[string]any) {
			c["iat"] = testStartTime.Add(-time.Hour).Unix()
			c["exp"] = testStartTime.Add(-2 * Leeway).Unix()
		}, want: "expired"},
		{name: "no exp", claims: func(c map[string]any) { delete(c, "exp") }, want: "exp is missing"},
		{name: "issued in the future", claims: func(c map[string]any) { c["iat"] = testStartTime.Add(10 * time.Minute).Unix() }, want: "iat"},
		{name: "no iat", claims: func(c map[string]any) { delete(c, "iat") }, want: "iat is missing"},
		{name: "no sub", claims: func(c map[string]any) { delete(c, "sub") }, want: "sub is missing"},
		{name: "at_hash mismatch", claims: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }, want: "at_hash"},
		{name: "alg none", raw: func(*testing.T) func(map[string]any) string {
			return func(c map[string]any) string {
				h, _ := json.Marshal(map[string]string{"alg": "none", "kid": "k1"})
				p, _ := json.Marshal(c)
				return b64(h) + "." + b64(p) + "."
			}
		}, want: "not allowed"},
		{name: "alg none advertised", doc: func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"none", "RS256"} },
			raw: func(*testing.T) func(map[string]any) string {
				return func(c map[string]any) string {
					h, _ := json.Marshal(map[string]string{"alg": "none"})
					p, _ := json.Marshal(c)
					return b64(h) + "." + b64(p) + "."
				}
			}, want: "not allowed"},
		{name: "HS256 with the public key as secret", raw: hs256WithPublicKey, want: "HMAC"},
		{name: "HS256 with the public key, HS256 advertised", raw: hs256WithPublicKey,
			doc: func(d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"RS256", "HS256"} }, want: "HMAC"},
		{name: "alg not advertised", raw: func(t *testing.T) func(map[string]any) string { return signWith(t, ecKey, jwt.ES256, "ec1") }, want: "not allowed"},
		{name: "PS256 with the RSA key, not advertised", raw: func(t *testing.T) func(map[string]any) string { return signWith(t, rsaKey, jwt.PS256, "k1") }, want: "not allowed"},
		{name: "wrong signature", raw: func(t *testing.T) func(map[string]any) string { return signWith(t, rsa2, jwt.RS256, "k1") }, want: "signature"},
		{name: "unknown kid", raw: func(t *testing.T) func(map[string]any) string { return signWith(t, rsa2, jwt.RS256, "k9") }, want: "unknown key"},
		{name: "tampered payload", raw: func(t *testing.T) func(map[string]any) string {
			sign := signWith(t, rsaKey, jwt.RS256, "k1")
			return func(c map[string]any) string {
				tok := sign(c)
				c["email"] = "mallory@example.com"
				p, _ := json.Marshal(c)
				parts := strings.Split(tok, ".")
				return parts[0] + "." + b64(p) + "." + parts[2]
			}
		}, want: "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.claims = tc.claims
			if tc.raw != nil {
				f.rawToken = tc.raw(t)
			}
			if tc.doc != nil {
				tc.doc(f.doc)
			}
			c := f.connector(t, f.config(t))
			expectErr(t, f, c, connector.ErrInvalidCredentials, tc.want)
		})
	}
}

// hs256WithPublicKey signs with HS256 keyed by the provider's public key
// (its DER), the classic key-confusion forgery.
func hs256WithPublicKey(*testing.T) func(map[string]any) string {
	return func(c map[string]any) string {
		der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": "k1", "typ": "JWT"})
		p, _ := json.Marshal(c)
		input := b64(h) + "." + b64(p)
		m := hmac.New(sha256.New, der)
		m.Write([]byte(input))
		return input + "." + b64(m.Sum(nil))
	}
}

func TestAcceptedVariants(t *testing.T) {
	testKeys(t)
	t.Run("several audiences with azp", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(c map[string]any) { c["aud"] = []string{"other", fakeClientID}; c["azp"] = fakeClientID }
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired within the leeway", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(c map[string]any) { c["exp"] = testStartTime.Add(-Leeway / 2).Unix() }
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ES256 advertised", func(t *testing.T) {
		f := newFake(t)
		f.doc["id_token_signing_alg_values_supported"] = []string{"ES256"}
		f.rawToken = signWith(t, ecKey, jwt.ES256, "ec1")
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no algorithms advertised means RS256", func(t *testing.T) {
		f := newFake(t)
		delete(f.doc, "id_token_signing_alg_values_supported")
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
		f2 := newFake(t)
		delete(f2.doc, "id_token_signing_alg_values_supported")
		f2.rawToken = signWith(t, ecKey, jwt.ES256, "ec1")
		expectErr(t, f2, f2.connector(t, f2.config(t)), connector.ErrInvalidCredentials, "not allowed")
	})
	t.Run("good at_hash", func(t *testing.T) {
		f := newFake(t)
		f.token = func(resp map[string]any) {
			// Re-sign with at_hash of the access token actually sent.
			tok, _ := jwt.DecodeUnverified(resp["id_token"].(string))
			h, _ := accessTokenHash(jwt.RS256, resp["access_token"].(string))
			tok.ClaimSet["at_hash"] = h
			resp["id_token"], _ = f.signer.Sign("JWT", tok.ClaimSet)
		}
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("HS256 configured, keyed with the client secret", func(t *testing.T) {
		f := newFake(t)
		f.doc["id_token_signing_alg_values_supported"] = []string{"RS256", "HS256"}
		s, err := jwt.NewHMACSigner([]byte(fakeSecret), "")
		if err != nil {
			t.Fatal(err)
		}
		f.rawToken = func(c map[string]any) string { tok, _ := s.Sign("JWT", c); return tok }
		// Not configured: refused even though the provider lists it.
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "HMAC needs a shared secret")
		cfg := f.config(t)
		cfg.IDTokenAlgorithms = []string{jwt.HS256}
		if _, err := f.login(t, f.connector(t, cfg)); err != nil {
			t.Fatal(err)
		}
		// Configured, a token keyed with the public key still fails.
		f.rawToken = hs256WithPublicKey(t)
		expectErr(t, f, f.connector(t, cfg), connector.ErrInvalidCredentials, "signature")
	})
}

func TestAuthorizationResponseChecks(t *testing.T) {
	f := newFake(t)
	c := f.connector(t, f.config(t))
	run := func(t *testing.T, mutate func(q url.Values), target error, want string) {
		t.Helper()
		p := newPending(t)
		q := authorize(t, c, f.srv.Client(), p)
		mutate(q)
		_, err := c.Exchange(context.Background(), q, p)
		if !errors.Is(err, target) || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %v mentioning %q", err, target, want)
		}
	}
	t.Run("bad state", func(t *testing.T) {
		run(t, func(q url.Values) { q.Set("state", "forged") }, connector.ErrInvalidCredentials, "state")
	})
	t.Run("missing state", func(t *testing.T) {
		run(t, func(q url.Values) { q.Del("state") }, connector.ErrInvalidCredentials, "state")
	})
	t.Run("state twice", func(t *testing.T) {
		run(t, func(q url.Values) { q.Add("state", "forged") }, connector.ErrInvalidCredentials, "more than once")
	})
	t.Run("iss missing while advertised", func(t *testing.T) {
		run(t, func(q url.Values) { q.Del("iss") }, connector.ErrInvalidCredentials, "no iss")
	})
	t.Run("iss of another issuer", func(t *testing.T) {
		run(t, func(q url.Values) { q.Set("iss", "https://attacker.example") }, connector.ErrInvalidCredentials, "mix-up")
	})
	t.Run("iss with a trailing slash", func(t *testing.T) {
		run(t, func(q url.Values) { q.Set("iss", f.issuer()+"/") }, connector.ErrInvalidCredentials, "mix-up")
	})
	t.Run("error response", func(t *testing.T) {
		run(t, func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "The user said no")
		}, connector.ErrInvalidCredentials, "The user said no")
	})
	t.Run("no code", func(t *testing.T) {
		run(t, func(q url.Values) { q.Del("code") }, connector.ErrInvalidCredentials, "neither code nor error")
	})
	t.Run("code used twice", func(t *testing.T) {
		p := newPending(t)
		q := authorize(t, c, f.srv.Client(), p)
		if _, err := c.Exchange(context.Background(), q, p); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exchange(context.Background(), q, p)
		if !errors.Is(err, connector.ErrInvalidCredentials) || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("second redemption: %v", err)
		}
	})
}

func TestIssNotAdvertised(t *testing.T) {
	f := newFake(t)
	f.doc["authorization_response_iss_parameter_supported"] = false
	c := f.connector(t, f.config(t))
	// Without iss: fine, the provider does not send it.
	if _, err := f.login(t, c); err != nil {
		t.Fatal(err)
	}
	// With a wrong one: refused all the same.
	p := newPending(t)
	q := authorize(t, c, f.srv.Client(), p)
	q.Set("iss", "https://attacker.example")
	if _, err := c.Exchange(context.Background(), q, p); !errors.Is(err, connector.ErrInvalidCredentials) {
		t.Fatalf("wrong iss while not advertised: %v", err)
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	t.Run("error answer", func(t *testing.T) {
		f := newFake(t)
		f.tokenError = "invalid_grant"
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "invalid_grant")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		f := newFake(t)
		c := f.connector(t, f.config(t))
		c.secret = "not-the-secret"
		expectErr(t, f, c, connector.ErrUnavailable, "check client_id")
	})
	t.Run("no id_token", func(t *testing.T) {
		f := newFake(t)
		f.token = func(r map[string]any) { delete(r, "id_token") }
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "no id_token")
	})
	t.Run("token_type not Bearer", func(t *testing.T) {
		f := newFake(t)
		f.token = func(r map[string]any) { r["token_type"] = "DPoP" }
		expectErr(t, f, f.connector(t, f.config(t)), connector.ErrInvalidCredentials, "token_type")
	})
	t.Run("client_secret_post when basic is not offered", func(t *testing.T) {
		f := newFake(t)
		f.doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"}
		if _, err := f.login(t, f.connector(t, f.config(t))); err != nil {
			t.Fatal(err)
		}
		if f.lastAuth != "post" {
			t.Errorf("client authenticated with %s", f.lastAuth)
		}
	})
	t.Run("token_auth_method forces client_secret_post", func(t *testing.T) {
		f := newFake(t)
		cfg := f.config(t)
		cfg.TokenAuthMethod = "client_secret_post"
		if _, err := f.login(t, f.connector(t, cfg)); err != nil {
			t.Fatal(err)
		}
		if f.lastAuth != "post" {
			t.Errorf("client authenticated with %s", f.lastAuth)
		}
	})
	t.Run("only private_key_jwt", func(t *testing.T) {
		f := newFake(t)
		f.doc["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
		c := f.connector(t, f.config(t))
		_, err := c.AuthCodeURL(context.Background(), newPending(t))
		if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "private_key_jwt") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPublicClient(t *testing.T) {
	f := newFake(t)
	cfg := Config{Issuer: f.issuer(), ClientID: fakeClientID, PublicClient: true}
	if _, err := f.login(t, f.connector(t, cfg)); err != nil {
		t.Fatal(err)
	}
	if f.lastAuth != "none" {
		t.Errorf("a public client authenticated with %s", f.lastAuth)
	}
	f2 := newFake(t)
	delete(f2.doc, "code_challenge_methods_supported")
	cfg.Issuer = f2.issuer()
	_, err := f2.connector(t, cfg).AuthCodeURL(context.Background(), newPending(t))
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "PKCE") {
		t.Fatalf("public client without S256 at the provider: %v", err)
	}
}
