package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

// fuzzKey is fixed so that the committed corpus holds proofs that verify.
var fuzzKey = func() *ecdsa.PrivateKey {
	d, _ := hex.DecodeString("3a7c9e1f5b2d4c6a8e0f1a3b5c7d9e2f4a6b8c0d1e3f5a7b9c2d4e6f8a0b1c3d")
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		panic(err)
	}
	return k
}()

// FuzzVerify feeds arbitrary proofs to Verifier.Verify: it must not
// panic, every failure is a *dpop.Error, and a proof that passes names
// the key that signed it.
func FuzzVerify(f *testing.F) {
	clk := clocktest.New(t0)
	s, err := dpop.NewSigner(fuzzKey, dpop.WithClock(clk))
	if err != nil {
		f.Fatal(err)
	}
	for _, at := range []string{"", "at"} {
		p, err := s.Proof("GET", apiURL, at, "")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, proof string) {
		v, err := dpop.NewVerifier(dpop.Config{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		p, err := v.Verify(ctx, proof, dpop.Request{Method: "GET", URL: apiURL})
		if err != nil {
			var e *dpop.Error
			if !errors.As(err, &e) || (e.Code != dpop.CodeInvalidProof && e.Code != dpop.CodeUseNonce) {
				t.Fatalf("Verify: %v is not a *dpop.Error", err)
			}
			return
		}
		if p.JKT == "" || p.ID == "" {
			t.Fatalf("accepted proof %+v", p)
		}
	})
}

// FuzzNormalizeURL checks that NormalizeURL is idempotent and never
// panics.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{apiURL, "HTTPS://A:443/%7e?x#y", "http://[::1]:80/", "https://a/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, ok := dpop.NormalizeURL(in)
		if !ok {
			return
		}
		again, ok := dpop.NormalizeURL(n)
		if !ok || again != n {
			t.Fatalf("NormalizeURL(%q) = %q, then %q, %v", in, n, again, ok)
		}
	})
}
