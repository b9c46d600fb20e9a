package jwt

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"
)

// Key is a verification key: a public key (EC P-256/P-384/P-521, Ed25519,
// RSA of at least MinRSABits) or an HMAC secret made with NewHMACKey. Its
// type fixes which algorithms it verifies; Algorithm, when set, narrows
// that to one.
type Key struct {
	// ID is the kid. A Key without one, in a KeySet, is tried for any kid.
	ID string
	// Algorithm is the one algorithm the key verifies ("alg" of its JWK);
	// empty: every algorithm on the verifier's allow-list that fits the
	// key type (RS256 and PS256 for an RSA key, say).
	Algorithm string
	// Public is *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey; nil
	// for an HMAC key.
	Public crypto.PublicKey

	secret []byte // HMAC only
}

// NewKey returns the verification key for pub. pub may also be a private
// key (a crypto.Signer); its public half is used. alg may be empty; when
// set it must fit the key.
func NewKey(pub crypto.PublicKey, kid, alg string) (*Key, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	natural, ok := defaultAlgorithm(pub)
	if !ok {
		return nil, fmt.Errorf("jwt: unsupported key type %T", pub)
	}
	if !fits(natural, pub, nil) {
		return nil, fmt.Errorf("jwt: key too weak (RSA keys need %d bits or more)", MinRSABits)
	}
	if alg != "" && !fits(alg, pub, nil) {
		return nil, errorf(ErrAlgorithm, "%q does not fit a %s key", alg, keyKind(pub))
	}
	return &Key{ID: kid, Algorithm: alg, Public: pub}, nil
}

// NewHMACKey returns an HS256 key: a shared secret of at least
// MinHMACBytes bytes. Only a Key made here verifies HMAC tokens, and only
// when the verifier's allow-list names HS256: a public key is never used
// as an HMAC secret (RFC 8725 §2.1).
func NewHMACKey(secret []byte, kid string) (*Key, error) {
	if len(secret) < MinHMACBytes {
		return nil, fmt.Errorf("jwt: HMAC secret of %d bytes is too short; use %d or more", len(secret), MinHMACBytes)
	}
	return &Key{ID: kid, Algorithm: HS256, secret: bytes.Clone(secret)}, nil
}

// Equal reports whether k and o are the same key with the same ID and
// Algorithm.
func (k *Key) Equal(o *Key) bool {
	if k == nil || o == nil {
		return k == o
	}
	if k.ID != o.ID || k.Algorithm != o.Algorithm {
		return false
	}
	if k.secret != nil || o.secret != nil {
		return subtle.ConstantTimeCompare(k.secret, o.secret) == 1
	}
	eq, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(o.Public)
}

// Allows reports whether k may verify alg: alg fits the key type and, when
// k names an algorithm, is that one.
func (k *Key) Allows(alg string) bool {
	return (k.Algorithm == "" || k.Algorithm == alg || sameEd25519(k.Algorithm, alg)) && fits(alg, k.Public, k.secret)
}

// sameEd25519 reports whether a and b both name EdDSA with Ed25519: a key
// published with "EdDSA" verifies a token that says "Ed25519" (RFC 9864),
// and the other way round.
func sameEd25519(a, b string) bool {
	return (a == EdDSA || a == Ed25519) && (b == EdDSA || b == Ed25519)
}

// keyKind names a key type for messages.
func keyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case nil:
		return "HMAC"
	}
	return fmt.Sprintf("%T", pub)
}

// KeySource finds the keys that may have signed a token.
type KeySource interface {
	// Keys returns the candidate keys for a token whose header has kid
	// (empty when it has none). It fails with ErrUnknownKey when there is
	// none, and with ErrUnavailable when the keys cannot be read.
	Keys(ctx context.Context, kid string) ([]*Key, error)
}

// KeySet is a fixed set of keys, e.g. from a JWKS file or a PEM file.
type KeySet struct {
	keys []*Key
}

// NewKeySet returns a KeySet of keys.
func NewKeySet(keys ...*Key) *KeySet { return &KeySet{keys: keys} }

// All returns the keys of s.
func (s *KeySet) All() []*Key { return s.keys }

