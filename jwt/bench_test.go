package jwt_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/cputime"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// The targets (issue #12, #17): a full verify within 1.3× of the raw
// signature check (BenchmarkRaw*), for ES256 and RS256.

func benchTokens(b *testing.B, s *jwt.Signer, n int) []string {
	b.Helper()
	toks := make([]string, n)
	for i := range toks {
		c := goodClaims()
		c["jti"] = fmt.Sprintf("tok-%d", i)
		tok, err := s.Sign(jwt.TypeAccessToken, c)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	return toks
}

func benchVerify(b *testing.B, key crypto.Signer) {
	testKeys(b)
	s := newSigner(b, key, "", "k")
	v := newVerifier(b, jwt.NewKeySet(s.VerificationKey()), func(c *jwt.Config) { c.Type = jwt.TypeAccessToken })
	toks := benchTokens(b, s, 64)
	b.ReportAllocs()
	i := 0
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cputime.Report(b, cpu)
}

func BenchmarkVerifyES256(b *testing.B) { testKeys(b); benchVerify(b, ec256) }
func BenchmarkVerifyRS256(b *testing.B) { testKeys(b); benchVerify(b, rsaKey) }

// BenchmarkRawES256 is the floor: ecdsa.Verify of one token's signature,
// digest and integers prepared outside the loop.
func BenchmarkRawES256(b *testing.B) {
	testKeys(b)
	tok := benchTokens(b, newSigner(b, ec256, "", "k"), 1)[0]
	last := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[last+1:])
	d := sha256.Sum256([]byte(tok[:last]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if !ecdsa.Verify(&ec256.PublicKey, d[:], r, s) {
			b.Fatal("bad signature")
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkRawRS256 is the floor for RS256: rsa.VerifyPKCS1v15 of one
// token's signature, digest prepared outside the loop.
func BenchmarkRawRS256(b *testing.B) {
	testKeys(b)
	tok := benchTokens(b, newSigner(b, rsaKey, "", "k"), 1)[0]
	last := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[last+1:])
	d := sha256.Sum256([]byte(tok[:last]))
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

func BenchmarkDecodeUnverified(b *testing.B) {
	testKeys(b)
	tok := benchTokens(b, newSigner(b, ec256, "", "k"), 1)[0]
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := jwt.DecodeUnverified(tok); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

func BenchmarkSignES256(b *testing.B) {
	testKeys(b)
	s := newSigner(b, ec256, "", "k")
	c := goodClaims()
	b.ReportAllocs()
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	cpu := cputime.Process()
	for b.Loop() {
		if _, err := s.Sign(jwt.TypeAccessToken, c); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// benchGoJose is the alternative of issue #12: go-jose everywhere. It
// parses, verifies and decodes the claims into a map, without the claim
// checks.
func benchGoJose(b *testing.B, key crypto.Signer, alg jose.SignatureAlgorithm) {
	testKeys(b)
	toks := benchTokens(b, newSigner(b, key, "", "k"), 64)
	runtime.GC() // the garbage of the setup is not charged to the loop
	b.ResetTimer()
	b.ReportAllocs()
	cpu := cputime.Process()
	i := 0
	for b.Loop() {
		obj, err := jose.ParseSignedCompact(toks[i%len(toks)], []jose.SignatureAlgorithm{alg})
		if err != nil {
			b.Fatal(err)
		}
		payload, err := obj.Verify(key.Public())
		if err != nil {
			b.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cputime.Report(b, cpu)
}

func BenchmarkGoJoseVerifyES256(b *testing.B) { testKeys(b); benchGoJose(b, ec256, jose.ES256) }
func BenchmarkGoJoseVerifyRS256(b *testing.B) { testKeys(b); benchGoJose(b, rsaKey, jose.RS256) }
