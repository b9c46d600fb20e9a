package proxy

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// assertionCacheSize bounds the signed assertions kept for reuse.
const assertionCacheSize = 10_000

// assertionSigner signs the short-lived JWT the gateway sends upstream in
// X-Gatehouse-Assertion, so that an application can check the identity
// headers came from the gateway (an Ed25519 signature, EdDSA, verifiable
// with the keys at /_gatehouse/jwks). The key is derived from the secret
// key, so every replica sharing that key signs with the same key.
//
// Signing costs tens of microseconds, so an assertion is reused for half
// its lifetime for the same identity.
type assertionSigner struct {
	priv     ed25519.PrivateKey
	kid      string
	issuer   string
	audience string
	ttl      time.Duration
	clock    clock.Clock
	cache    *lru.Cache[string, signedAssertion]
	jwks     []byte
}

type signedAssertion struct {
	jwt    string
	reuseB time.Time // reuse before this time
}

type assertionClaims struct {
	Issuer   string   `json:"iss"`
	Audience string   `json:"aud"`
	Subject  string   `json:"sub"`
	Username string   `json:"preferred_username,omitempty"`
	Email    string   `json:"email,omitempty"`
	Roles    []string `json:"roles"`
	Via      string   `json:"auth_via"`
	IssuedAt int64    `json:"iat"`
	Expires  int64    `json:"exp"`
}

func newAssertionSigner(key *secret.Key, issuer, audience string, ttl time.Duration, clk clock.Clock) *assertionSigner {
	priv := ed25519.NewKeyFromSeed(key.Derive("proxy assertion ed25519"))
	pub := priv.Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	kid := base64.RawURLEncoding.EncodeToString(sum[:12])
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}})
	c, _ := lru.New[string, signedAssertion](assertionCacheSize)
	return &assertionSigner{priv: priv, kid: kid, issuer: issuer, audience: audience, ttl: ttl, clock: clk, cache: c, jwks: jwks}
}

// sign returns a JWT asserting id, valid for the signer's ttl.
func (a *assertionSigner) sign(id *Identity) (string, error) {
	now := a.clock.Now()
	cacheKey := id.Via + "\x00" + id.Subject + "\x00" + id.Username + "\x00" + id.Email + "\x00" + strings.Join(id.Roles, ",")
	if v, ok := a.cache.Get(cacheKey); ok && now.Before(v.reuseB) {
		return v.jwt, nil
	}
	roles := id.Roles
	if roles == nil {
		roles = []string{}
	}
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": a.kid})
	claims, err := json.Marshal(assertionClaims{
		Issuer: a.issuer, Audience: a.audience, Subject: id.Subject, Username: id.Username, Email: id.Email,
		Roles: roles, Via: id.Via, IssuedAt: now.Unix(), Expires: now.Add(a.ttl).Unix(),
	})
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig := ed25519.Sign(a.priv, []byte(input))
	jwt := input + "." + base64.RawURLEncoding.EncodeToString(sig)
	a.cache.Add(cacheKey, signedAssertion{jwt: jwt, reuseB: now.Add(a.ttl / 2)})
	return jwt, nil
}

// handleJWKS publishes the assertion key.
func (g *Gateway) handleJWKS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(g.assertion.jwks)
}