// Keys returns the keys whose ID is kid, then the keys without an ID; for
// a token without kid, every key.
func (s *KeySet) Keys(_ context.Context, kid string) ([]*Key, error) {
	var out []*Key
	for _, k := range s.keys {
		if kid == "" || k.ID == kid {
			out = append(out, k)
		}
	}
	if kid != "" {
		for _, k := range s.keys {
			if k.ID == "" {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil, errorf(ErrUnknownKey, "no key with kid %.64q", kid)
	}
	return out, nil
}

// ParseJWKS reads a JWK Set (RFC 7517 §5) and keeps the keys it can
// verify with: public signature keys of a supported type whose "alg",
// when present, fits. Other keys are skipped, not errors, so an issuer may
// publish keys of other kinds; symmetric ("oct") and private keys are
// always skipped. Keys that share a kid are dropped: which one it means is
// ambiguous.
func ParseJWKS(data []byte) (*KeySet, error) {
	keys, err := parseJWKS(data, false)
	if err != nil {
		return nil, err
	}
	return NewKeySet(keys...), nil
}

func parseJWKS(data []byte, allowPrivate bool) ([]*Key, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("jwt: jwks: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`jwt: jwks: no "keys" member`)
	}
	keys := make([]*Key, 0, len(doc.Keys))
	count := map[string]int{}
	for _, raw := range doc.Keys {
		k, err := parseJWK(raw, allowPrivate)
		if err != nil {
			continue
		}
		count[k.ID]++
		keys = append(keys, k)
	}
	out := keys[:0]
	for _, k := range keys {
		if k.ID == "" || count[k.ID] == 1 {
			out = append(out, k)
		}
	}
	return out, nil
}

// parseJWK reads one JWK (RFC 7517 §4) as a verification key.
func parseJWK(raw []byte, allowPrivate bool) (*Key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("jwt: jwk: %w", err)
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("jwt: jwk %q: use %q is not sig", jwk.KeyID, jwk.Use)
	}
	if !jwk.IsPublic() && !allowPrivate {
		return nil, fmt.Errorf("jwt: jwk %q: a private key in a key set", jwk.KeyID)
	}
	// NewKey takes asymmetric keys only: a symmetric ("oct") JWK is
	// refused there.
	return NewKey(jwk.Key, jwk.KeyID, jwk.Algorithm)
}

// ParseKeys reads verification keys from the contents of a key file: PEM
// (public keys in PKIX or PKCS #1, certificates, or private keys in
// PKCS #8, SEC 1 or PKCS #1, whose public half is used), a JWK, or a JWK
// Set (private JWKs are reduced to their public half). It fails when the
// data holds no usable key.
func ParseKeys(data []byte) (*KeySet, error) {
	trimmed := bytes.TrimSpace(data)
	var keys []*Key
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, fmt.Errorf("jwt: key file: %w", err)
		}
		if probe.Keys != nil {
			var err error
			if keys, err = parseJWKS(trimmed, true); err != nil {
				return nil, err
			}
		} else {
			k, err := parseJWK(trimmed, true)
			if err != nil {
				return nil, err
			}
			keys = []*Key{k}
		}
	} else {
		rest := data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			pub, err := ParsePEMBlock(block)
			if err != nil {
				return nil, err
			}
			if pub == nil {
				continue
			}
			k, err := NewKey(pub, "", "")
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwt: key file: no usable key: expected a PEM key or certificate, a JWK or a JWK Set")
	}
	return NewKeySet(keys...), nil
}

// ReadKeyFile reads a key file with ParseKeys.
func ReadKeyFile(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	s, err := ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// ParsePEMBlock returns the key of one PEM block — a public key, a
// certificate's public key, or a private key (PKCS#8, SEC 1 EC, PKCS#1
// RSA) — as the crypto package's type; blocks that hold none (EC
// PARAMETERS, as `openssl ecparam -genkey` writes) give nil, an encrypted
// private key an error that says how to decrypt it.
func ParsePEMBlock(b *pem.Block) (any, error) {
	var (
		k   any
		err error
	)
	switch b.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
			k = cert.PublicKey
		}
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PARAMETERS":
		return nil, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("jwt: the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)")
	default:
		return nil, fmt.Errorf("jwt: unsupported PEM block %q", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: PEM %s: %w", b.Type, err)
	}
	return k, nil
}
