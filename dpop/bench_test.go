package dpop_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

// BenchmarkVerify is one proof check of a token request: every proof is
// new (as in use), so each pays its signature verification.
func BenchmarkVerify(b *testing.B) {
	clk := clocktest.New(t0)
	s := newSigner(b, clk)
	v := newVerifier(b, clk)
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = proof(b, s, "POST", tokenURL, "", "")
	}
	req := dpop.Request{Method: "POST", URL: tokenURL}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, proofs[i], req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProof is one proof made by a client.
func BenchmarkProof(b *testing.B) {
	s := newSigner(b, clocktest.New(t0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Proof("POST", tokenURL, "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
