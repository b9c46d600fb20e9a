package jwtcmd

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// jwtMinRSABits is the smallest RSA key used for signing or verifying
// (RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used").
const jwtMinRSABits = jwt.MinRSABits

// jwtReadKeys reads a key file: PEM (private keys in PKCS #8, SEC 1 or
// PKCS #1; public keys in PKIX or PKCS #1; certificates), a JWK, or a JWK
// Set. The keys keep the kid and alg their JWK named.
func jwtReadKeys(path string) ([]jose.JSONWebKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, command.UsageErrorf("key file: %w", err)
	}
	keys, err := jwtParseKeys(data)
	if err != nil {
		return nil, command.UsageErrorf("key file %s: %w", path, err)
	}
	return keys, nil
}

// jwtParseKeys parses the contents of a key file (see jwtReadKeys).
func jwtParseKeys(data []byte) ([]jose.JSONWebKey, error) {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		return jwtParseJWKs(trimmed)
	}
	var keys []jose.JSONWebKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := jwtParsePEMBlock(block)
		if err != nil {
			return nil, err
		}
		if k != nil {
			keys = append(keys, jose.JSONWebKey{Key: k})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no key found: expected a PEM key or certificate, a JWK or a JWK Set")
	}
	for _, k := range keys {
		if err := jwtCheckKeyStrength(k.Key); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// jwtParsePEMBlock parses one PEM block with the jwt package and checks
// that the key is of a type the CLI signs or verifies with.
func jwtParsePEMBlock(b *pem.Block) (any, error) {
	k, err := jwt.ParsePEMBlock(b)
	if err != nil || k == nil {
		return k, err
	}
	if _, err := jwtKeyAlgorithm(k); err != nil {
		return nil, err
	}
	return k, nil
}

// jwtParseJWKs parses a JWK or a JWK Set.
func jwtParseJWKs(data []byte) ([]jose.JSONWebKey, error) {
	var probe struct {
		Keys json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var keys []jose.JSONWebKey
	if probe.Keys != nil {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(data, &set); err != nil {
			return nil, fmt.Errorf("JWK Set: %w", err)
		}
		keys = set.Keys
	} else {
		var k jose.JSONWebKey
		if err := json.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("JWK: %w", err)
		}
		keys = []jose.JSONWebKey{k}
	}
	if len(keys) == 0 {
		return nil, errors.New("the JWK Set has no keys")
	}
	for i, k := range keys {
		if !k.Valid() {
			return nil, fmt.Errorf("key %d is not a valid JWK", i)
		}
		if _, err := jwtKeyAlgorithm(k.Key); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if err := jwtCheckKeyStrength(k.Key); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
	}
	return keys, nil
}

// jwtPublicKey returns the public half of a private or public key.
func jwtPublicKey(k any) crypto.PublicKey {
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return k
}

// jwtKeyAlgorithm returns the algorithm a key signs with by default:
// ES256/ES384/ES512 by curve, EdDSA for Ed25519, RS256 for RSA.
func jwtKeyAlgorithm(k any) (jose.SignatureAlgorithm, error) {
	switch pub := jwtPublicKey(k).(type) {
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", fmt.Errorf("unsupported elliptic curve %s", pub.Curve.Params().Name)
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	case *rsa.PublicKey:
		return jose.RS256, nil
	case []byte:
		return "", errors.New("a symmetric (oct) key cannot be used: only asymmetric algorithms are accepted")
	}
	return "", fmt.Errorf("unsupported key type %T", k)
}

// jwtCheckKeyStrength refuses RSA keys shorter than jwtMinRSABits.
func jwtCheckKeyStrength(k any) error {
	if pub, ok := jwtPublicKey(k).(*rsa.PublicKey); ok && pub.N.BitLen() < jwtMinRSABits {
		return fmt.Errorf("RSA key of %d bits is too short; use %d bits or more", pub.N.BitLen(), jwtMinRSABits)
	}
	return nil
}

// jwtKeyFitsAlgorithm reports why key k cannot make or check alg
// signatures, or nil when it can.
func jwtKeyFitsAlgorithm(k any, alg jose.SignatureAlgorithm) error {
	natural, err := jwtKeyAlgorithm(k)
	if err != nil {
		return err
	}
	ok := false
	switch natural {
	case jose.RS256:
		ok = strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	default:
		ok = alg == natural
	}
	if !ok {
		return fmt.Errorf("%s does not fit this key (it signs with %s)", alg, jwtKeyDescription(k))
	}
	return nil
}

// jwtKeyDescription names a key's type for messages ("EC P-256",
// "Ed25519", "RSA 2048").
func jwtKeyDescription(k any) string {
	switch pub := jwtPublicKey(k).(type) {
	case *ecdsa.PublicKey:
		return "EC " + pub.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", pub.N.BitLen())
	}
	return fmt.Sprintf("%T", k)
}

// jwtThumbprint is the RFC 7638 SHA-256 thumbprint of k's public key,
// base64url: the kid keygen assigns.
func jwtThumbprint(k any) (string, error) {
	jwk := jose.JSONWebKey{Key: jwtPublicKey(k)}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
