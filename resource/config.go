package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
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
// does not name the endpoints (and Config.RequireDiscovery is not set).
const (
	pathJWKS          = "/oauth2/jwks"
	pathIntrospection = "/oauth2/introspect"
)

// Well-known suffixes of the two discovery documents.
const (
	wellKnownOAuth = "/.well-known/oauth-authorization-server" // RFC 8414 §3
	wellKnownOIDC  = "/.well-known/openid-configuration"       // OpenID Connect Discovery 1.0 §4
)

// Types of JWT accepted, for Config.Types. TypeNone stands for a header
// without typ.
const (
	TypeAccessToken = "at+jwt"
	TypeJWT         = "JWT"
	TypeNone        = ""
)

// DefaultTypes is the typ allow-list when Config.Types is empty: RFC 9068
// access tokens only.
var DefaultTypes = []string{TypeAccessToken}

// maxResponseBytes bounds what is read from the issuer.
const maxResponseBytes = 1 << 20

// Config configures a Verifier. Issuer and Audience are required.
type Config struct {
	// Issuer is the issuer URL. The issuer in the discovery document must
	// equal it byte for byte (RFC 8414 §3.3), except that a bare origin
	// may be given with or without its trailing "/" (Hydra and Auth0
	// issuers end in "/"); a token's iss must then equal the document's
	// spelling byte for byte (RFC 9068 §4).
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
	// Types is the allow-list of typ header values; TypeNone ("") accepts
	// a header without typ. Default: DefaultTypes (at+jwt: RFC 9068 §4
	// says resource servers "MUST verify that the "typ" header value is
	// "at+jwt" or "application/at+jwt""). Widen it only for issuers that
	// do not issue RFC 9068 tokens (Keycloak, Okta, Entra ID, Dex sign
	// "JWT" or nothing); a token of another typ than at+jwt then need not
	// carry client_id (azp is read instead), jti or iat.
	Types []string
	// JWKSURL is where the issuer's public keys are. Default: jwks_uri from
	// the discovery document, else Issuer + "/oauth2/jwks".
	JWKSURL string
	// RequireDiscovery takes the endpoints from the issuer's discovery
	// document only (RFC 8414 or OpenID Connect Discovery): NewVerifier
	// fails when there is none or it has no jwks_uri, and credentials that
	// are not JWTs are refused when it has no introspection_endpoint. Set
	// it for issuers other than Gatehouse, whose paths would be guesses.
	RequireDiscovery bool
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
	// DPoP configures the checking of DPoP-bound tokens (RFC 9449). It is
	// always on: a token with cnf.jkt is accepted only with the DPoP
	// scheme and a proof of its key; the zero value uses the defaults.
	DPoP DPoPConfig
}

// DPoPConfig configures how Middleware and VerifyRequest check the DPoP
// proofs that come with DPoP-bound tokens.
type DPoPConfig struct {
	// Algorithms is the allow-list of proof algorithms. Default:
	// dpop.DefaultAlgorithms.
	Algorithms []string
	// Window is how far a proof's iat may be from the clock. Default:
	// dpop.DefaultWindow (60 s).
	Window time.Duration
	// Replay remembers the proofs accepted. Default: a
	// dpop.MemoryReplayCache for this process; replicas behind one load
	// balancer need a shared one (Redis) or a replayed proof passes at
	// another replica.
	Replay dpop.ReplayCache
	// RequestURL returns the URI of a request as the client addressed it,
	// which the proof's htu must match. Default: dpop.RequestURL(r, "",
	// ""): https when r.TLS is set, else http, with r.Host and r.URL's
	// path. Behind a TLS-terminating proxy set it, e.g. to the public
	// origin + r.URL.EscapedPath(); never trust a client's
	// X-Forwarded-* headers here unless the proxy overwrites them.
	RequestURL func(r *http.Request) string
}

