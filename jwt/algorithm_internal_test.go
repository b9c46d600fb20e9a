package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	mathrand "math/rand/v2"
	"testing"
)

// TestDERSignature compares derSignature with encoding/asn1 for R and S
// of every size a curve gives, with leading zeros, the high bit set, and
// zero.
func TestDERSignature(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(3, 4))
	for _, size := range []int{32, 48, 66} {
		values := [][]byte{make([]byte, size), bytes.Repeat([]byte{0xff}, size), append(make([]byte, size-1), 1)}
		for range 200 {
			v := make([]byte, size)
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			switch rng.IntN(4) {
			case 0: // leading zeros
				clear(v[:1+rng.IntN(3)])
			case 1: // the high bit set
				v[0] |= 0x80
			}
			values = append(values, v)
		}
		for i, r := range values {
			s := values[(i*7+1)%len(values)]
			want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
			if err != nil {
				t.Fatal(err)
			}
			if got := derSignature(r, s); !bytes.Equal(got, want) {
				t.Fatalf("derSignature(%x, %x) = %x, want %x", r, s, got, want)
			}
		}
	}
}

// TestECDSAOutOfRangeSignature: R or S of zero, or of the group order or
// more, never verifies (the "psychic signature" of CVE-2022-21449 is
// R = S = 0), whatever the encoding to DER does with them.
func TestECDSAOutOfRangeSignature(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const input = "eyJhbGciOiJFUzI1NiJ9.e30"
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	jws := func(r, s *big.Int) []byte {
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
	if !verifySignature(ES256, &k.PublicKey, nil, input, jws(r, s)) {
		t.Fatal("a good signature does not verify")
	}
	n := elliptic.P256().Params().N
	zero := new(big.Int)
	for name, sig := range map[string][]byte{
		"R = S = 0": jws(zero, zero),
		"S = 0":     jws(r, zero),
		"R = 0":     jws(zero, s),
		"S = n":     jws(r, n),
		"R = n":     jws(n, s),
	} {
		if verifySignature(ES256, &k.PublicKey, nil, input, sig) {
			t.Errorf("%s verifies", name)
		}
	}
}
