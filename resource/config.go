package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Signature algorithms for Config.Algorithms (RFC 7518 §3, RFC 8037
// §3.1). ES256 and EdDSA, what a Gatehouse server signs with, are the
// default; the others are for issuers that sign differently.
const (
	ES256 = jwt.ES256
	EdDSA = jwt.EdDSA
	ES384 = jwt.ES384
	ES512 = jwt.ES512
	RS256 = jwt.RS256
	RS384 = jwt.RS384
	RS512 = jwt.RS512
	PS256 = jwt.PS256
	PS384 = jwt.PS384
	PS512 = jwt.PS512
)

// DefaultAlgorithms is the allow-list when Config.Algorithms is empty.
var DefaultAlgorithms = []string{ES256, EdDSA}

// Defaults for the zero values of Config and IntrospectionConfig.
const (
	DefaultLeeway           = 30 * time.Second
	DefaultCacheSize        = 10000
	DefaultIntrospectionTTL = 30 * time.Second
	// DefaultHTTPTimeout bounds each request to the issuer made with the
	// HTTP client NewVerifier builds when Config.HTTPClient is nil.
	DefaultHTTPTimeout = 10 * time.Second
)

// Paths a Gatehouse server serves below its issuer URL, used when discovery
// does not name the endpoints.
const (
	pathDiscovery     = "/.well-known/oauth-authorization-server"
	pathJWKS          = "/oauth2/jwks"
	pathIntrospection = "/oauth2/introspect"
)

// maxResponseBytes bounds what is read from the issuer.
const maxResponseBytes = 1 << 20

// Config configures a Verifier. Issuer and Audience are required.
type Config struct {
	// Issuer is the issuer URL; a token's iss must equal it byte for byte
	// (RFC 9068 §4), and so must the issuer in the discovery document
	// (RFC 8414 §3.3).
	Issuer string
	// Audience lists the aud values this resource server accepts; a token
	// must name at least one (RFC 9068 §4), and an introspection answer
	// that has an aud too. It is required, with no default: a resource
	// server that accepted any audience would accept tokens issued for
	// other services (RFC 8725 §3.9, RFC 8707). Use the resource indicator
	// the issuer puts in tokens for this service.
	Audience []string
	// Algorithms is the allow-list of signature algorithms. Default:
	// DefaultAlgorithms (ES256 and EdDSA, which Gatehouse servers use).
	// RS256, PS256 and the other asymmetric algorithms of RFC 7518 are
	// accepted when listed, for issuers that sign with RSA. "none" and the
	// HMAC algorithms are refused: a public key is not a shared secret
	// (RFC 8725 §2.1). A key verifies only the algorithms that fit its
	// type, whatever the token's header says.
	Algorithms []string
	// JWKSURL is where the issuer's public keys are. Default: jwks_uri from
	// the discovery document, else Issuer + "/oauth2/jwks".
	JWKSURL string
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// Zero means DefaultLeeway; a negative value means none.
	Leeway time.Duration
	// RequiredScopes must all be in a token's scope, else Verify fails with
	// ErrInsufficientScope (HTTP 403).
	RequiredScopes []string
	// Introspection, when set, checks credentials that are not JWTs (API
	// keys, opaque tokens) at the issuer's introspection endpoint. Without
	// it such credentials are rejected.
	Introspection *IntrospectionConfig
	// CacheSize bounds the number of verified credentials (and cached
	// introspection answers) kept. Zero means DefaultCacheSize.
	CacheSize int
	// HTTPClient makes the requests to the issuer. Default: a client with
	// DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Clock tells the time. Default: clock.System.
	Clock clock.Clock
}

// IntrospectionConfig configures token introspection (RFC 7662). The
// resource server authenticates to the endpoint as a confidential client
// with client_secret_basic (RFC 6749 §2.3.1).
type IntrospectionConfig struct {
	// URL of the introspection endpoint. Default: introspection_endpoint
	// from the discovery document, else Issuer + "/oauth2/introspect".
	URL          string
	ClientID     string
	ClientSecret string
	// CacheTTL is how long an answer, active or inactive, is reused. It is
	// the longest a revoked credential is still accepted. Zero means
	// DefaultIntrospectionTTL; a negative value disables the cache.
	CacheTTL time.Duration
}

// settings is a Config with its defaults applied and checked.
type settings struct {
	issuer         string
	audience       []string
	algorithms     []string
	jwksURL        string
	leeway         time.Duration
	requiredScopes []string
	introspection  *IntrospectionConfig
	cacheSize      int
	client         *http.Client
	clock          clock.Clock
}

// Validate reports the first problem with c, without contacting the
// issuer. NewVerifier calls it.
func (c Config) Validate() error {
	if c.Issuer == "" {
		return errors.New("resource: config: issuer is required")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("resource: config: issuer %q is not an http(s) URL without query or fragment", c.Issuer)
	}
	if len(c.Audience) == 0 {
		return errors.New("resource: config: audience is required: the aud value(s) this resource server accepts (RFC 9068 §4)")
	}
	if slices.Contains(c.Audience, "") {
		return errors.New("resource: config: empty audience")
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(jwt.DefaultAlgorithms, a) {
			return fmt.Errorf("resource: config: algorithm %q is not supported; use ES256, EdDSA, or an RSA or other EC algorithm of RFC 7518", a)
		}
	}
	if c.CacheSize < 0 {
		return errors.New("resource: config: negative cache size")
	}
	if in := c.Introspection; in != nil && (in.ClientID == "" || in.ClientSecret == "") {
		return errors.New("resource: config: introspection needs a client id and secret")
	}
	return nil
}

// resolve validates cfg, applies the defaults, and fetches the discovery
// document when an endpoint is not configured.
func resolve(ctx context.Context, cfg Config) (*settings, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &settings{
		issuer:         cfg.Issuer,
		audience:       slices.Clone(cfg.Audience),
		algorithms:     slices.Clone(cfg.Algorithms),
		jwksURL:        cfg.JWKSURL,
		leeway:         cfg.Leeway,
		requiredScopes: slices.Clone(cfg.RequiredScopes),
		cacheSize:      cfg.CacheSize,
		client:         cfg.HTTPClient,
		clock:          cfg.Clock,
	}
	if len(s.algorithms) == 0 {
		s.algorithms = slices.Clone(DefaultAlgorithms)
	}
	switch {
	case s.leeway == 0:
		s.leeway = DefaultLeeway
	case s.leeway < 0:
		s.leeway = 0
	}
	if s.cacheSize == 0 {
		s.cacheSize = DefaultCacheSize
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if s.clock == nil {
		s.clock = clock.System
	}
	if in := cfg.Introspection; in != nil {
		c := *in
		if c.CacheTTL == 0 {
			c.CacheTTL = DefaultIntrospectionTTL
		}
		s.introspection = &c
	}

	if s.jwksURL != "" && (s.introspection == nil || s.introspection.URL != "") {
		return s, nil
	}
	md, err := discover(ctx, s.client, s.issuer)
	if err != nil {
		return nil, err
	}
	if s.jwksURL == "" {
		s.jwksURL = md.JWKSURI
	}
	if s.introspection != nil && s.introspection.URL == "" {
		s.introspection.URL = md.IntrospectionEndpoint
	}
	return s, nil
}

// discover reads the issuer's metadata (RFC 8414 §3). An issuer that does
// not publish it (404) gets Gatehouse's endpoint paths; one that publishes
// a document for another issuer is refused (RFC 8414 §3.3).
func discover(ctx context.Context, client *http.Client, issuer string) (*protocol.Metadata, error) {
	base := strings.TrimSuffix(issuer, "/")
	md := &protocol.Metadata{
		Issuer:                issuer,
		JWKSURI:               base + pathJWKS,
		IntrospectionEndpoint: base + pathIntrospection,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+pathDiscovery, nil)
	if err != nil {
		return nil, fmt.Errorf("resource: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("resource: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return md, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("resource: discovery: HTTP %d", resp.StatusCode)
	}
	var doc protocol.Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("resource: discovery: decode: %w", err)
	}
	// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to the
	// authorization server's issuer identifier value into which the
	// well-known URI string was inserted to create the URL used to
	// retrieve the metadata. If these values are not identical, the data
	// contained in the response MUST NOT be used."
	if doc.Issuer != issuer {
		return nil, fmt.Errorf("resource: discovery: document is for issuer %q, not %q", doc.Issuer, issuer)
	}
	if doc.JWKSURI != "" {
		md.JWKSURI = doc.JWKSURI
	}
	if doc.IntrospectionEndpoint != "" {
		md.IntrospectionEndpoint = doc.IntrospectionEndpoint
	}
	return md, nil
}
