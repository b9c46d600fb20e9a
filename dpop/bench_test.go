package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"runtime"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/cputime"
)

// The benchmarks report cpu-ns/op besides ns/op: run them with -cpu 1
// (see BENCHMARKS.md). Every proof is new, as in use: a proof is
// single-use, so each pays its signature verification.

// benchKeys are the proof keys the benchmarks sign with, by alg.
func benchKeys(b *testing.B) map[string]crypto.Signer {
	ec, err := dpop.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]crypto.Signer{"ES256": ec, "EdDSA": ed}
}

// benchVerify verifies b.N proofs made beforehand, each for req.
func benchVerify(b *testing.B, key crypto.Signer, req dpop.Request, nonces bool) {
	clk := clocktest.New(t0)
	s, err := dpop.NewSigner(key, dpop.WithClock(clk))
	if err != nil {
		b.Fatal(err)
	}
	v := newVerifier(b, clk, func(c *dpop.Config) {
		if nonces {
			n, err := dpop.NewNonces(make([]byte, 32), 0, clk)
			if err != nil {
				b.Fatal(err)
			}
			c.Nonces, c.RequireNonce = n, true
		}
	})
	nonce := ""
	if nonces {
		nonce = v.Nonces().Nonce()
	}
	req.JKT = s.Thumbprint()
	proofs := make([]string, b.N+1)
	for i := range proofs {
		proofs[i] = proof(b, s, req.Method, req.URL, req.AccessToken, nonce)
	}
	if _, err := v.Verify(ctx, proofs[b.N], req); err != nil { // the key is parsed once
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, proofs[i], req); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkVerify is the proof check of a token request (no ath), by
// the alg of the proof.
func BenchmarkVerify(b *testing.B) {
	for alg, k := range benchKeys(b) {
		b.Run(alg, func(b *testing.B) {
			benchVerify(b, k, dpop.Request{Method: "POST", URL: tokenURL}, false)
		})
	}
}

// BenchmarkVerifyResource is the proof check of a request to a resource:
// ath of a JWT-sized access token, the token's jkt, and a server nonce.
func BenchmarkVerifyResource(b *testing.B) {
	at := string(make([]byte, 800))
	for alg, k := range benchKeys(b) {
		b.Run(alg, func(b *testing.B) {
			benchVerify(b, k, dpop.Request{Method: "GET", URL: apiURL, AccessToken: at}, true)
		})
	}
}

// BenchmarkSignatureFloor is the signature check alone, by alg: what no
// code around it can save.
func BenchmarkSignatureFloor(b *testing.B) {
	input := []byte("eyJhbGciOiJFUzI1NiJ9.eyJodG0iOiJQT1NUIn0")
	keys := benchKeys(b)
	b.Run("ES256", func(b *testing.B) {
		k := keys["ES256"].(*ecdsa.PrivateKey)
		d := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			b.Fatal(err)
		}
		r, s = new(big.Int).Set(r), new(big.Int).Set(s)
		cpu := cputime.Process()
		for b.Loop() {
			if !ecdsa.Verify(&k.PublicKey, d[:], r, s) {
				b.Fatal("does not verify")
			}
		}
		cputime.Report(b, cpu)
	})
	b.Run("EdDSA", func(b *testing.B) {
		k := keys["EdDSA"].(ed25519.PrivateKey)
		sig := ed25519.Sign(k, input)
		pub := k.Public().(ed25519.PublicKey)
		cpu := cputime.Process()
		for b.Loop() {
			if !ed25519.Verify(pub, input, sig) {
				b.Fatal("does not verify")
			}
		}
		cputime.Report(b, cpu)
	})
}

// BenchmarkProof is one proof made by a client, by alg.
func BenchmarkProof(b *testing.B) {
	for alg, k := range benchKeys(b) {
		b.Run(alg, func(b *testing.B) {
			s, err := dpop.NewSigner(k, dpop.WithClock(clocktest.New(t0)))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				if _, err := s.Proof("POST", tokenURL, "", ""); err != nil {
					b.Fatal(err)
				}
			}
			cputime.Report(b, cpu)
		})
	}
}
