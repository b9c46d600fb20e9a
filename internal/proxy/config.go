package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Reserved paths of the gateway. Everything under Prefix belongs to the
// gateway and is never forwarded.
const (
	Prefix          = "/_gatehouse"
	PathLogin       = Prefix + "/login"
	PathCallback    = Prefix + "/callback"
	PathLogout      = Prefix + "/logout"
	PathHealthz     = Prefix + "/healthz"
	PathReadyz      = Prefix + "/readyz"
	PathMetrics     = Prefix + "/metrics"
	PathJWKS        = Prefix + "/jwks"
	PathWhoami      = Prefix + "/whoami"
	PathForwardAuth = Prefix + "/verify"
	PathStatic      = Prefix + "/static/"
	// PathAuth is where the embedded authorization server is mounted: its
	// issuer is the public URL followed by PathAuth.
	PathAuth = Prefix + "/auth"
)

// Defaults of Config.
const (
	DefaultAddr             = "127.0.0.1:4180"
	DefaultIdleTimeout      = time.Hour
	DefaultAbsoluteTimeout  = 12 * time.Hour
	DefaultSessionCacheTTL  = 5 * time.Second
	DefaultUserCacheTTL     = 30 * time.Second
	DefaultIntrospectionTTL = 10 * time.Second
	DefaultAssertionTTL     = time.Minute
	DefaultRolesClaim       = "roles"
	// Connection limits of the gateway's HTTP server.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 60 * time.Second
	DefaultConnIdleTimeout   = 120 * time.Second
	// Bounds of GraphQL inspection: bytes of bodies held at once, documents
	// parsed at once, and how long a request waits for its turn.
	DefaultInspectBytes = 64 << 20
	DefaultInspectWait  = 2 * time.Second
	// DefaultClientID is the OAuth client the embedded gateway registers
	// for itself.
	DefaultClientID = "gatehouse-proxy"
)

// DefaultExternalAlgorithms are the signature algorithms accepted on
// bearer JWTs of an external issuer: what Keycloak, Okta, Entra ID, Google
// and Dex sign with (RS256 mostly), never HMAC or "none".
var DefaultExternalAlgorithms = []string{jwt.RS256, jwt.PS256, jwt.ES256, jwt.ES384, jwt.EdDSA}

