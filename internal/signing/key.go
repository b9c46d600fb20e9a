package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
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

// material is a parsed signing key: the row, its public key, its public JWK
// and, for keys that may still sign, the signer.
type material struct {
	row    storage.SigningKey
	pub    crypto.PublicKey // *ecdsa.PublicKey or ed25519.PublicKey
	jwk    []byte           // public JWK JSON as served in JWKS
	signer *signer
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
	s := &signer{kid: row.ID, alg: row.Algorithm}
	var pub crypto.PublicKey
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if row.Algorithm != ES256 || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing: key %s: ECDSA key does not fit algorithm %s", row.ID, row.Algorithm)
		}
		s.ec = k
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		if row.Algorithm != EdDSA {
			return nil, fmt.Errorf("signing: key %s: Ed25519 key does not fit algorithm %s", row.ID, row.Algorithm)
		}
		s.ed = k
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
	return &material{row: *row, pub: pub, jwk: jwk, signer: s}, nil
}

// sameKey reports whether the key material of two rows is identical, so a
// parsed key can be reused across reloads (only RetiredAt ever changes).
func sameKey(a, b *storage.SigningKey) bool {
	return a.ID == b.ID && a.Algorithm == b.Algorithm && a.PublicJWK == b.PublicJWK &&
		bytes.Equal(a.EncryptedPrivateKey, b.EncryptedPrivateKey)
}

// signer holds a decrypted private key and the encoded JWS headers it
// has produced, one per typ.
type signer struct {
	kid, alg string
	ec       *ecdsa.PrivateKey
	ed       ed25519.PrivateKey

	headers  sync.Map // typ → base64url(header) + "."
	nheaders atomic.Int32
}

// maxCachedHeaders bounds the header cache; callers use two or three typ
// values, so this is never reached in practice.
const maxCachedHeaders = 16

// header returns the encoded protected header for typ followed by '.'.
func (s *signer) header(typ string) string {
	if h, ok := s.headers.Load(typ); ok {
		return h.(string)
	}
	b, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{s.alg, s.kid, typ})
	if err != nil {
		panic(err) // three strings always marshal
	}
	h := base64.RawURLEncoding.EncodeToString(b) + "."
	if s.nheaders.Load() < maxCachedHeaders {
		if _, loaded := s.headers.LoadOrStore(typ, h); !loaded {
			s.nheaders.Add(1)
		}
	}
	return h
}

// sign returns the JWS signature of signingInput (RFC 7515 §5.1): for
// ES256 the 64-byte R || S of RFC 7518 §3.4, for EdDSA the Ed25519
// signature of RFC 8037 §3.1.
func (s *signer) sign(signingInput []byte) ([]byte, error) {
	if s.ed != nil {
		return ed25519.Sign(s.ed, signingInput), nil
	}
	digest := sha256.Sum256(signingInput)
	r, ss, err := ecdsa.Sign(rand.Reader, s.ec, digest[:])
	if err != nil {
		return nil, fmt.Errorf("signing: sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return sig, nil
}

// verifySignature checks sig over signingInput with a public key of alg.
func verifySignature(alg string, pub crypto.PublicKey, signingInput, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("%w: signature is %d bytes, want 64", ErrBadSignature, len(sig))
	}
	ok := false
	switch alg {
	case ES256:
		if k, isEC := pub.(*ecdsa.PublicKey); isEC {
			digest := sha256.Sum256(signingInput)
			r := new(big.Int).SetBytes(sig[:32])
			s := new(big.Int).SetBytes(sig[32:])
			ok = ecdsa.Verify(k, digest[:], r, s)
		}
	case EdDSA:
		if k, isEd := pub.(ed25519.PublicKey); isEd {
			ok = ed25519.Verify(k, signingInput, sig)
		}
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// storedTime normalises a timestamp for storage: UTC, no monotonic
// reading, microseconds (what PostgreSQL keeps), rounded down so that a
// key made active "now" is active now.
func storedTime(t time.Time) time.Time {
	return t.UTC().Round(0).Truncate(time.Microsecond)
}
