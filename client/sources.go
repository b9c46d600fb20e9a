package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// DefaultMinTTL is how long a cached access token must still be valid to
// be used without refreshing it first.
const DefaultMinTTL = time.Minute

// ClientCredentialsToken fetches an access token with the client's own
// credentials (RFC 6749 §4.4). The client needs a secret.
func (c *Config) ClientCredentialsToken(ctx context.Context) (*oauth2.Token, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	return clientCredentialsTokenFor(ctx, c.tokenClient(), c.clock(), md, c.ClientID, c.ClientSecret, c.Scopes, c.Resources)
}

// ClientCredentialsSource returns a TokenSource that fetches tokens with
// the client's credentials and reuses each one until it has less than
// DefaultMinTTL left. It also has the Invalidate method that NewTransport
// uses after a 401, and, when c.DPoP is set, the DPoP method that gives
// Transport the key to make proofs with. Nothing is stored; for a cached
// profile use NewTokenSource with a KindClientCredentials credential.
func (c *Config) ClientCredentialsSource() oauth2.TokenSource {
	return &reuseSource{
		clk:    c.clock(),
		minTTL: DefaultMinTTL,
		fetch:  c.ClientCredentialsToken,
		dpop:   c.DPoP,
	}
}

func clientCredentialsToken(ctx context.Context, hc *http.Client, clk clock.Clock, md *protocol.Metadata, id, secret string, scopes []string) (*oauth2.Token, error) {
	return clientCredentialsTokenFor(ctx, hc, clk, md, id, secret, scopes, nil)
}

// clientCredentialsTokenFor is clientCredentialsToken for the resources
// (RFC 8707 resource parameters) given.
func clientCredentialsTokenFor(ctx context.Context, hc *http.Client, clk clock.Clock, md *protocol.Metadata, id, secret string, scopes, resources []string) (*oauth2.Token, error) {
	if secret == "" {
		return nil, fmt.Errorf("client: client credentials for %q: no client secret", id)
	}
	cc := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     md.TokenEndpoint,
		Scopes:       scopes,
		AuthStyle:    secretAuthStyle(md),
	}
	if len(resources) > 0 {
		cc.EndpointParams = url.Values{"resource": resources}
	}
	tok, err := cc.Token(withHTTPClient(ctx, hc))
	if err != nil {
		return nil, fmt.Errorf("client: client credentials: %w", ParseError(err))
	}
	if err := checkTokenType(tok); err != nil {
		return nil, fmt.Errorf("client: client credentials: %w", err)
	}
	return stampExpiry(tok, clk.Now()), nil
}

// APIKey returns a TokenSource that presents a Gatehouse API key as a
// Bearer token. The key has no expiry and is never refreshed.
func APIKey(key string) oauth2.TokenSource { return staticSource{key} }

// StaticToken returns a TokenSource that always returns the given bearer
// token (such as GATEHOUSE_TOKEN). It is never refreshed.
func StaticToken(token string) oauth2.TokenSource { return staticSource{token} }

type staticSource struct{ token string }

func (s staticSource) Token() (*oauth2.Token, error) {
	if s.token == "" {
		return nil, errors.New("client: empty token")
	}
	return &oauth2.Token{AccessToken: s.token, TokenType: protocol.TokenTypeBearer}, nil
}

// reuseSource caches one token in memory, fetching a new one when the
// cached one has less than minTTL left on the injected clock.
type reuseSource struct {
	clk    clock.Clock
	minTTL time.Duration
	fetch  func(context.Context) (*oauth2.Token, error)
	dpop   *DPoP

	mu  sync.Mutex
	tok *oauth2.Token
}

func (s *reuseSource) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext returns the cached token or fetches a new one.
func (s *reuseSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && tokenFresh(s.tok.AccessToken, s.tok.Expiry, s.clk.Now(), s.minTTL) {
		return copyToken(s.tok), nil
	}
	tok, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	s.tok = tok
	return copyToken(tok), nil
}

// DPoP returns the key the tokens are bound to (Config.DPoP), for
// Transport.
func (s *reuseSource) DPoP(context.Context) (*DPoP, error) { return s.dpop, nil }

// Invalidate drops the cached token if it is the rejected one and returns
// a fresh token.
func (s *reuseSource) Invalidate(ctx context.Context, rejected string) (*oauth2.Token, error) {
	s.mu.Lock()
	if s.tok != nil && s.tok.AccessToken == rejected {
		s.tok = nil
	}
	s.mu.Unlock()
	return s.TokenContext(ctx)
}

// tokenFresh reports whether an access token expiring at expiry is still
// valid for more than minTTL at now. A zero expiry never expires.
func tokenFresh(access string, expiry, now time.Time, minTTL time.Duration) bool {
	return access != "" && (expiry.IsZero() || expiry.Sub(now) > minTTL)
}

// copyToken returns a copy of tok, keeping its extra fields.
func copyToken(tok *oauth2.Token) *oauth2.Token {
	c := *tok
	return &c
}