// Config configures a Gateway. Upstream and PublicURL are required, and
// either Embedded (an in-process authorization server) or Issuer with
// ClientID and ClientSecret.
type Config struct {
	// Upstream is the application's base URL (http or https).
	Upstream string
	// PublicURL is the gateway's origin exactly as browsers reach it
	// (https://app.example.com). Cookies are Secure and __Host- prefixed
	// when it is https.
	PublicURL string

	// Issuer is an external OpenID Connect issuer; empty with Embedded.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes asked for at login (default: openid profile email).
	Scopes []string
	// RolesClaim names the ID token (or userinfo) claim holding the
	// user's roles for an external issuer; a dotted path reaches into
	// objects ("realm_access.roles"). Default "roles".
	RolesClaim string
	// GroupsClaim, when set, names a further claim whose values are added
	// to the roles ("groups" of Dex, Okta or Entra ID); same dotted paths.
	// It is also the claim the caller's groups (groups: rules) are read
	// from; without it they come from the "groups" claim and are not
	// roles.
	GroupsClaim string
	// embeddedGroupsClaim is the embedded server's oidc.groups_claim,
	// where the caller's groups are read in embedded mode.
	embeddedGroupsClaim string
	// Audiences are further aud values a bearer JWT may name to be
	// accepted, besides the gateway's own (BearerAudiences).
	Audiences []string
	// JWTAlgorithms is the allow-list of signature algorithms of bearer
	// JWTs from an external issuer (default DefaultExternalAlgorithms).
	// The embedded server signs with ES256 or EdDSA only, which is what
	// the gateway then accepts.
	JWTAlgorithms []string
	// RejectIDTokens refuses the external issuer's ID tokens presented
	// as bearer credentials: the gateway's client id is then no bearer
	// audience (an ID token for the gateway's login names it), and a JWT
	// with a claim only ID tokens carry (nonce, at_hash, c_hash, s_hash,
	// or Keycloak's typ "ID") is refused (resource.Config.RejectIDTokens).
	RejectIDTokens bool

	// TrustedProxies are the CIDRs whose X-Forwarded-* headers are
	// believed (none by default).
	TrustedProxies []string

	// IdleTimeout ends a session not used for this long; AbsoluteTimeout
	// ends every session this long after login.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// SessionCacheTTL is how long a session read from the store is reused
	// without asking the store again: a logout on another replica takes
	// up to this long to reach this one.
	SessionCacheTTL time.Duration
	// UserCacheTTL bounds how long the embedded server's user record is
	// reused; changes made through any Gatehouse process are applied sooner
	// (see users.go).
	UserCacheTTL time.Duration
	// IntrospectionTTL is how long an API key's introspection answer is
	// reused: the longest a revoked key still gets through.
	IntrospectionTTL time.Duration
	// AssertionTTL is the lifetime of the signed assertion sent upstream.
	AssertionTTL time.Duration

	// LoginRate limits starts of the login flow per client IP.
	LoginRate config.Rate
	// AuthFailureRate limits failed bearer credentials per client IP.
	AuthFailureRate config.Rate

	// Menu injects a small user menu into HTML pages of the application.
	Menu bool
	// BrandName is shown on the gateway's pages (default "Gatehouse").
	BrandName string
	// ReadHeaderTimeout bounds reading a request's headers; BodyTimeout
	// reading its body (a stalled upload is cut); ConnIdleTimeout closes
	// keep-alive connections idle this long. Responses, streams and
	// WebSockets have no timeout.
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	ConnIdleTimeout   time.Duration
	// InspectBytes bounds the bytes of GraphQL bodies held for inspection
	// at once, GraphQLParses the documents parsed at once (default twice
	// the CPUs); a request that does not get its turn within InspectWait
	// gets 503.
	InspectBytes  int64
	GraphQLParses int
	InspectWait   time.Duration

	// MetricsAddr is a listener of its own for /_gatehouse/metrics
	// ("host:port"); empty serves them on the public origin to admins only.
	MetricsAddr string

	// ForwardAuthUninspectedWebSockets lets the forward-auth endpoint allow
	// WebSocket upgrades on GraphQL paths, judged as a GET: the proxy that
	// asks forwards their messages without the gateway seeing them.
	ForwardAuthUninspectedWebSockets bool

	// PassAuthorization forwards the caller's Authorization header to
	// the application (it is removed by default).
	PassAuthorization bool
}

