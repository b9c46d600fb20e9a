package jwt

import (
	"errors"
	"fmt"
)

// Errors returned (wrapped) by the functions of this package; compare with
// errors.Is. Their text may quote short header values but never a whole
// token.
var (
	// ErrMalformed: not a compact JWS/JWT this package accepts (syntax,
	// base64url, JSON, duplicate members, "crit", size).
	ErrMalformed = errors.New("jwt: malformed token")
	// ErrType: the typ header is not the expected one (RFC 8725 §3.11).
	ErrType = errors.New("jwt: wrong token type")
	// ErrAlgorithm: the alg header is not on the verifier's allow-list
	// ("none" never is; HMAC only when listed explicitly).
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")
	// ErrUnknownKey: the key source has no key for the token's kid.
	ErrUnknownKey = errors.New("jwt: unknown key")
	// ErrBadSignature: alg does not fit the key, or the signature does not
	// verify.
	ErrBadSignature = errors.New("jwt: bad signature")
	// ErrUnavailable: the key source could not be read (a JWKS fetch
	// failed), so the token could not be checked.
	ErrUnavailable = errors.New("jwt: keys unavailable")
	// ErrExpired: the current time is at or after exp (plus leeway).
	ErrExpired = errors.New("jwt: token expired")
	// ErrNotYetValid: nbf or iat is after the current time (plus leeway).
	ErrNotYetValid = errors.New("jwt: token not yet valid")
	// ErrIssuer: iss is not the expected issuer.
	ErrIssuer = errors.New("jwt: wrong issuer")
	// ErrAudience: aud names none of the expected audiences.
	ErrAudience = errors.New("jwt: wrong audience")
	// ErrClaim: a registered claim is missing or of the wrong JSON type.
	ErrClaim = errors.New("jwt: bad claim")
)

// errorf wraps sentinel with a formatted reason.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
