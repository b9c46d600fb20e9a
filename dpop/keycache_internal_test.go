package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// TestKeyCacheBounded: however many proof keys come, the verifier keeps
// at most keyCacheSize parsed keys, and a key pushed out is parsed again
// (to the same thumbprint) when it comes back.
func TestKeyCacheBounded(t *testing.T) {
	v, err := NewVerifier(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	var firstJKT string
	for i := range keyCacheSize + 50 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.PublicJWK(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		_, jkt, err := v.key(raw)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, firstJKT = raw, jkt
		}
		if n := v.keys.Len(); n > keyCacheSize {
			t.Fatalf("%d keys cached, want at most %d", n, keyCacheSize)
		}
	}
	if v.keys.Contains(string(first)) {
		t.Fatal("the oldest key is still cached after keyCacheSize newer ones")
	}
	if _, jkt, err := v.key(first); err != nil || jkt != firstJKT {
		t.Fatalf("the oldest key parsed again: jkt %q, %v; want %q", jkt, err, firstJKT)
	}
}