// withDefaults returns c with zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if c.SessionCacheTTL == 0 {
		c.SessionCacheTTL = DefaultSessionCacheTTL
	}
	if c.UserCacheTTL == 0 {
		c.UserCacheTTL = DefaultUserCacheTTL
	}
	if c.IntrospectionTTL == 0 {
		c.IntrospectionTTL = DefaultIntrospectionTTL
	}
	if c.AssertionTTL == 0 {
		c.AssertionTTL = DefaultAssertionTTL
	}
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if c.LoginRate.Requests == 0 {
		c.LoginRate = config.Rate{Requests: 30, Per: config.Duration(time.Minute), Burst: 10}
	}
	if c.AuthFailureRate.Requests == 0 {
		c.AuthFailureRate = config.Rate{Requests: 30, Per: config.Duration(time.Minute), Burst: 20}
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.ConnIdleTimeout == 0 {
		c.ConnIdleTimeout = DefaultConnIdleTimeout
	}
	if c.InspectBytes == 0 {
		c.InspectBytes = DefaultInspectBytes
	}
	if c.GraphQLParses == 0 {
		c.GraphQLParses = 2 * runtime.GOMAXPROCS(0)
	}
	if c.InspectWait == 0 {
		c.InspectWait = DefaultInspectWait
	}
	if c.BrandName == "" {
		c.BrandName = "Gatehouse"
	}
	return c
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseOrigin("upstream", c.Upstream, true); err != nil {
		errs = append(errs, err)
	}
	if u, err := parseOrigin("public URL", c.PublicURL, false); err != nil {
		errs = append(errs, err)
	} else if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		errs = append(errs, fmt.Errorf("proxy: public URL %q: use https (http only on a loopback address): session cookies must be Secure", c.PublicURL))
	}
	if c.Issuer == "" && c.RejectIDTokens {
		errs = append(errs, errors.New("proxy: --reject-id-tokens applies to an external issuer (--issuer); the embedded server's ID tokens are never accepted as bearer credentials"))
	}
	if c.Issuer == "" && len(c.JWTAlgorithms) > 0 {
		errs = append(errs, errors.New("proxy: --jwt-alg applies to an external issuer (--issuer); the embedded server signs with ES256 or EdDSA"))
	}
	for _, a := range c.JWTAlgorithms {
		if !slices.Contains(jwt.DefaultAlgorithms, a) {
			errs = append(errs, fmt.Errorf("proxy: --jwt-alg %q: not an asymmetric algorithm of RFC 7518 (RS256, PS256, ES256, ES384, EdDSA, ...)", a))
		}
	}
	if c.Issuer != "" {
		if c.ClientID == "" {
			errs = append(errs, errors.New("proxy: --issuer needs --client-id"))
		}
		if c.ClientSecret == "" {
			errs = append(errs, errors.New("proxy: --issuer needs a client secret (--client-secret-file or GATEHOUSE_PROXY_CLIENT_SECRET)"))
		}
	}
	if c.ReadHeaderTimeout < 0 || c.BodyTimeout < 0 || c.ConnIdleTimeout < 0 || c.InspectWait < 0 ||
		c.InspectBytes < 0 || c.GraphQLParses < 0 {
		errs = append(errs, errors.New("proxy: connection timeouts and inspection limits must not be negative"))
	}
	if c.IdleTimeout < 0 || c.AbsoluteTimeout < 0 || c.SessionCacheTTL < 0 || c.IntrospectionTTL < 0 {
		errs = append(errs, errors.New("proxy: timeouts must not be negative"))
	}
	if c.IdleTimeout > 0 && c.AbsoluteTimeout > 0 && c.IdleTimeout > c.AbsoluteTimeout {
		errs = append(errs, fmt.Errorf("proxy: idle timeout %s is longer than the absolute timeout %s", c.IdleTimeout, c.AbsoluteTimeout))
	}
	return errors.Join(errs...)
}

// parseOrigin parses an http(s) URL without query, fragment or user
// information. A path is allowed only when withPath is set.
func parseOrigin(what, s string, withPath bool) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("proxy: %s is required", what)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("proxy: %s %q: %w", what, s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("proxy: %s %q: scheme must be http or https", what, s)
	case u.Host == "":
		return nil, fmt.Errorf("proxy: %s %q: no host", what, s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("proxy: %s %q: no user, query or fragment allowed", what, s)
	case !withPath && u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("proxy: %s %q: must be an origin without a path", what, s)
	}
	return u, nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// BearerAudiences are the aud values of the bearer JWTs the gateway
// accepts: its public origin, its client id (not with RejectIDTokens) and
// Audiences. A token the issuer gave another client for another resource
// names none of them and is refused (RFC 9068 §4), so a token handed to
// one application does not open this one.
func (c Config) BearerAudiences() []string {
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	add(strings.TrimSuffix(c.PublicURL, "/"))
	if !c.RejectIDTokens {
		add(c.ClientID)
	}
	for _, a := range c.Audiences {
		add(a)
	}
	return out
}

// identityGroupsClaim is the claim the caller's groups are read from.
func (c *Config) identityGroupsClaim() string {
	return identityGroupsClaim(c.embeddedGroupsClaim, c.GroupsClaim)
}