// IntrospectionConfig configures token introspection (RFC 7662). The
// resource server authenticates to the endpoint as a confidential client
// with client_secret_basic (RFC 6749 §2.3.1).
type IntrospectionConfig struct {
	// URL of the introspection endpoint. Default: introspection_endpoint
	// from the discovery document, else Issuer + "/oauth2/introspect"
	// (with Config.RequireDiscovery: else introspection is off).
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
	types          []string
	jwksURL        string
	leeway         time.Duration
	requiredScopes []string
	introspection  *IntrospectionConfig
	cacheSize      int
	client         *http.Client
	clock          clock.Clock
	dpop           DPoPConfig
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
	for _, t := range c.Types {
		if t != TypeNone && strings.TrimSpace(t) == "" {
			return fmt.Errorf("resource: config: typ %q is blank", t)
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
		types:          slices.Clone(cfg.Types),
		jwksURL:        cfg.JWKSURL,
		leeway:         cfg.Leeway,
		requiredScopes: slices.Clone(cfg.RequiredScopes),
		cacheSize:      cfg.CacheSize,
		client:         cfg.HTTPClient,
		clock:          cfg.Clock,
		dpop:           cfg.DPoP,
	}
	if len(s.algorithms) == 0 {
		s.algorithms = slices.Clone(DefaultAlgorithms)
	}
	if len(s.types) == 0 {
		s.types = slices.Clone(DefaultTypes)
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
	md, err := discover(ctx, s.client, s.issuer, cfg.RequireDiscovery)
	if err != nil {
		return nil, err
	}
	// The document's spelling is the issuer from now on: tokens carry it.
	s.issuer = md.Issuer
	if s.jwksURL == "" {
		s.jwksURL = md.JWKSURI
	}
	if s.jwksURL == "" {
		return nil, fmt.Errorf("resource: discovery: the document of %s has no jwks_uri", s.issuer)
	}
	if s.introspection != nil && s.introspection.URL == "" {
		if md.IntrospectionEndpoint == "" {
			// Nothing to ask: credentials that are not JWTs are refused.
			s.introspection = nil
		} else {
			s.introspection.URL = md.IntrospectionEndpoint
		}
	}
	return s, nil
}

// discoveryURLs lists the metadata URLs to try for issuer, in order: the
// RFC 8414 document below the issuer (where Gatehouse serves it), the
// OpenID Connect one (Discovery §4.1 appends its suffix to the issuer),
// and for an issuer with a path the RFC 8414 §3.1 placement: "any
// terminating "/" MUST be removed before inserting "/.well-known/" and the
// well-known URI suffix between the host component and the path
// component". For a bare origin the first and the last are the same.
func discoveryURLs(issuer string) []string {
	base := strings.TrimSuffix(issuer, "/")
	urls := []string{base + wellKnownOAuth, base + wellKnownOIDC}
	if u, err := url.Parse(base); err == nil && u.EscapedPath() != "" {
		urls = append(urls, u.Scheme+"://"+u.Host+wellKnownOAuth+u.EscapedPath())
	}
	return urls
}

// errNoDocument means a discovery URL had no document, so the next one is
// tried.
var errNoDocument = errors.New("no discovery document")

// discover reads the issuer's metadata (RFC 8414 §3, OpenID Connect
// Discovery §4). An issuer that publishes none gets Gatehouse's endpoint
// paths, or an error when required is set; one that publishes a document
// for another issuer is refused (RFC 8414 §3.3). The returned Issuer is
// the document's spelling.
func discover(ctx context.Context, client *http.Client, issuer string, required bool) (*protocol.Metadata, error) {
	var errs []error
	for _, u := range discoveryURLs(issuer) {
		doc, err := fetchMetadata(ctx, client, u)
		if errors.Is(err, errNoDocument) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to
		// the authorization server's issuer identifier value into which the
		// well-known URI string was inserted to create the URL used to
		// retrieve the metadata. If these values are not identical, the
		// data contained in the response MUST NOT be used." A bare origin
		// with and without its "/" yields the very same URLs, so there the
		// document's spelling is taken as the issuer's.
		if doc.Issuer != issuer && !protocol.SameBareOrigin(doc.Issuer, issuer) {
			return nil, fmt.Errorf("resource: discovery: document is for issuer %q, not %q", doc.Issuer, issuer)
		}
		if !required {
			base := strings.TrimSuffix(doc.Issuer, "/")
			if doc.JWKSURI == "" {
				doc.JWKSURI = base + pathJWKS
			}
			if doc.IntrospectionEndpoint == "" {
				doc.IntrospectionEndpoint = base + pathIntrospection
			}
		}
		return doc, nil
	}
	if required {
		return nil, fmt.Errorf("resource: discovery: %s publishes no discovery document: %w", issuer, errors.Join(errs...))
	}
	base := strings.TrimSuffix(issuer, "/")
	return &protocol.Metadata{Issuer: issuer, JWKSURI: base + pathJWKS, IntrospectionEndpoint: base + pathIntrospection}, nil
}

// fetchMetadata GETs one metadata document. A 404, a 405 or a body that is
// not JSON is errNoDocument.
func fetchMetadata(ctx context.Context, client *http.Client, u string) (*protocol.Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("resource: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("resource: discovery: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return nil, fmt.Errorf("%s: HTTP %d: %w", u, resp.StatusCode, errNoDocument)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("resource: discovery %s: HTTP %d", u, resp.StatusCode)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return nil, fmt.Errorf("%s: content type %s: %w", u, ct, errNoDocument)
	}
	var doc protocol.Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", u, err, errNoDocument)
	}
	return &doc, nil
}
