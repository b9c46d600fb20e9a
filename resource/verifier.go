package resource

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Errors returned (wrapped) by Verify; compare with errors.Is. Their text
// says why a credential was refused but never contains it.
var (
	// ErrInvalidToken: the credential is malformed, forged, expired,
	// revoked, or meant for another issuer or audience (RFC 6750 §3.1
	// invalid_token, HTTP 401).
	ErrInvalidToken = errors.New("resource: invalid token")
	// ErrExpiredToken: the credential is past its exp. It is also an
	// ErrInvalidToken.
	ErrExpiredToken = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrInsufficientScope: the credential is good but lacks a required
	// scope (RFC 6750 §3.1 insufficient_scope, HTTP 403).
	ErrInsufficientScope = errors.New("resource: insufficient scope")
	// ErrUnavailable: the issuer's JWKS or introspection endpoint could not
	// be reached, so the credential could not be checked (HTTP 503).
	ErrUnavailable = errors.New("resource: issuer unavailable")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

// maxTokenLen bounds the credentials Verify looks at.
const maxTokenLen = 16 << 10

// How a credential was checked (Identity.Method).
const (
	MethodJWT           = "jwt"
	MethodIntrospection = "introspection"
)

// Identity is who a verified credential speaks for. The same Identity is
// returned for every request that carries the same credential while it is
// cached: treat it, its slices and its map as read-only.
type Identity struct {
	// Subject is the sub claim: a user id, or the client id for a
	// client-credentials token.
	Subject  string
	ClientID string
	// Username is preferred_username (JWT) or username (introspection).
	Username string
	Scopes   []string
	Roles    []string
	// Expiry is the credential's exp; zero when it has none (an API key
	// that does not expire).
	Expiry  time.Time
	TokenID string
	// Method is MethodJWT or MethodIntrospection.
	Method string
	// JKT is the cnf.jkt of a DPoP-bound token (RFC 9449 §6): the JWK
	// thumbprint of the key whose proofs must come with it. Empty for a
	// bearer token.
	JKT string
	// Claims holds every claim of the JWT, or every member of the
	// introspection response.
	Claims map[string]any
}

// HasScope reports whether the credential was granted scope.
func (id *Identity) HasScope(scope string) bool { return slices.Contains(id.Scopes, scope) }

// HasRole reports whether the credential carries role.
func (id *Identity) HasRole(role string) bool { return slices.Contains(id.Roles, role) }

// Verifier checks Gatehouse credentials. It is safe for concurrent use;
// make one per issuer and share it.
type Verifier struct {
	settings
	keys  *jwt.RemoteKeySet
	jwt   *jwt.Verifier
	intro *introspector // nil: introspection not configured
	// cache holds verified credentials and introspection answers by the
	// SHA-256 of the credential, so the credential itself is not kept.
	cache *lru.Cache[[sha256.Size]byte, *entry]
	// proofs checks the DPoP proofs of bound tokens (dpop.go).
	proofs *dpop.Verifier
}

// entry is a cached verification result.
type entry struct {
	id    *Identity // nil for a cached refusal
	err   error     // why it was refused
	until time.Time // the entry is used before this time only
	// kid and key are set for JWTs: the entry holds only while the JWKS
	// still maps kid to this very key.
	kid string
	key *jwt.Key
}

// NewVerifier checks cfg and returns a Verifier. When Config.JWKSURL (or the
// introspection URL, with introspection configured) is empty it reads the
// issuer's discovery document, and fails if that cannot be read; set them
// to start without contacting the issuer. The JWKS itself is fetched on
// first use.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	s, err := resolve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[[sha256.Size]byte, *entry](s.cacheSize)
	if err != nil {
		return nil, fmt.Errorf("resource: cache: %w", err)
	}
	keys := jwt.NewRemoteKeySet(s.jwksURL, jwt.RemoteOptions{HTTPClient: s.client, Clock: s.clock, RequireKeyID: true})
	jv, err := newJWTVerifier(s, keys)
	if err != nil {
		return nil, err
	}
	proofs, err := newProofVerifier(s)
	if err != nil {
		return nil, err
	}
	v := &Verifier{settings: *s, keys: keys, jwt: jv, cache: cache, proofs: proofs}
	if in := s.introspection; in != nil {
		v.intro = &introspector{
			url:          in.URL,
			clientID:     in.ClientID,
			clientSecret: in.ClientSecret,
			ttl:          in.CacheTTL,
			client:       s.client,
		}
	}
	return v, nil
}

// Verify checks a bearer credential and returns whom it speaks for. A JWT
// (three dot-separated parts) is verified offline against the issuer's
// JWKS; anything else is introspected when Config.Introspection is set and
// refused otherwise. Results are cached (see the package documentation
// for how long). ctx bounds the requests Verify may make to the issuer.
//
// Errors wrap ErrInvalidToken, ErrExpiredToken, ErrInsufficientScope or
// ErrUnavailable. A DPoP-bound token is refused with ErrBoundToken: it
// needs its proof, which VerifyRequest (and Middleware) check.
func (v *Verifier) Verify(ctx context.Context, token string) (*Identity, error) {
	id, err := v.lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	if id.JKT != "" {
		return nil, ErrBoundToken
	}
	return v.authorize(id)
}

// lookup verifies token, from the cache when it can, without the scope
// check and without looking at a DPoP binding.
func (v *Verifier) lookup(ctx context.Context, token string) (*Identity, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, invalidf("empty or longer than %d bytes", maxTokenLen)
	}
	now := v.clock.Now()
	v.keys.RefreshIfStale(ctx)
	sum := sha256.Sum256([]byte(token))
	if e, ok := v.cache.Get(sum); ok {
		if v.usable(e, now) {
			if e.id == nil {
				return nil, e.err
			}
			return e.id, nil
		}
		v.cache.Remove(sum)
	}

	dots, ok := scanToken(token)
	switch {
	case !ok:
		return nil, invalidf("not a bearer token (RFC 6750 §2.1)")
	case dots == 2:
		id, key, kid, err := v.verifyJWT(ctx, token)
		if err != nil {
			return nil, err
		}
		v.cache.Add(sum, &entry{id: id, until: id.Expiry.Add(v.leeway), kid: kid, key: key})
		return id, nil
	case v.intro != nil:
		return v.introspect(ctx, token, sum, now)
	default:
		return nil, invalidf("not a JWT, and introspection is not configured")
	}
}

// usable reports whether a cached entry may answer at now.
func (v *Verifier) usable(e *entry, now time.Time) bool {
	if !now.Before(e.until) {
		return false
	}
	if e.key == nil {
		return true
	}
	return v.keys.Cached(e.kid) == e.key
}

// authorize checks Config.RequiredScopes.
func (v *Verifier) authorize(id *Identity) (*Identity, error) {
	for _, s := range v.requiredScopes {
		if !id.HasScope(s) {
			return nil, fmt.Errorf("%w: %q is required", ErrInsufficientScope, s)
		}
	}
	return id, nil
}

// scanToken checks the b64token syntax of RFC 6750 §2.1 and counts dots.
//
//	b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func scanToken(tok string) (dots int, ok bool) {
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return 0, false
	}
	for i := 0; i < len(body); i++ {
		switch b64tokenChars[body[i]] {
		case 0:
			return 0, false
		case '.':
			dots++
		}
	}
	return dots, true
}

// b64tokenChars maps the characters of b64token other than "=" to
// themselves (non-zero) and every other byte to zero.
var b64tokenChars = func() (t [256]byte) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		t[c] = c
	}
	return t
}()
