package resource_test

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// testIssuer is a stand-in authorization server: discovery, a JWKS made
// with go-jose from keys generated here, and an introspection endpoint.
// It counts the requests each endpoint gets.
type testIssuer struct {
	t     testing.TB
	srv   *httptest.Server
	url   string
	clock *clocktest.Fake

	mu           sync.Mutex
	keys         []*testKey // published in the JWKS
	cacheControl string
	jwksStatus   int
	active       map[string]map[string]any // token → introspection answer
	// docIssuer, when set, is the issuer the discovery document names
	// (default url); noIntrospection leaves introspection_endpoint out.
	docIssuer       string
	noIntrospection bool

	discoveryHits, jwksHits, introspectHits atomic.Int32
}

type testKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

const (
	introClientID     = "resource-server"
	introClientSecret = "s3cret:with/odd&chars"
)

// testRSAKey returns an RSA key made once per test binary (making one
// takes a while).
var testRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	is := &testIssuer{t: t, clock: clocktest.New(t0), cacheControl: "public, max-age=300", jwksStatus: http.StatusOK, active: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		is.discoveryHits.Add(1)
		is.mu.Lock()
		doc := map[string]any{
			"issuer":                 cmp.Or(is.docIssuer, is.url),
			"token_endpoint":         is.url + "/oauth2/token",
			"jwks_uri":               is.url + "/keys",
			"introspection_endpoint": is.url + "/introspect",
		}
		if is.noIntrospection {
			delete(doc, "introspection_endpoint")
		}
		is.mu.Unlock()
		writeJSON(w, doc)
	})
	mux.HandleFunc("GET /keys", is.serveJWKS)
	mux.HandleFunc("POST /introspect", is.serveIntrospect)
	is.srv = httptest.NewServer(mux)
	is.url = is.srv.URL
	t.Cleanup(is.srv.Close)
	is.addKey(resource.ES256)
	return is
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (is *testIssuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	is.jwksHits.Add(1)
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.jwksStatus != http.StatusOK {
		w.WriteHeader(is.jwksStatus)
		return
	}
	var set jose.JSONWebKeySet
	for _, k := range is.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		is.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	if is.cacheControl != "" {
		w.Header().Set("Cache-Control", is.cacheControl)
	}
	_, _ = w.Write(b)
}

func (is *testIssuer) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	is.introspectHits.Add(1)
	// RFC 6749 §2.3.1: id and secret are form-encoded inside Basic.
	id, sec, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	sec, _ = url.QueryUnescape(sec)
	if !ok || id != introClientID || sec != introClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	is.mu.Lock()
	answer, ok := is.active[r.PostFormValue("token")]
	is.mu.Unlock()
	if !ok {
		writeJSON(w, map[string]bool{"active": false})
		return
	}
	writeJSON(w, answer)
}

// addKey generates a key of alg, publishes it and returns it.
func (is *testIssuer) addKey(alg string) *testKey {
	is.t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case resource.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case resource.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case resource.RS256, resource.PS256:
		priv, err = testRSAKey()
	}
	if err != nil || priv == nil {
		is.t.Fatalf("generate %s key: %v", alg, err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	k := &testKey{kid: alg + "-" + string(rune('a'+len(is.keys))), alg: alg, priv: priv}
	is.keys = append(is.keys, k)
	return k
}

// removeKey takes a key out of the JWKS.
func (is *testIssuer) removeKey(k *testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = slices.DeleteFunc(is.keys, func(x *testKey) bool { return x == k })
}

func (is *testIssuer) key(i int) *testKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[i]
}

// setActive makes the introspection endpoint answer for token.
func (is *testIssuer) setActive(token string, answer map[string]any) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if answer == nil {
		delete(is.active, token)
		return
	}
	is.active[token] = answer
}

// claims returns valid access token claims at the fake clock's time.
func (is *testIssuer) claims() map[string]any {
	now := is.clock.Now().Unix()
	return map[string]any{
		"iss":                is.url,
		"sub":                "user-1",
		"aud":                []string{is.url},
		"exp":                now + 300,
		"iat":                now,
		"jti":                "tok-1",
		"client_id":          "gatehouse-cli",
		"scope":              "openid read write",
		"roles":              []string{"viewer", "editor"},
		"preferred_username": "alice",
		"gid":                "grant-1",
	}
}

// header returns the protected header Gatehouse writes for key k.
func header(k *testKey) map[string]any {
	return map[string]any{"alg": k.alg, "kid": k.kid, "typ": "at+jwt"}
}

// token signs default claims with the first key.
func (is *testIssuer) token() string {
	k := is.key(0)
	return sign(is.t, k, header(k), is.claims())
}

var enc = base64.RawURLEncoding

// sign makes a compact JWS by hand, so tests control every header member.
// The signature is made with k's own algorithm whatever hdr says, except
// for "none" (empty signature) and "HS256" (HMAC keyed with the public
// key's JWK, the classic key-confusion attack).
func sign(t testing.TB, k *testKey, hdr, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	var sig []byte
	switch hdr["alg"] {
	case "none":
	case "HS256":
		pub, err := jose.JSONWebKey{Key: k.priv.Public()}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	default:
		sig = rawSign(t, k, []byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

func rawSign(t testing.TB, k *testKey, input []byte) []byte {
	switch priv := k.priv.(type) {
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input)
	case *rsa.PrivateKey:
		digest := sha256.Sum256(input)
		var sig []byte
		var err error
		if k.alg == resource.PS256 {
			sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		}
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("unknown key type %T", k.priv)
	return nil
}

// verifier makes a Verifier for the issuer with its fake clock; mod
// adjusts the config.
func (is *testIssuer) verifier(mod ...func(*resource.Config)) *resource.Verifier {
	is.t.Helper()
	cfg := resource.Config{Issuer: is.url, Audience: []string{is.url}, Clock: is.clock, HTTPClient: is.srv.Client()}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := resource.NewVerifier(context.Background(), cfg)
	if err != nil {
		is.t.Fatal(err)
	}
	return v
}

// withIntrospection configures introspection through discovery.
func withIntrospection(cfg *resource.Config) {
	cfg.Introspection = &resource.IntrospectionConfig{ClientID: introClientID, ClientSecret: introClientSecret}
}
