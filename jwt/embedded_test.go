package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

func TestEmbeddedKey(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := jwt.NewSigner(k, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.SignEmbeddedKey("dpop+jwt", map[string]any{"jti": "x"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := jwt.VerifyEmbeddedKey(tok, []string{jwt.ES256}, "dpop+jwt", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClaimSet["jti"] != "x" || !got.Key.Public.(*ecdsa.PublicKey).Equal(&k.PublicKey) || len(got.Header.JWK) == 0 {
		t.Fatalf("token %+v", got)
	}
	if _, err := jwt.VerifyEmbeddedKey(tok, []string{jwt.ES256}, "JWT", nil); !errors.Is(err, jwt.ErrType) {
		t.Fatalf("typ: %v", err)
	}
	if _, err := jwt.VerifyEmbeddedKey(tok, []string{jwt.EdDSA}, "", nil); !errors.Is(err, jwt.ErrAlgorithm) {
		t.Fatalf("alg: %v", err)
	}
	if _, err := jwt.VerifyEmbeddedKey(tok, []string{jwt.ES256, jwt.HS256}, "", nil); err != nil {
		t.Fatalf("listing HS256 broke ES256: %v", err)
	}
	// A token without jwk (a plain signed one) does not verify this way.
	plain, _ := s.Sign("dpop+jwt", map[string]any{"jti": "x"})
	if _, err := jwt.VerifyEmbeddedKey(plain, nil, "", nil); !errors.Is(err, jwt.ErrMalformed) {
		t.Fatalf("no jwk: %v", err)
	}
	// The signature is checked with the embedded key.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	os, _ := jwt.NewSigner(other, "", "")
	otok, _ := os.SignEmbeddedKey("dpop+jwt", map[string]any{"jti": "x"})
	mixed := strings.Split(tok, ".")[0] + "." + strings.Split(otok, ".")[1] + "." + strings.Split(otok, ".")[2]
	if _, err := jwt.VerifyEmbeddedKey(mixed, nil, "", nil); !errors.Is(err, jwt.ErrBadSignature) {
		t.Fatalf("foreign signature: %v", err)
	}
	// ParsePublicJWK refuses private members.
	if _, err := jwt.ParsePublicJWK([]byte(`{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}`)); err == nil {
		t.Fatal("private jwk accepted")
	}
	if _, err := jwt.ParsePublicJWK([]byte(`{"kty":"oct","k":"AAAA"}`)); err == nil {
		t.Fatal("oct jwk accepted")
	}
	// The Verifier never uses an embedded jwk to find a key.
	ks := jwt.NewKeySet()
	v, err := jwt.NewVerifier(jwt.Config{Keys: ks, AnyIssuer: true, AnyAudience: true, ExpiryOptional: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Fatalf("Verifier with an empty key set: %v", err)
	}
}
