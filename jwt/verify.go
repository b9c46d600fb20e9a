package jwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultLeeway is the clock skew a Verifier allows by default.
const DefaultLeeway = 30 * time.Second

// Config configures a Verifier. Keys is required, and so is an issuer and
// an audience unless AnyIssuer or AnyAudience says not to check them.
type Config struct {
	// Keys finds the verification key by kid: a *RemoteKeySet (a JWKS
	// URL), or a *KeySet from ParseJWKS, ParseKeys or ReadKeyFile.
	Keys KeySource
	// Algorithms is the allow-list of alg values. Default:
	// DefaultAlgorithms (asymmetric only). HS256 works only when listed
	// here and the key is an HMAC key from NewHMACKey.
	Algorithms []string
	// Type, when set, is the typ the header must carry (compared as RFC
	// 7515 §4.1.9 says: case-insensitively, "application/" optional), e.g.
	// TypeAccessToken to keep ID tokens out (RFC 8725 §3.11).
	Type string
	// Types, instead of Type, lists the typ values accepted (compared the
	// same way); "" in it accepts a header without typ. For issuers whose
	// access tokens say "JWT" or nothing.
	Types []string
	// Issuer is the iss a token must carry, byte for byte.
	Issuer string
	// AnyIssuer skips the iss check. Only for tokens whose issuer the key
	// alone establishes.
	AnyIssuer bool
	// Audience lists the aud values accepted; a token must name one.
	Audience []string
	// AnyAudience skips the aud check. Unsafe for access tokens: a token
	// meant for another service would pass (RFC 8725 §3.9).
	AnyAudience bool
	// Leeway is the clock skew allowed for exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means none.
	Leeway time.Duration
	// ExpiryOptional accepts tokens without exp (they never expire). By
	// default exp is required.
	ExpiryOptional bool
	// Clock tells the time. Default: clock.System.
	Clock clock.Clock
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Keys == nil:
		return errors.New("jwt: config: no key source")
	case c.Issuer == "" && !c.AnyIssuer:
		return errors.New("jwt: config: issuer is required (or set AnyIssuer)")
	case c.Issuer != "" && c.AnyIssuer:
		return errors.New("jwt: config: issuer and AnyIssuer both set")
	case len(c.Audience) == 0 && !c.AnyAudience:
		return errors.New("jwt: config: audience is required (or set AnyAudience, which is unsafe for access tokens)")
	case len(c.Audience) > 0 && c.AnyAudience:
		return errors.New("jwt: config: audience and AnyAudience both set")
	case slices.Contains(c.Audience, ""):
		return errors.New("jwt: config: empty audience")
	case c.Type != "" && len(c.Types) > 0:
		return errors.New("jwt: config: type and types both set")
	}
	if err := checkAllowList(c.Algorithms); err != nil {
		return fmt.Errorf("jwt: config: %w", err)
	}
	return nil
}

// Verifier checks tokens against a Config. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	leeway time.Duration
}

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	cfg.Audience = slices.Clone(cfg.Audience)
	cfg.Types = slices.Clone(cfg.Types)
	if cfg.Type != "" {
		cfg.Types = []string{cfg.Type}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	v := &Verifier{cfg: cfg, leeway: cfg.Leeway}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	}
	return v, nil
}

// Verify checks token and returns it parsed. In this order it requires a
// well-formed token without "crit" (ErrMalformed), the configured typ
// (ErrType), an alg on the allow-list (ErrAlgorithm), a key for the kid
// (ErrUnknownKey, ErrUnavailable), an alg that fits that key and a good
// signature (ErrBadSignature), and then the claims: iss (ErrIssuer), aud
// (ErrAudience), exp (ErrExpired), nbf and iat (ErrNotYetValid), each of
// its RFC 7519 type (ErrClaim).
func (v *Verifier) Verify(ctx context.Context, token string) (*Token, error) {
	t, err := verifyHeaderAndSignature(ctx, token, v.cfg.Keys, v.cfg.Algorithms, v.cfg.Types)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(t, v.cfg.Clock.Now()); err != nil {
		return nil, err
	}
	return t, nil
}

// VerifySignature parses token and checks its header and signature, but
// no claim: the caller must check exp, iss and aud itself (Verifier.Verify
// does). algorithms is the allow-list (nil: DefaultAlgorithms); typ, when
// not empty, the required typ. It is the one place the header rules are
// applied:
//
//   - "crit" is refused: RFC 7515 §4.1.11 says extensions listed there
//     MUST be understood, and none is here;
//   - "jku", "x5u", "jwk" and "x5c" are never read: keys come from keys
//     only (RFC 8725 §3.10);
//   - alg must be on the allow-list ("none" never is) and fit the key's
//     type, so a token cannot make a public key act as an HMAC secret
//     (RFC 8725 §2.1, §3.1).
func VerifySignature(ctx context.Context, token string, keys KeySource, algorithms []string, typ string) (*Token, error) {
	var types []string
	if typ != "" {
		types = []string{typ}
	}
	return verifyHeaderAndSignature(ctx, token, keys, algorithms, types)
}

