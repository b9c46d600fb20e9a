package jwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// Token types for the typ header.
const (
	TypeJWT         = "JWT"    // RFC 7519 §5.1
	TypeAccessToken = "at+jwt" // RFC 9068 §2.1
)

// Signer signs tokens with one key. The key's type fixes the algorithm
// (an EC key its curve's ES algorithm, Ed25519 EdDSA, RSA RS256 or, when
// asked for, PS256 and the other RSA algorithms); HS256 needs a secret
// given to NewHMACSigner. It is safe for concurrent use.
type Signer struct {
	alg, kid string
	key      crypto.Signer // nil for HMAC
	secret   []byte        // HMAC only

	headers  sync.Map // typ → base64url(header) + "."
	nheaders atomic.Int32
}

// maxCachedHeaders bounds the header cache of a Signer; callers use two or
// three typ values.
const maxCachedHeaders = 16

// NewSigner returns a Signer for key (*ecdsa.PrivateKey, ed25519.PrivateKey,
// *rsa.PrivateKey, or any crypto.Signer with such a public key) that writes
// kid in the header. alg may be empty, which picks the key's algorithm
// (ES256/ES384/ES512 by curve, EdDSA, RS256); when set it must fit the key.
func NewSigner(key crypto.Signer, alg, kid string) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("jwt: no signing key")
	}
	pub := key.Public()
	natural, ok := defaultAlgorithm(pub)
	if !ok {
		return nil, fmt.Errorf("jwt: unsupported key type %T", key)
	}
	if alg == "" {
		alg = natural
	}
	if !fits(alg, pub, nil) {
		return nil, errorf(ErrAlgorithm, "%s does not fit a %s key", alg, keyKind(pub))
	}
	return &Signer{alg: alg, kid: kid, key: key}, nil
}

// NewHMACSigner returns an HS256 Signer keyed with secret (at least
// MinHMACBytes bytes). Verifiers accept its tokens only with a key made by
// NewHMACKey and HS256 on their allow-list.
func NewHMACSigner(secret []byte, kid string) (*Signer, error) {
	if len(secret) < MinHMACBytes {
		return nil, fmt.Errorf("jwt: HMAC secret of %d bytes is too short; use %d or more", len(secret), MinHMACBytes)
	}
	return &Signer{alg: HS256, kid: kid, secret: bytes.Clone(secret)}, nil
}

// Algorithm returns the alg the Signer writes.
func (s *Signer) Algorithm() string { return s.alg }

// KeyID returns the kid the Signer writes ("" for none).
func (s *Signer) KeyID() string { return s.kid }

// VerificationKey returns the key that verifies the Signer's tokens.
func (s *Signer) VerificationKey() *Key {
	if s.key == nil {
		return &Key{ID: s.kid, Algorithm: s.alg, secret: s.secret}
	}
	return &Key{ID: s.kid, Algorithm: s.alg, Public: s.key.Public()}
}

// Sign returns the compact JWS of claims (a Claims, a map or a struct,
// marshalled with encoding/json into a JSON object) with the protected
// header {"alg", "kid", "typ"}; kid and typ are left out when empty.
func (s *Signer) Sign(typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt: encode claims: %w", err)
	}
	// encoding/json writes no duplicate names for a map or a struct;
	// checking the first byte is enough to refuse a non-object.
	if len(payload) == 0 || payload[0] != '{' {
		return "", errorf(ErrMalformed, "claims are not a JSON object")
	}
	return s.sign(typ, payload)
}

// SignJSON is Sign with the claims already encoded; payload must be one
// JSON object without duplicate member names.
func (s *Signer) SignJSON(typ string, payload []byte) (string, error) {
	if _, err := decodeObject(payload); err != nil {
		return "", errorf(ErrMalformed, "claims: %v", err)
	}
	return s.sign(typ, payload)
}

// sign makes the compact JWS of a checked payload.
func (s *Signer) sign(typ string, payload []byte) (string, error) {
	return s.signWithHeader(s.header(typ), payload)
}

