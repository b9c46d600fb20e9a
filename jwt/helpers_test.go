package jwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// t0 is the fixed time of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	keysOnce sync.Once
	ec256    *ecdsa.PrivateKey
	ec384    *ecdsa.PrivateKey
	ec521    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
	rsaKey   *rsa.PrivateKey
)

// testKeys makes one key of each type, once per test binary (RSA key
// generation is slow).
func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		var e error
		ec384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		ec521, e = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(e)
		_, edKey, e = ed25519.GenerateKey(rand.Reader)
		must(e)
		rsaKey, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		if err != nil {
			panic(err)
		}
	})
}

func newSigner(t testing.TB, key crypto.Signer, alg, kid string) *jwt.Signer {
	t.Helper()
	s, err := jwt.NewSigner(key, alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newKey(t testing.TB, pub crypto.PublicKey, kid, alg string) *jwt.Key {
	t.Helper()
	k, err := jwt.NewKey(pub, kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// goodClaims are claims a verifier made by newVerifier accepts at t0.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": "https://issuer.example",
		"sub": "alice",
		"aud": "https://api.example",
		"iat": t0.Unix(),
		"exp": t0.Add(5 * time.Minute).Unix(),
		"jti": "id-1",
	}
}

func newVerifier(t testing.TB, keys jwt.KeySource, mod ...func(*jwt.Config)) *jwt.Verifier {
	t.Helper()
	cfg := jwt.Config{
		Keys:     keys,
		Issuer:   "https://issuer.example",
		Audience: []string{"https://api.example"},
		Clock:    clocktest.New(t0),
	}
	for _, m := range mod {
		m(&cfg)
	}
	v, err := jwt.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rawToken assembles a token from a header and claims given as JSON text
// and a signature, without any check: for the negative cases.
func rawToken(header, claims string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
