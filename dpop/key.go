package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// NewKey returns a new P-256 key: proofs signed with it use ES256, the
// algorithm every DPoP server supports.
func NewKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop: new key: %w", err)
	}
	return k, nil
}

// MarshalKey encodes a private key for storage: PEM "PRIVATE KEY"
// (PKCS #8). Keep the result as secret as a refresh token: whoever holds
// it can use the tokens bound to it.
func MarshalKey(key crypto.Signer) ([]byte, error) {
	switch key.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey:
	default:
		return nil, fmt.Errorf("dpop: marshal key: unsupported key type %T", key)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("dpop: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// UnmarshalKey reads a private key written by MarshalKey: PEM PKCS #8 (or
// SEC 1 "EC PRIVATE KEY"), or PKCS #8 DER.
func UnmarshalKey(data []byte) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	if b, _ := pem.Decode(data); b != nil {
		switch b.Type {
		case "PRIVATE KEY", "EC PRIVATE KEY":
			k, err = jwt.ParsePEMBlock(b)
		default:
			return nil, fmt.Errorf("dpop: unmarshal key: PEM %q is not a private key", b.Type)
		}
	} else {
		k, err = x509.ParsePKCS8PrivateKey(data)
	}
	if err != nil {
		return nil, fmt.Errorf("dpop: unmarshal key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok || s == nil {
		return nil, errors.New("dpop: unmarshal key: not a signing key")
	}
	if _, err := jwt.NewSigner(s, "", ""); err != nil {
		return nil, fmt.Errorf("dpop: unmarshal key: %w", err)
	}
	return s, nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of the public
// half of key, base64url without padding: the jkt that binds tokens to
// the key (RFC 9449 §6.1).
func Thumbprint(key crypto.PublicKey) (string, error) {
	return jwt.Thumbprint(key)
}
