package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // register SHA-384 and SHA-512 for crypto.Hash
)

// Signature algorithms (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	ES256 = "ES256" // ECDSA P-256, SHA-256
	ES384 = "ES384" // ECDSA P-384, SHA-384
	ES512 = "ES512" // ECDSA P-521, SHA-512
	EdDSA = "EdDSA" // Ed25519
	// Ed25519 is RFC 9864's fully-specified name for EdDSA with Ed25519,
	// which newer libraries (openid-client, oauth4webapi) sign with.
	Ed25519 = "Ed25519"
	RS256   = "RS256" // RSASSA-PKCS1-v1_5, SHA-256
	RS384   = "RS384"
	RS512   = "RS512"
	PS256   = "PS256" // RSASSA-PSS, SHA-256, MGF1 SHA-256, salt = hash length
	PS384   = "PS384"
	PS512   = "PS512"
	HS256   = "HS256" // HMAC SHA-256: a shared secret, never a public key
	HS384   = "HS384"
	HS512   = "HS512"
)

// DefaultAlgorithms is the allow-list a Verifier uses when Config.Algorithms
// is empty: every asymmetric algorithm this package implements. HMAC is
// left out, since a verifier holding the secret could also forge tokens;
// "none" is never implemented.
var DefaultAlgorithms = []string{ES256, ES384, ES512, EdDSA, Ed25519, RS256, RS384, RS512, PS256, PS384, PS512}

// MinRSABits is the smallest RSA modulus accepted for signing or verifying
// (RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used").
const MinRSABits = 2048

// MinHMACBytes is the shortest HMAC secret accepted (RFC 7518 §3.2: "A key
// of the same size as the hash output ... or larger MUST be used").
const MinHMACBytes = 32

// family is what kind of key an algorithm needs.
type family int

const (
	famNone family = iota
	famEC
	famEd
	famRSA
	famRSAPSS
	famHMAC
)

// algSpec describes one algorithm.
type algSpec struct {
	fam   family
	hash  crypto.Hash
	curve elliptic.Curve // famEC
	size  int            // famEC: bytes of R and of S
}

func spec(alg string) (algSpec, bool) {
	switch alg {
	case ES256:
		return algSpec{famEC, crypto.SHA256, elliptic.P256(), 32}, true
	case ES384:
		return algSpec{famEC, crypto.SHA384, elliptic.P384(), 48}, true
	case ES512:
		return algSpec{famEC, crypto.SHA512, elliptic.P521(), 66}, true
	case EdDSA, Ed25519:
		return algSpec{fam: famEd}, true
	case RS256:
		return algSpec{fam: famRSA, hash: crypto.SHA256}, true
	case RS384:
		return algSpec{fam: famRSA, hash: crypto.SHA384}, true
	case RS512:
		return algSpec{fam: famRSA, hash: crypto.SHA512}, true
	case PS256:
		return algSpec{fam: famRSAPSS, hash: crypto.SHA256}, true
	case PS384:
		return algSpec{fam: famRSAPSS, hash: crypto.SHA384}, true
	case PS512:
		return algSpec{fam: famRSAPSS, hash: crypto.SHA512}, true
	case HS256:
		return algSpec{fam: famHMAC, hash: crypto.SHA256}, true
	case HS384:
		return algSpec{fam: famHMAC, hash: crypto.SHA384}, true
	case HS512:
		return algSpec{fam: famHMAC, hash: crypto.SHA512}, true
	}
	return algSpec{}, false
}

// IsSymmetric reports whether alg is an HMAC algorithm.
func IsSymmetric(alg string) bool {
	s, ok := spec(alg)
	return ok && s.fam == famHMAC
}

// checkAllowList refuses unknown algorithm names in an allow-list.
func checkAllowList(algs []string) error {
	for _, a := range algs {
		if _, ok := spec(a); !ok {
			return errorf(ErrAlgorithm, "%q is not supported", a)
		}
	}
	return nil
}

