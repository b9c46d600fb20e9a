package jwt

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// RFC 9864 names EdDSA with Ed25519 "Ed25519"; a key published as "EdDSA"
// verifies such a token and the other way round, and the name never opens
// a key of another type.
func TestEd25519IsEdDSA(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	craft := func(alg string) string {
		enc := base64.RawURLEncoding.EncodeToString
		input := enc([]byte(`{"alg":"`+alg+`","kid":"k1"}`)) + "." + enc([]byte(`{"sub":"s"}`))
		return input + "." + enc(ed25519.Sign(priv, []byte(input)))
	}
	for _, tc := range []struct{ tokenAlg, keyAlg string }{
		{Ed25519, EdDSA}, {EdDSA, Ed25519}, {Ed25519, ""}, {Ed25519, Ed25519},
	} {
		keys := NewKeySet(&Key{ID: "k1", Algorithm: tc.keyAlg, Public: pub})
		if _, err := VerifySignature(context.Background(), craft(tc.tokenAlg), keys, nil, ""); err != nil {
			t.Errorf("token alg %s, key alg %q: %v", tc.tokenAlg, tc.keyAlg, err)
		}
	}
	// The name is EdDSA's alone: an "Ed25519" token is not checked with an
	// EC key, and an allow-list without it refuses it.
	other := NewKeySet(&Key{ID: "k1", Algorithm: ES256, Public: pub})
	if _, err := VerifySignature(context.Background(), craft(Ed25519), other, nil, ""); err == nil {
		t.Error("an Ed25519 token verified with a key published as ES256")
	}
	keys := NewKeySet(&Key{ID: "k1", Public: pub})
	if _, err := VerifySignature(context.Background(), craft(Ed25519), keys, []string{EdDSA}, ""); err == nil {
		t.Error("an allow-list without Ed25519 accepted it")
	}
}
