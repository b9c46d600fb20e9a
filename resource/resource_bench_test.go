package resource_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cputime"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// The targets (DESIGN.md, "How to measure"): a repeated token in ≤ 2 µs,
// first sight within 1.3× of BenchmarkRawES256Verify.

func BenchmarkVerifyRepeated(b *testing.B) {
	is := newTestIssuer(b)
	v := is.verifier()
	tok := is.token()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkVerifyFirstSight verifies tokens never seen before: parse,
// signature, claims, cache insertion.
func BenchmarkVerifyFirstSight(b *testing.B) {
	is := newTestIssuer(b)
	v := is.verifier()
	if _, err := v.Verify(ctx, is.token()); err != nil { // load the JWKS
		b.Fatal(err)
	}
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = signWith(is, claim("jti", fmt.Sprintf("tok-%d", i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkRawES256Verify is the floor: ecdsa.Verify of one token's
// signature, with the digest and the integers prepared outside the loop.
func BenchmarkRawES256Verify(b *testing.B) {
	is := newTestIssuer(b)
	tok := is.token()
	last := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[last+1:])
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte(tok[:last]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	pub := is.key(0).priv.Public().(*ecdsa.PublicKey)
	if !ecdsa.Verify(pub, digest[:], r, s) {
		b.Fatal("signature does not verify")
	}
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		ecdsa.Verify(pub, digest[:], r, s)
	}
	cputime.Report(b, cpu)
}

func BenchmarkVerifyFirstSightEdDSA(b *testing.B) {
	is := newTestIssuer(b)
	k := is.addKey(resource.EdDSA)
	v := is.verifier()
	toks := make([]string, b.N)
	for i := range toks {
		c := is.claims()
		c["jti"] = fmt.Sprintf("tok-%d", i)
		toks[i] = sign(b, k, header(k), c)
	}
	if _, err := v.Verify(ctx, toks[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 1; i < b.N; i++ {
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// rsaBench returns an issuer whose only key is RS256 and a verifier that
// allows RS256.
func rsaBench(b *testing.B) (*testIssuer, *testKey, *resource.Verifier) {
	is := newTestIssuer(b)
	is.removeKey(is.key(0))
	k := is.addKey(resource.RS256)
	v := is.verifier(func(c *resource.Config) { c.Algorithms = []string{resource.RS256} })
	return is, k, v
}

func BenchmarkVerifyRepeatedRS256(b *testing.B) {
	is, k, v := rsaBench(b)
	tok := sign(b, k, header(k), is.claims())
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

func BenchmarkVerifyFirstSightRS256(b *testing.B) {
	is, k, v := rsaBench(b)
	toks := make([]string, b.N+1)
	for i := range toks {
		c := is.claims()
		c["jti"] = fmt.Sprintf("tok-%d", i)
		toks[i] = sign(b, k, header(k), c)
	}
	if _, err := v.Verify(ctx, toks[b.N]); err != nil { // load the JWKS
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkRawRS256Verify is the RS256 floor: rsa.VerifyPKCS1v15 of one
// token's signature, digest prepared outside the loop.
func BenchmarkRawRS256Verify(b *testing.B) {
	is, k, _ := rsaBench(b)
	tok := sign(b, k, header(k), is.claims())
	last := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[last+1:])
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte(tok[:last]))
	pub := k.priv.Public().(*rsa.PublicKey)
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}
