package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestPrivateKeyJWTClientAuthentication(t *testing.T) {
	// SECURITY-CASES 19.
	h := newHarness(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	h.addClient(storage.Client{ID: "svc", AuthMethod: "private_key_jwt", JWKS: string(set), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": "svc", "sub": "svc", "aud": h.issuer + PathToken, "exp": now.Add(time.Minute).Unix(), "jti": NewID()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(c map[string]any) string {
		b, _ := json.Marshal(c)
		obj, err := signer.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := obj.CompactSerialize()
		return s
	}
	unsigned := func(header map[string]any, c map[string]any, sig []byte) string {
		hb, _ := json.Marshal(header)
		cb, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	hs256WithPublicKey := func(c map[string]any) string {
		hb, _ := json.Marshal(map[string]any{"alg": "HS256", "kid": "k1"})
		cb, _ := json.Marshal(c)
		input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
		pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	post := func(assertion string) (int, map[string]any) {
		st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}, "", "")
		return st, body
	}

	good := sign(claims(nil))
	if st, body := post(good); st != 200 {
		t.Fatalf("valid assertion: %d %v", st, body)
	}
	cases := map[string]string{
		"replayed jti":     good,
		"alg none":         unsigned(map[string]any{"alg": "none", "kid": "k1"}, claims(nil), nil),
		"hs256 public key": hs256WithPublicKey(claims(nil)),
		"wrong aud":        sign(claims(func(c map[string]any) { c["aud"] = "https://elsewhere.example/token" })),
		"missing exp":      sign(claims(func(c map[string]any) { delete(c, "exp") })),
		"expired":          sign(claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })),
		"missing jti":      sign(claims(func(c map[string]any) { delete(c, "jti") })),
		"sub differs":      sign(claims(func(c map[string]any) { c["sub"] = "admin" })),
	}
	for name, a := range cases {
		if st, body := post(a); st != 401 || errCode(body) != "invalid_client" {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
}

// TestPrivateKeyJWTAudienceAndHorizon: aud must be this server's issuer or
// token endpoint as the sole audience (draft-ietf-oauth-rfc7523bis §5), a
// one-element array included; an array with another value besides ours is
// refused. exp may be at most oauth.MaxAssertionLifetime ahead, to the second,
// and must be after now. SECURITY-CASES 19.
func TestPrivateKeyJWTAudienceAndHorizon(t *testing.T) {
	h := newHarness(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	h.addClient(storage.Client{ID: "svc", AuthMethod: "private_key_jwt", JWKS: string(set), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	if now.Nanosecond() != 0 {
		t.Fatal("the boundary rows assume the fake clock is on a whole second")
	}
	tokenURL := h.issuer + PathToken
	tests := []struct {
		name string
		aud  any
		exp  time.Time
		ok   bool
	}{
		{"aud issuer", h.issuer, now.Add(time.Minute), true},
		{"aud token endpoint", tokenURL, now.Add(time.Minute), true},
		{"aud one-element array", []string{h.issuer}, now.Add(time.Minute), true},
		{"aud array with another value after ours", []string{h.issuer, "https://rs.example"}, now.Add(time.Minute), false},
		{"aud array with another value before ours", []string{"https://rs.example", tokenURL}, now.Add(time.Minute), false},
		{"aud array of issuer and token endpoint", []string{h.issuer, tokenURL}, now.Add(time.Minute), false},
		{"aud empty array", []string{}, now.Add(time.Minute), false},
		{"aud issuer with trailing slash", h.issuer + "/", now.Add(time.Minute), false},
		{"aud other server's token endpoint", "https://elsewhere.example/oauth2/token", now.Add(time.Minute), false},
		{"exp exactly at the horizon", h.issuer, now.Add(oauth.MaxAssertionLifetime), true},
		{"exp a second past the horizon", h.issuer, now.Add(oauth.MaxAssertionLifetime + time.Second), false},
		{"exp a second from now", h.issuer, now.Add(time.Second), true},
		{"exp now", h.issuer, now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"iss": "svc", "sub": "svc", "aud": tc.aud, "exp": tc.exp.Unix(), "jti": NewID()})
			obj, err := signer.Sign(b)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := obj.CompactSerialize()
			st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}, "", "")
			switch {
			case tc.ok && st != 200:
				t.Errorf("refused: %d %v", st, body)
			case !tc.ok && (st != 401 || errCode(body) != "invalid_client"):
				t.Errorf("accepted or wrong error: %d %v", st, body)
			}
		})
	}
}
