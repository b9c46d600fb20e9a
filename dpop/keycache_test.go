package dpop_test

import (
	"crypto/ecdsa"
	"fmt"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

// TestVerifyKeyCacheSameKid: the verifier caches parsed proof keys by the
// exact bytes of the header's jwk, never by kid. Two keys sent with the
// same kid are two keys: each proof is checked against its own key and
// gets its own thumbprint, and a proof signed with one key but carrying
// the other's jwk (already cached) is refused.
func TestVerifyKeyCacheSameKid(t *testing.T) {
	clk := clocktest.New(t0)
	v := newVerifier(t, clk)
	a, b := newSigner(t, clk), newSigner(t, clk)
	keyA, keyB := a.Key().(*ecdsa.PrivateKey), b.Key().(*ecdsa.PrivateKey)
	jwk := func(s *dpop.Signer) map[string]any {
		m := publicJWK(t, s.Key().Public())
		m["kid"] = "same"
		return m
	}
	n := 0
	mint := func(signWith *ecdsa.PrivateKey, jwkOf *dpop.Signer) string {
		n++
		return forge(t, signWith, map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk(jwkOf)},
			map[string]any{"jti": fmt.Sprintf("kid-%d", n), "htm": "POST", "htu": tokenURL, "iat": t0.Unix()})
	}
	req := dpop.Request{Method: "POST", URL: tokenURL}
	for range 2 { // the second round runs on cached keys
		p, err := v.Verify(ctx, mint(keyA, a), req)
		if err != nil {
			t.Fatalf("proof of A: %v", err)
		}
		if p.JKT != a.Thumbprint() {
			t.Fatalf("proof of A has jkt %s, want A's %s", p.JKT, a.Thumbprint())
		}
		p, err = v.Verify(ctx, mint(keyB, b), req)
		if err != nil {
			t.Fatalf("proof of B: %v", err)
		}
		if p.JKT != b.Thumbprint() {
			t.Fatalf("proof of B has jkt %s, want B's %s", p.JKT, b.Thumbprint())
		}
		_, err = v.Verify(ctx, mint(keyB, a), req)
		wantCode(t, err, dpop.CodeInvalidProof, "signature")
	}
}
