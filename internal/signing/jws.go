package signing

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Errors returned (wrapped) by Verify and Sign; compare with errors.Is.
var (
	// ErrMalformed: not a compact JWS this package accepts.
	ErrMalformed = errors.New("signing: malformed token")
	// ErrBadType: the typ header is not the expected one (RFC 8725 §3.11).
	ErrBadType = errors.New("signing: wrong token type")
	// ErrUnknownKey: no kid, or a kid that is not published now (never
	// existed, or rotated out and past its retention).
	ErrUnknownKey = errors.New("signing: unknown signing key")
	// ErrBadSignature: alg differs from the key's algorithm (including
	// "none" and HMAC), or the signature does not verify.
	ErrBadSignature = errors.New("signing: bad signature")
	// ErrNoSigningKey: Sign found no key that may sign now (Init was not
	// called, or every key is retired).
	ErrNoSigningKey = errors.New("signing: no signing key")
)

// Token types for the typ header.
const (
	TypeAccessToken = jwt.TypeAccessToken // RFC 9068 §2.1
	TypeIDToken     = jwt.TypeJWT
)

// algorithms is the allow-list of Verify: the algorithms of this
// package's keys. Each key verifies only its own.
var algorithms = []string{ES256, EdDSA}

// Sign returns a compact JWS of claims (marshalled with encoding/json)
// signed with the current signing key, with the protected header
// {"alg":..., "kid":..., "typ": typ}; typ is left out when empty. The jwt
// package makes the serialization.
func (m *Manager) Sign(typ string, claims any) (string, error) {
	s := m.current(m.clk.Now()).signer
	if s == nil {
		return "", ErrNoSigningKey
	}
	tok, err := s.Sign(typ, claims)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return tok, nil
}

// Verify checks a compact JWS made by Sign and returns its payload, the
// claims JSON object. It uses jwt.VerifySignature, which holds the header
// rules, and requires, in this order:
//
//   - a well-formed compact JWS: three unpadded base64url parts, a JSON
//     object header without "crit" or duplicate members (ErrMalformed);
//   - header typ equal to typ, ignoring case and an "application/" prefix
//     (RFC 7515 §4.1.9), so "application/at+jwt" passes for "at+jwt"
//     (ErrBadType);
//   - alg ES256 or EdDSA (ErrBadSignature);
//   - a kid published now (ErrUnknownKey);
//   - alg equal to that key's algorithm, and a valid signature
//     (ErrBadSignature);
//   - a payload that is a JSON object without duplicate names
//     (ErrMalformed).
//
// It does not look at any claim: exp, nbf, iss and aud are the caller's.
func (m *Manager) Verify(token, typ string) ([]byte, error) {
	t, err := jwt.VerifySignature(context.Background(), token, published(m.current(m.clk.Now()).published), algorithms, typ)
	if err != nil {
		return nil, verifyError(err)
	}
	// jwt.VerifySignature checks no typ when asked for none; here an
	// empty typ means the header must have none.
	if typ == "" && t.Header.Type != "" {
		return nil, fmt.Errorf("%w: typ %.32q, want none", ErrBadType, t.Header.Type)
	}
	return t.Payload, nil
}

// published is the jwt.KeySource of the keys published now.
type published map[string]*material

// Keys returns the published key named kid.
func (p published) Keys(_ context.Context, kid string) ([]*jwt.Key, error) {
	if k, ok := p[kid]; ok && kid != "" {
		return []*jwt.Key{k.key}, nil
	}
	return nil, fmt.Errorf("%w: kid %.64q", jwt.ErrUnknownKey, kid)
}

// verifyError maps an error of the jwt package to this package's errors,
// keeping it in the chain.
func verifyError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrType):
		return fmt.Errorf("%w: %w", ErrBadType, err)
	case errors.Is(err, jwt.ErrUnknownKey):
		return fmt.Errorf("%w: %w", ErrUnknownKey, err)
	case errors.Is(err, jwt.ErrAlgorithm), errors.Is(err, jwt.ErrBadSignature):
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}