// verifyHeaderAndSignature is VerifySignature with a list of accepted typ
// values (nil: any; "" in it: none).
func verifyHeaderAndSignature(ctx context.Context, token string, keys KeySource, algorithms []string, types []string) (*Token, error) {
	t, err := parse(token)
	if err != nil {
		return nil, err
	}
	h := &t.Header
	if h.crit {
		return nil, errorf(ErrMalformed, `header has "crit"; no extension is understood`)
	}
	if types != nil && !slices.ContainsFunc(types, func(want string) bool { return normType(h.Type) == normType(want) }) {
		return nil, errorf(ErrType, "typ %.32q, want one of %q", h.Type, types)
	}
	if algorithms == nil {
		algorithms = DefaultAlgorithms
	}
	if !slices.Contains(algorithms, h.Algorithm) {
		if IsSymmetric(h.Algorithm) {
			return nil, errorf(ErrAlgorithm, "alg %s is not allowed: HMAC needs a shared secret configured for it (RFC 8725 §3.1)", h.Algorithm)
		}
		return nil, errorf(ErrAlgorithm, "alg %.32q is not allowed", h.Algorithm)
	}
	candidates, err := keys.Keys(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	input := t.signingInput()
	tried := 0
	for _, k := range candidates {
		if !k.Allows(h.Algorithm) {
			continue
		}
		tried++
		if verifySignature(h.Algorithm, k.Public, k.secret, input, t.signature) {
			if err := t.decodeClaims(); err != nil {
				return nil, err
			}
			t.Key = k
			return t, nil
		}
	}
	if tried == 0 {
		return nil, errorf(ErrBadSignature, "alg %s does not fit the key for kid %.64q", h.Algorithm, h.KeyID)
	}
	return nil, errorf(ErrBadSignature, "the signature does not verify")
}

// checkClaims checks the registered claims of a token whose signature is
// good (RFC 7519 §4.1).
func (v *Verifier) checkClaims(t *Token, now time.Time) error {
	c := t.ClaimSet
	for _, name := range [...]string{"iss", "sub", "jti"} {
		if raw, ok := c[name]; ok {
			if _, isString := raw.(string); !isString {
				return errorf(ErrClaim, "%s is not a string", name)
			}
		}
	}
	if !v.cfg.AnyIssuer && t.Claims.Issuer != v.cfg.Issuer {
		return errorf(ErrIssuer, "iss %.64q, want %q", t.Claims.Issuer, v.cfg.Issuer)
	}
	if raw, ok := c["aud"]; ok {
		if _, good := StringList(raw); !good {
			return errorf(ErrClaim, "aud is not a string or an array of strings")
		}
	}
	// RFC 7519 §4.1.3: "If the principal processing the claim does not
	// identify itself with a value in the "aud" claim when this claim is
	// present, then the JWT MUST be rejected."
	if !v.cfg.AnyAudience && !containsAny(t.Claims.Audience, v.cfg.Audience) {
		want := strings.Join(v.cfg.Audience, " or ")
		if len(t.Claims.Audience) == 0 {
			return errorf(ErrAudience, "the token has no aud; want %s", want)
		}
		return errorf(ErrAudience, "aud %.128q does not name %s", t.Claims.Audience, want)
	}
	exp, err := v.date(c, "exp")
	if err != nil {
		return err
	}
	switch {
	case exp.IsZero() && !v.cfg.ExpiryOptional:
		return errorf(ErrClaim, "exp is missing")
	// RFC 7519 §4.1.4: "the current date/time MUST be before the
	// expiration date/time listed in the "exp" claim."
	case !exp.IsZero() && !now.Before(exp.Add(v.leeway)):
		return errorf(ErrExpired, "expired at %s", exp.UTC().Format(time.RFC3339))
	}
	// RFC 7519 §4.1.5: the JWT "MUST NOT be accepted for processing"
	// before nbf.
	nbf, err := v.date(c, "nbf")
	if err != nil {
		return err
	}
	if !nbf.IsZero() && nbf.After(now.Add(v.leeway)) {
		return errorf(ErrNotYetValid, "nbf: not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	// A token issued in the future was made by a clock we do not share.
	iat, err := v.date(c, "iat")
	if err != nil {
		return err
	}
	if !iat.IsZero() && iat.After(now.Add(v.leeway)) {
		return errorf(ErrNotYetValid, "iat %s is in the future", iat.UTC().Format(time.RFC3339))
	}
	return nil
}

// date reads a NumericDate claim; zero when absent.
func (v *Verifier) date(c map[string]any, name string) (time.Time, error) {
	raw, ok := c[name]
	if !ok {
		return time.Time{}, nil
	}
	t, ok := NumericDate(raw)
	if !ok {
		return time.Time{}, errorf(ErrClaim, "%s is not a NumericDate", name)
	}
	return t, nil
}

func containsAny(have, want []string) bool {
	for _, a := range have {
		if slices.Contains(want, a) {
			return true
		}
	}
	return false
}
