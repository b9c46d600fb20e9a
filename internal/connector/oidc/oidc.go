// Package oidc signs people in at an upstream OpenID Connect provider —
// Google, Entra ID, Okta, Keycloak, Dex, another Gatehouse — found by
// discovery. It implements connector.RedirectConnector: AuthCodeURL sends
// the browser to the provider with PKCE (S256), state and nonce, and
// Exchange checks the answer (state, RFC 9207 iss, error), redeems the
// code, validates the ID token with the repository's jwt package (alg on
// the provider's list and never "none" or HMAC unless configured,
// signature, iss, aud, azp, exp, iat, nonce), reads userinfo when the ID
// token lacks claims, maps the claims to a connector.Identity and applies
// the restrictions (allowed email domains, Google's hosted domain,
// verified email).
//
// Discovery happens at the first use, not in New, and is retried at every
// use until it works: a provider that is down when the server starts does
// not stop the server.
package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Leeway is the clock skew allowed for the ID token's exp and iat.
const Leeway = time.Minute

// Connector is one upstream OpenID Connect provider. It is safe for
// concurrent use.
type Connector struct {
	id, name string
	cfg      Config
	secret   string
	hmacKey  *jwt.Key // the client secret, when id_token_algorithms lists HS256
	http     *http.Client
	clock    clock.Clock

	prov   atomic.Pointer[provider] // nil until discovery first succeeds
	flight singleflight.Group
}

var _ connector.RedirectConnector = (*Connector)(nil)

// Option changes how New sets a Connector up.
type Option func(*Connector)

// WithHTTPClient makes the connector talk to the provider with hc (a proxy,
// a custom CA). The calls are bounded by Config.Timeout whatever hc's
// own timeout. Default: http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Connector) { c.http = hc }
}

// WithClock makes the connector tell time with clk (for ID token expiry
// and discovery caching). Default: clock.System.
func WithClock(clk clock.Clock) Option {
	return func(c *Connector) { c.clock = clk }
}

// New checks cfg, reads the client secret, and returns the connector with
// config id and display name. It does not contact the provider.
func New(id, name string, cfg Config, opts ...Option) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("oidc connector %s: %w", id, err)
	}
	c := &Connector{id: id, name: name, cfg: cfg, http: http.DefaultClient, clock: clock.System}
	c.cfg.Scopes = slices.Clone(cfg.Scopes)
	c.cfg.AllowedEmailDomains = slices.Clone(cfg.AllowedEmailDomains)
	c.cfg.IDTokenAlgorithms = slices.Clone(cfg.IDTokenAlgorithms)
	c.cfg.AuthParams = maps.Clone(cfg.AuthParams)
	for _, o := range opts {
		o(c)
	}
	var err error
	if c.secret, err = cfg.readSecret(); err != nil {
		return nil, fmt.Errorf("oidc connector %s: %w", id, err)
	}
	if slices.Contains(cfg.IDTokenAlgorithms, jwt.HS256) {
		if c.hmacKey, err = jwt.NewHMACKey([]byte(c.secret), ""); err != nil {
			return nil, fmt.Errorf("oidc connector %s: id_token_algorithms: HS256 is checked with the client secret, which is shorter than %d bytes; ask the provider for RS256", id, jwt.MinHMACBytes)
		}
	}
	return c, nil
}

// ID returns the connector's config id.
func (c *Connector) ID() string { return c.id }

// DisplayName returns the name shown on the login page.
func (c *Connector) DisplayName() string { return c.name }

// Close releases nothing: the connector holds no connections of its own
// (they belong to the *http.Client). It is here so that every connector
// can be closed alike.
func (c *Connector) Close() error { return nil }

// AuthCodeURL returns the provider's authorization endpoint with an
// authorization code request (OIDC Core §3.1.2.1): response_type=code,
// client_id, redirect_uri, scope, state, nonce and the PKCE S256
// challenge of p.CodeVerifier (RFC 7636 §4.2), plus hd for a hosted domain
// and the configured auth_params. It discovers the provider if needed
// (connector.ErrUnavailable when it cannot).
func (c *Connector) AuthCodeURL(ctx context.Context, p connector.Pending) (string, error) {
	if err := checkPending(p); err != nil {
		return "", fmt.Errorf("oidc %s: %w", c.id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	prov, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(prov.md.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("%w: oidc %s: authorization_endpoint: %v", connector.ErrUnavailable, c.id, err)
	}
	q := u.Query() // an endpoint may carry its own query (RFC 6749 §3.1)
	for k, v := range c.cfg.AuthParams {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", c.cfg.ClientID)
	q.Set("redirect_uri", p.RedirectURI)
	q.Set("scope", strings.Join(c.cfg.scopes(), " "))
	q.Set("state", p.State)
	q.Set("nonce", p.Nonce)
	q.Set("code_challenge", challenge(p.CodeVerifier))
	q.Set("code_challenge_method", "S256")
	if c.cfg.HostedDomain != "" {
		q.Set("hd", c.cfg.HostedDomain)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// challenge is the S256 code challenge of verifier (RFC 7636 §4.2):
// BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkPending refuses a Pending the caller did not fill in.
func checkPending(p connector.Pending) error {
	switch {
	case p.State == "" || p.Nonce == "":
		return errors.New("pending sign-in without state or nonce")
	case p.RedirectURI == "":
		return errors.New("pending sign-in without redirect URI")
	}
	// RFC 7636 §4.1: code-verifier = 43*128unreserved.
	v := p.CodeVerifier
	if len(v) < 43 || len(v) > 128 {
		return fmt.Errorf("PKCE code verifier of %d characters; RFC 7636 §4.1 wants 43 to 128", len(v))
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if !('A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~", ch) >= 0) {
			return errors.New("PKCE code verifier has a character outside A-Z a-z 0-9 - . _ ~")
		}
	}
	return nil
}