// signWithHeader makes the compact JWS of a checked payload under the
// encoded header h (which ends in '.').
func (s *Signer) signWithHeader(h string, payload []byte) (string, error) {
	buf := make([]byte, 0, len(h)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(512))
	buf = append(buf, h...)
	buf = b64.AppendEncode(buf, payload)
	sig, err := s.signature(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// header returns the encoded protected header for typ followed by '.'.
func (s *Signer) header(typ string) string {
	if h, ok := s.headers.Load(typ); ok {
		return h.(string)
	}
	b, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid,omitempty"`
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

// signature signs the signing input (RFC 7515 §5.1) with the Signer's
// algorithm: R || S for ECDSA (RFC 7518 §3.4), Ed25519 (RFC 8037 §3.1),
// PKCS #1 v1.5 or PSS with a salt the size of the hash (RFC 7518 §3.3,
// §3.5), or HMAC (§3.2).
func (s *Signer) signature(input []byte) ([]byte, error) {
	sp, _ := spec(s.alg)
	switch sp.fam {
	case famHMAC:
		m := hmac.New(sp.hash.New, s.secret)
		m.Write(input)
		return m.Sum(nil), nil
	case famEd:
		sig, err := s.key.Sign(rand.Reader, input, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("jwt: sign: %w", err)
		}
		return sig, nil
	case famEC:
		d := digest(sp.hash, input)
		var r, ss *big.Int
		if k, ok := s.key.(*ecdsa.PrivateKey); ok {
			var err error
			if r, ss, err = ecdsa.Sign(rand.Reader, k, d); err != nil {
				return nil, fmt.Errorf("jwt: sign: %w", err)
			}
		} else {
			der, err := s.key.Sign(rand.Reader, d, sp.hash)
			if err != nil {
				return nil, fmt.Errorf("jwt: sign: %w", err)
			}
			var rs struct{ R, S *big.Int }
			if _, err := asn1.Unmarshal(der, &rs); err != nil {
				return nil, fmt.Errorf("jwt: sign: ECDSA signature: %w", err)
			}
			r, ss = rs.R, rs.S
		}
		sig := make([]byte, 2*sp.size)
		r.FillBytes(sig[:sp.size])
		ss.FillBytes(sig[sp.size:])
		return sig, nil
	case famRSA:
		sig, err := s.key.Sign(rand.Reader, digest(sp.hash, input), sp.hash)
		if err != nil {
			return nil, fmt.Errorf("jwt: sign: %w", err)
		}
		return sig, nil
	case famRSAPSS:
		sig, err := s.key.Sign(rand.Reader, digest(sp.hash, input),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: sp.hash})
		if err != nil {
			return nil, fmt.Errorf("jwt: sign: %w", err)
		}
		return sig, nil
	}
	return nil, errorf(ErrAlgorithm, "%q", s.alg)
}

// DefaultAssertionLifetime is the lifetime SignClientAssertion gives an
// assertion when asked for none: short, since the server remembers its
// jti until it expires.
const DefaultAssertionLifetime = 60 * time.Second

// SignClientAssertion returns an RFC 7523 client assertion for
// private_key_jwt client authentication (RFC 7523 §2.2, §3; OIDC Core §9):
// iss = sub = clientID, aud = tokenEndpoint, a random jti, iat = now and
// exp = now + lifetime (DefaultAssertionLifetime when zero). Send it as
// client_assertion with client_assertion_type
// urn:ietf:params:oauth:client-assertion-type:jwt-bearer.
func (s *Signer) SignClientAssertion(clientID, tokenEndpoint string, now time.Time, lifetime time.Duration) (string, error) {
	if clientID == "" || tokenEndpoint == "" {
		return "", fmt.Errorf("jwt: client assertion needs a client id and a token endpoint")
	}
	if lifetime <= 0 {
		lifetime = DefaultAssertionLifetime
	}
	jti, err := RandomID()
	if err != nil {
		return "", err
	}
	return s.Sign(TypeJWT, Claims{
		Issuer: clientID, Subject: clientID, Audience: []string{tokenEndpoint},
		IssuedAt: now, ExpiresAt: now.Add(lifetime), ID: jti,
	})
}

// AccessToken describes an RFC 9068 JWT access token, for tests and for
// issuers other than Gatehouse's server.
type AccessToken struct {
	Issuer   string   // iss
	Subject  string   // sub
	ClientID string   // client_id
	Audience []string // aud: the resource(s) the token is for
	// Scope is the space-separated scope claim; empty: left out.
	Scope string
	// IssuedAt is iat; exp is IssuedAt + Lifetime.
	IssuedAt time.Time
	Lifetime time.Duration // exp - iat
	// ID is jti; empty: a random one.
	ID string
	// Extra holds further claims (roles, preferred_username, ...).
	Extra map[string]any
}

// SignAccessToken returns an RFC 9068 access token (typ "at+jwt") with
// the required claims iss, exp, aud, sub, client_id, iat and jti (RFC 9068
// §2.2).
func (s *Signer) SignAccessToken(at AccessToken) (string, error) {
	if at.Issuer == "" || at.Subject == "" || at.ClientID == "" || len(at.Audience) == 0 || at.IssuedAt.IsZero() || at.Lifetime <= 0 {
		return "", fmt.Errorf("jwt: access token needs issuer, subject, client id, audience, issued-at and a lifetime (RFC 9068 §2.2)")
	}
	if at.ID == "" {
		var err error
		if at.ID, err = RandomID(); err != nil {
			return "", err
		}
	}
	extra := make(map[string]any, len(at.Extra)+2)
	for k, v := range at.Extra {
		extra[k] = v
	}
	extra["client_id"] = at.ClientID
	if at.Scope != "" {
		extra["scope"] = at.Scope
	}
	return s.Sign(TypeAccessToken, Claims{
		Issuer: at.Issuer, Subject: at.Subject, Audience: at.Audience,
		IssuedAt: at.IssuedAt, ExpiresAt: at.IssuedAt.Add(at.Lifetime), ID: at.ID,
		Extra: extra,
	})
}

// RandomID returns 128 random bits, base64url: a jti.
func RandomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("jwt: random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
