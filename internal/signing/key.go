package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Supported signature algorithms (RFC 7518 §3.4, RFC 8037 §3.1).
const (
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

func checkAlgorithm(alg string) error {
	switch alg {
	case ES256, EdDSA:
		return nil
	}
	return fmt.Errorf("signing: unsupported algorithm %q; use %s or %s", alg, ES256, EdDSA)
}

// material is a parsed signing key: the row, its verification key, its
// public JWK and, for keys that may still sign, the signer.
type material struct {
	row    storage.SigningKey
	key    *jwt.Key // the public key, bound to the row's algorithm
	jwk    []byte   // public JWK JSON as served in JWKS
	signer *jwt.Signer
}

// generate makes a new key of algorithm alg and the row that stores it:
// the kid is the RFC 7638 thumbprint of the public key, the private key is
// PKCS #8 sealed with the server secret key and the kid as additional
// data, so a sealed key cannot be moved to another row.
func generate(alg string, sk *secret.Key) (*storage.SigningKey, error) {
	var priv crypto.Signer
	switch alg {
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("signing: generate key: %w", err)
		}
		priv = k
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("signing: generate key: %w", err)
		}
		priv = k
	default:
		return nil, checkAlgorithm(alg)
	}
	tp, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	jwk, err := publicJWK(priv.Public(), kid, alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signing: encode private key: %w", err)
	}
	sealed, err := sk.Seal(der, []byte(kid))
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signing: encrypt private key: %w", err)
	}
	return &storage.SigningKey{
		ID:                  kid,
		Algorithm:           alg,
		PublicJWK:           string(jwk),
		EncryptedPrivateKey: sealed,
	}, nil
}

// publicJWK returns the JWK of a public key with kid, alg and use "sig".
// Only public key types reach it, so it cannot carry private members.
func publicJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("signing: %T is not a supported public key", pub)
	}
	b, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("signing: encode public key: %w", err)
	}
	return b, nil
}

// parse checks a stored row and decrypts its private key. The public key
// must be the public half of the decrypted private key, so a row written
// by someone without the server secret key cannot add a verification key.
func parse(row *storage.SigningKey, sk *secret.Key) (*material, error) {
	if err := checkAlgorithm(row.Algorithm); err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", row.ID, err)
	}
	var stored jose.JSONWebKey
	if err := stored.UnmarshalJSON([]byte(row.PublicJWK)); err != nil {
		return nil, fmt.Errorf("signing: key %s: public JWK: %w", row.ID, err)
	}
	if !stored.IsPublic() || !stored.Valid() {
		return nil, fmt.Errorf("signing: key %s: public JWK is not a valid public key", row.ID)
	}
	if stored.KeyID != "" && stored.KeyID != row.ID {
		return nil, fmt.Errorf("signing: key %s: public JWK has kid %q", row.ID, stored.KeyID)
	}
	der, err := sk.Open(row.EncryptedPrivateKey, []byte(row.ID))
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: decrypt private key (is this the server secret key the key was made with?): %w", row.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: private key: %w", row.ID, err)
	}
	var pub crypto.PublicKey
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if row.Algorithm != ES256 || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing: key %s: ECDSA key does not fit algorithm %s", row.ID, row.Algorithm)
		}
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		if row.Algorithm != EdDSA {
			return nil, fmt.Errorf("signing: key %s: Ed25519 key does not fit algorithm %s", row.ID, row.Algorithm)
		}
		pub = k.Public()
	default:
		return nil, fmt.Errorf("signing: key %s: unsupported private key type %T", row.ID, priv)
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(stored.Key) {
		return nil, fmt.Errorf("signing: key %s: public JWK does not match the private key", row.ID)
	}
	jwk, err := publicJWK(pub, row.ID, row.Algorithm)
	if err != nil {
		return nil, err
	}
	s, err := jwt.NewSigner(priv.(crypto.Signer), row.Algorithm, row.ID)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", row.ID, err)
	}
	key, err := jwt.NewKey(pub, row.ID, row.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", row.ID, err)
	}
	return &material{row: *row, key: key, jwk: jwk, signer: s}, nil
}

// sameKey reports whether the key material of two rows is identical, so a
// parsed key can be reused across reloads (only RetiredAt ever changes).
func sameKey(a, b *storage.SigningKey) bool {
	return a.ID == b.ID && a.Algorithm == b.Algorithm && a.PublicJWK == b.PublicJWK &&
		bytes.Equal(a.EncryptedPrivateKey, b.EncryptedPrivateKey)
}

// storedTime normalises a timestamp for storage: UTC, no monotonic
// reading, microseconds (what PostgreSQL keeps), rounded down so that a
// key made active "now" is active now.
func storedTime(t time.Time) time.Time {
	return t.UTC().Round(0).Truncate(time.Microsecond)
}
