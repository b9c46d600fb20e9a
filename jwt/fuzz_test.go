package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// fuzzKey is a fixed P-256 key, so that the committed corpus (made with
// it) holds tokens that verify.
var fuzzKey = func() *ecdsa.PrivateKey {
	d, _ := hex.DecodeString("5f1d0a3e8c6b4d2f1e0a9c8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e")
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		panic(err)
	}
	return k
}()

// FuzzParse feeds arbitrary strings to DecodeUnverified and to
// Verifier.Verify: neither may panic, every failure wraps one of the
// package's errors, and a token that verifies also decodes to the same
// header and claims.
func FuzzParse(f *testing.F) {
	s, err := jwt.NewSigner(fuzzKey, "", "fz")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []any{
		goodClaims(),
		map[string]any{"sub": "x"},
		map[string]any{"aud": []string{"a", "https://api.example"}, "exp": 1e12, "iss": "https://issuer.example"},
	} {
		tok, err := s.Sign(jwt.TypeJWT, c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("....")
	f.Add(rawToken(`{"alg":"ES256","alg":"none"}`, `{}`, nil))
	f.Add(rawToken(`{"alg":"ES256","kid":"fz","crit":["b64"],"b64":false}`, `{}`, nil))
	f.Add(rawToken(`{"alg":"HS256","kid":"fz"}`, `{"a":{"a":1,"a":2}}`, []byte("0123456789abcdef0123456789abcdef")))

	key, err := jwt.NewKey(&fuzzKey.PublicKey, "fz", "")
	if err != nil {
		f.Fatal(err)
	}
	v := newVerifier(f, jwt.NewKeySet(key), func(c *jwt.Config) { c.ExpiryOptional = true })
	sentinels := []error{
		jwt.ErrMalformed, jwt.ErrType, jwt.ErrAlgorithm, jwt.ErrUnknownKey, jwt.ErrBadSignature,
		jwt.ErrExpired, jwt.ErrNotYetValid, jwt.ErrIssuer, jwt.ErrAudience, jwt.ErrClaim,
	}
	f.Fuzz(func(t *testing.T, tok string) {
		d, derr := jwt.DecodeUnverified(tok)
		if derr != nil && !errors.Is(derr, jwt.ErrMalformed) {
			t.Fatalf("DecodeUnverified: %v is not ErrMalformed", derr)
		}
		got, err := v.Verify(ctx, tok)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("Verify: %v wraps none of the package's errors", err)
			}
			return
		}
		if derr != nil {
			t.Fatalf("Verify accepted a token DecodeUnverified refuses: %v", derr)
		}
		if got.Header.Algorithm != jwt.ES256 || string(got.Payload) != string(d.Payload) || strings.Count(tok, ".") != 2 {
			t.Fatalf("verified %+v, decoded %+v", got, d)
		}
	})
}