// digest hashes data with h.
func digest(h crypto.Hash, data []byte) []byte {
	if h == crypto.SHA256 {
		d := sha256.Sum256(data)
		return d[:]
	}
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// fits reports whether a key of this public type (or an HMAC secret) can
// make alg signatures: the key type, never the token, picks the family.
func fits(alg string, pub crypto.PublicKey, secret []byte) bool {
	s, ok := spec(alg)
	if !ok {
		return false
	}
	switch s.fam {
	case famEC:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve == s.curve
	case famEd:
		_, ok := pub.(ed25519.PublicKey)
		return ok
	case famRSA, famRSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= MinRSABits
	case famHMAC:
		return pub == nil && len(secret) >= MinHMACBytes
	}
	return false
}

// verifySignature checks sig over input with a key that fits alg (the
// caller checked fits).
func verifySignature(alg string, pub crypto.PublicKey, secret []byte, input string, sig []byte) bool {
	s, _ := spec(alg)
	switch s.fam {
	case famEC:
		k, ok := pub.(*ecdsa.PublicKey)
		// RFC 7518 §3.4: the signature is R || S, each the curve's size.
		if !ok || len(sig) != 2*s.size {
			return false
		}
		return ecdsa.VerifyASN1(k, digest(s.hash, []byte(input)), derSignature(sig[:s.size], sig[s.size:]))
	case famEd:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(k, []byte(input), sig)
	case famRSA:
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, s.hash, digest(s.hash, []byte(input)), sig) == nil
	case famRSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		// RFC 7518 §3.5: "The size of the salt value is the same size as
		// the hash function output."
		return ok && rsa.VerifyPSS(k, s.hash, digest(s.hash, []byte(input)), sig,
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: s.hash}) == nil
	case famHMAC:
		if pub != nil || len(secret) < MinHMACBytes {
			return false
		}
		m := hmac.New(s.hash.New, secret)
		m.Write([]byte(input))
		return hmac.Equal(m.Sum(nil), sig)
	}
	return false
}

// derSignature encodes the R and S of a JWS ECDSA signature (unsigned
// big-endian, RFC 7518 §3.4) as the DER SEQUENCE of two INTEGERs that
// ecdsa.VerifyASN1 reads. ecdsa.Verify would do the same from two
// big.Ints, at a dozen allocations more per signature. A wrong encoding
// could only make a good signature fail: VerifyASN1 checks the integers
// it reads.
func derSignature(r, s []byte) []byte {
	r, s = trimLeadingZeros(r), trimLeadingZeros(s)
	n := derIntegerLen(r) + derIntegerLen(s) // at most 2 × (2 + 67), for P-521
	out := make([]byte, 0, 3+n)
	out = append(out, 0x30) // SEQUENCE
	if n >= 0x80 {
		out = append(out, 0x81) // the length in one more byte
	}
	out = append(out, byte(n))
	return appendDERInteger(appendDERInteger(out, r), s)
}

func trimLeadingZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// derNeedsZero reports whether the INTEGER of the unsigned b (without
// leading zeros) starts with a zero byte: for zero itself, and when the
// high bit is set (it would read as negative).
func derNeedsZero(b []byte) bool { return len(b) == 0 || b[0] >= 0x80 }

// derIntegerLen is the length of the INTEGER of b, tag and length included.
func derIntegerLen(b []byte) int {
	if derNeedsZero(b) {
		return 3 + len(b)
	}
	return 2 + len(b)
}

func appendDERInteger(out, b []byte) []byte {
	out = append(out, 0x02, byte(derIntegerLen(b)-2)) // INTEGER
	if derNeedsZero(b) {
		out = append(out, 0)
	}
	return append(out, b...)
}

// defaultAlgorithm is the algorithm a key signs with when none is named:
// by curve for EC, EdDSA for Ed25519, RS256 for RSA.
func defaultAlgorithm(pub crypto.PublicKey) (string, bool) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		for _, a := range []string{ES256, ES384, ES512} {
			if s, _ := spec(a); s.curve == k.Curve {
				return a, true
			}
		}
	case ed25519.PublicKey:
		return EdDSA, true
	case *rsa.PublicKey:
		return RS256, true
	}
	return "", false
}
