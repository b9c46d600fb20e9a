package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// newJWTVerifier builds the jwt.Verifier for access tokens: RFC 9068 §4
// says "The resource server MUST verify that the "typ" header value is
// "at+jwt" or "application/at+jwt" and reject tokens carrying any other
// value" (this keeps ID tokens out, RFC 8725 §3.11); "The issuer
// identifier for the authorization server ... MUST exactly match the value
// of the "iss" claim"; and "The resource server MUST validate that the
// "aud" claim contains a resource indicator value corresponding to an
// identifier the resource server expects for itself." Config.Types widens
// the typ rule for issuers that do not issue RFC 9068 tokens.
func newJWTVerifier(s *settings, keys jwt.KeySource) (*jwt.Verifier, error) {
	v, err := jwt.NewVerifier(jwt.Config{
		Keys:       keys,
		Algorithms: s.algorithms,
		Types:      s.types,
		Issuer:     s.issuer,
		Audience:   s.audience,
		Leeway:     leewayFor(s.leeway),
		Clock:      s.clock,
	})
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	return v, nil
}

// leewayFor turns a resolved leeway (zero: none) into jwt.Config's
// convention (zero: the default, negative: none).
func leewayFor(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// verifyJWT checks a JWT access token following RFC 9068 §4 with the jwt
// package (header rules, algorithm allow-list bound to the key, signature,
// iss, aud, exp, nbf, iat) and then the claims RFC 9068 §2.2 requires. It
// returns the Identity and the key that verified it.
func (v *Verifier) verifyJWT(ctx context.Context, token string) (*Identity, *jwt.Key, string, error) {
	t, err := v.jwt.Verify(ctx, token)
	if err != nil {
		return nil, nil, "", jwtError(err)
	}
	id, err := identityOf(t, isAccessTokenType(t.Header.Type))
	if err != nil {
		return nil, nil, "", err
	}
	return id, t.Key, t.Header.KeyID, nil
}

// jwtError maps an error of the jwt package to this package's errors,
// keeping the jwt error in the chain for errors.Is.
func jwtError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrUnavailable):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, jwt.ErrExpired):
		return fmt.Errorf("%w: %w", ErrExpiredToken, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}

// isAccessTokenType reports whether typ says RFC 9068 access token.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == TypeAccessToken || typ == "application/"+TypeAccessToken
}

// identityOf checks the claims RFC 9068 §2.2 requires beyond those the jwt
// package checked, and returns the Identity of a verified token. A token
// whose typ is not at+jwt (accepted only when Config.Types lists its typ)
// makes no RFC 9068 promise: its client_id may be azp and its jti and iat
// may be missing; it must still have sub and exp.
func identityOf(t *jwt.Token, rfc9068 bool) (*Identity, error) {
	c := t.ClaimSet
	// exp and iat are REQUIRED (RFC 9068 §2.2); the jwt package checked
	// their type and value when present.
	if t.Claims.ExpiresAt.IsZero() {
		return nil, invalidf("exp is missing")
	}
	if _, ok := c["iat"]; !ok && rfc9068 {
		return nil, invalidf("iat is missing")
	}
	clientClaim := "client_id"
	if _, ok := c[clientClaim]; !ok && !rfc9068 {
		// OpenID Connect Core §2: azp is the party the token was issued to.
		clientClaim = "azp"
	}
	id := &Identity{Expiry: t.Claims.ExpiresAt, Method: MethodJWT, Claims: c}
	// sub, client_id and jti are REQUIRED (RFC 9068 §2.2).
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"sub", &id.Subject, true},
		{clientClaim, &id.ClientID, rfc9068},
		{"jti", &id.TokenID, rfc9068},
		{"preferred_username", &id.Username, false},
	} {
		s, ok := c[f.name].(string)
		if _, present := c[f.name]; (present && !ok) || (f.required && s == "") {
			return nil, invalidf("%s is missing or not a string", f.name)
		}
		*f.dst = s
	}
	if err := fillScopesAndRoles(id, c); err != nil {
		return nil, err
	}
	jkt, err := confirmation(c)
	if err != nil {
		return nil, err
	}
	id.JKT = jkt
	return id, nil
}

// fillScopesAndRoles reads scope (a space-separated string, RFC 9068
// §2.2.3, RFC 7662 §2.2) and roles (an array of strings) into id.
func fillScopesAndRoles(id *Identity, c map[string]any) error {
	if raw, present := c["scope"]; present {
		s, ok := raw.(string)
		if !ok {
			return invalidf("scope is not a string")
		}
		id.Scopes = strings.Fields(s)
	}
	if raw, present := c["roles"]; present {
		roles, ok := jwt.StringList(raw)
		if !ok {
			return invalidf("roles is not a list of strings")
		}
		id.Roles = roles
	}
	return nil
}

// acceptsAudience reports whether aud names one of the configured
// audiences.
func (v *Verifier) acceptsAudience(aud []string) bool {
	for _, a := range aud {
		if slices.Contains(v.audience, a) {
			return true
		}
	}
	return false
}
