// Package server is the Gatehouse authorization server's wiring: it
// assembles the whole server from a configuration — the pages a browser
// sees (internal/server/pages: the authorization endpoint, login, consent,
// account, device), the back channel (internal/server/oauth: the token
// endpoint and its grants, PAR, device authorization, revocation,
// introspection, userinfo), the APIs (accountapi, adminhttp, discovery,
// probes) and the connectors (internal/server/linking) — and puts the
// metrics, the database deadline and breaker, the rate limiter's keys and
// the one error writer around them.
//
// Handlers never format protocol errors themselves: grants and endpoints
// return *protocol.Error values and writeError renders them (RFC 6749 §5.2);
// anything else becomes server_error without details.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/breaker"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/discovery"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/pages"
	"github.com/gatehouse-auth/gatehouse/internal/server/probes"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Endpoint paths. Discovery publishes them; tests and the CLI use them.
const (
	PathDiscoveryOAuth  = discovery.PathOAuth
	PathDiscoveryOIDC   = discovery.PathOIDC
	PathJWKS            = discovery.PathJWKS
	PathAuthorize       = pages.PathAuthorize
	PathToken           = oauth.PathToken
	PathDeviceAuthorize = oauth.PathDeviceAuthorize
	PathRevoke          = oauth.PathRevoke
	PathIntrospect      = oauth.PathIntrospect
	PathUserinfo        = oauth.PathUserinfo
	PathPAR             = oauth.PathPAR
	PathDevice          = pages.PathDevice
	PathLogin           = pages.PathLogin
	PathLogout          = pages.PathLogout
	PathLoginMFA        = pages.PathLoginMFA
	PathAccount         = pages.PathAccount
	PathLoginPasskey    = pages.PathLoginPasskey
	PathLoginMFAPasskey = pages.PathLoginMFAPasskey
	PathAccountPasskeys = pages.PathAccountPasskeys
	PathLoginConnector  = pages.PathLoginConnector
	PathHealthz         = probes.PathHealthz
	PathReadyz          = probes.PathReadyz
	PathMetrics         = probes.PathMetrics
	PathStatic          = webpage.PathStatic
	CLIClientID         = "gatehouse-cli"
	AdminUsername       = "admin"
)

// Deps are the collaborators a Server needs. All fields are required except
// Logger (slog.Default), Clock (clock.System) and SecretKey (without it
// TOTP enrolment and the second login step are unavailable).
type Deps struct {
	Config  *config.Server
	Store   storage.Store
	Keys    *signing.Manager
	Hasher  *password.Hasher
	Limiter ratelimit.Limiter
	Audit   *audit.Logger
	Clock   clock.Clock
	Logger  *slog.Logger
	// SecretKey seals TOTP secrets at rest and the pending-login cookie.
	SecretKey *secret.Key
	// DPoPReplay remembers accepted DPoP proofs (internal/dpopcache: in
	// Redis when the server has one, so replicas share it). Nil: in
	// memory, for this process.
	DPoPReplay dpop.ReplayCache
	// Connectors are the directories and upstream providers people may
	// sign in with (connectors_open.go); none by default.
	Connectors []Connector
}

// Server serves the authorization server's HTTP endpoints.
type Server struct {
	cfg     *config.Server
	store   storage.Store
	keys    *signing.Manager
	hasher  *password.Hasher
	limiter ratelimit.Limiter
	audit   *audit.Logger
	clock   clock.Clock
	log     *slog.Logger
	issuer  string
	// base is the issuer's path ("" for an origin issuer): every
	// endpoint and page is served under it and every URL the server
	// makes for a browser starts with it.
	base    string
	metrics *metrics
	clients *oauth.ClientCache
	pages   *webpage.Pages
	// sessions are the browser's cookies, CSRF token and session
	// (internal/server/browser), which every page uses.
	sessions *browser.Sessions
	proxies  *trustedProxies
	handler  http.Handler
	// secretKey seals TOTP secrets and pending logins
	// (internal/server/pages).
	secretKey *secret.Key
	// webauthn is the passkey relying party (internal/server/pages); nil
	// when passkeys are off.
	webauthn *webauthn.WebAuthn
	// dbBreaker stops requests from waiting on a database that is down
	// (deps.go).
	dbBreaker *breaker.Breaker
	// dpop checks DPoP proofs (internal/server/oauth's dpop.go).
	dpop *dpop.Verifier
	// oauth are the back-channel endpoints (oauth.go).
	oauth *oauth.Endpoints
	// connectors are the configured connectors (connectors_open.go).
	connectors []Connector
	// links link the identities of the configured connectors to users
	// (internal/server/linking).
	links *linking.Linker
	// site are the browser-facing pages (internal/server/pages).
	site *pages.Pages
}

// New builds a Server from its dependencies.
func New(d Deps) (*Server, error) {
	if d.Config == nil || d.Store == nil || d.Keys == nil || d.Hasher == nil || d.Limiter == nil || d.Audit == nil {
		return nil, fmt.Errorf("server: missing dependency")
	}
	if d.Clock == nil {
		d.Clock = clock.System
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Config.Timeouts.Database <= 0 || d.Config.Audit.Timeout <= 0 {
		c := *d.Config // a configuration built by hand: default the bounds
		def := config.Default()
		if c.Timeouts.Database <= 0 {
			c.Timeouts.Database = def.Timeouts.Database
		}
		if c.Audit.Timeout <= 0 {
			c.Audit.Timeout = def.Audit.Timeout
		}
		d.Config = &c
	}
	proxies, err := newTrustedProxies(d.Config.TrustedProxies)
	if err != nil {
		return nil, err
	}
	base := d.Config.IssuerPath()
	pg, err := webpage.New(base, d.Config.Issuer, d.Config.UI.BrandName, d.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     d.Config,
		store:   d.Store,
		keys:    d.Keys,
		hasher:  d.Hasher,
		limiter: d.Limiter,
		audit:   d.Audit,
		clock:   d.Clock,
		log:     d.Logger,
		issuer:  d.Config.Issuer,
		base:    base,
		metrics: newMetrics(),
		clients: oauth.NewClientCache(d.Store, d.Clock),
		pages:   pg,
		proxies: proxies,
	}
	s.secretKey = d.SecretKey
	s.sessions = browser.New(browser.Deps{
		SecureCookies: d.Config.SecureCookies(),
		SecretKey:     d.SecretKey,
		Sessions:      d.Store,
		Users:         d.Store,
		Clock:         d.Clock,
		SessionTTL:    time.Duration(d.Config.Tokens.SessionTTL),
		ClientIP:      s.clientIP,
		Pages:         pg,
		Log:           d.Logger,
	})
	if s.webauthn, err = pages.NewWebAuthn(d.Config); err != nil {
		return nil, err
	}
	if s.webauthn == nil {
		s.log.Info("passkeys are off: the issuer's host is an IP address, which browsers refuse as a WebAuthn RP ID; set webauthn.rp_id (and webauthn.origins) or use a host name in the issuer")
	}
	if s.dpop, err = oauth.NewDPoPVerifier(d.Config, d.SecretKey, d.DPoPReplay, d.Clock); err != nil {
		return nil, fmt.Errorf("server: dpop: %w", err)
	}
	s.connectors = d.Connectors
	s.links = s.linker()
	s.dbBreaker = breaker.New(d.Clock, 0, 0)
	s.site = s.browserPages()
	s.oauth = s.backChannel()
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of every endpoint. It serves the
// requests whose path is under BasePath (the base path itself is the
// start page) and answers 404 to any other.
func (s *Server) Handler() http.Handler { return s.handler }

// BasePath is the path of the issuer URL that the server serves under:
// "" when the issuer is an origin, "/_gatehouse/auth" for the issuer
// "https://app.example.com/_gatehouse/auth". The endpoint paths (PathToken,
// PathLogin, ...) are relative to it.
func (s *Server) BasePath() string { return s.base }

// at is the absolute path of the server path p (one of the Path
// constants, possibly with a query): p under the base path. Every URL the
// server hands a browser is built with it.
func (s *Server) at(p string) string { return s.base + p }

// MetricsHandler serves the Prometheus metrics (for a separate listener).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// routes registers every endpoint under the base path. The patterns carry
// the base path, rather than the path being stripped before routing, so
// handlers see the path the browser used and the redirects ServeMux makes
// itself (to a cleaned path) stay right. Whatever matches no pattern,
// everything outside the base path included, is 404.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// register adds pattern ("METHOD /path") with the base path
	// inserted before the path.
	register := func(pattern string, h http.Handler) {
		method, p, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+s.at(p), h)
	}
	handle := func(pattern, route string, h http.HandlerFunc) {
		register(pattern, s.metrics.instrument(route, h))
	}
	s.discovery().Routes(handle)
	s.oauth.Routes(handle)
	s.probes().Routes(handle, register)
	s.accountAPI().Routes(handle) // bearer token only: no cookies, so no CSRF

	// Browser-facing pages. Cross-origin form posts are refused before
	// they reach a handler (SECURITY-CASES 32), in addition to the
	// per-form CSRF token.
	cop := http.NewCrossOriginProtection()
	page := func(pattern, route string, h http.HandlerFunc) {
		register(pattern, s.metrics.instrument(route, cop.Handler(h)))
	}
	s.site.Routes(page)
	register("GET "+PathStatic, s.pages.Static())
	s.adminAPI().Routes(handle) // bearer token only: no cookies, so no CSRF
	mux.HandleFunc("/", s.handleNotFound)
	return s.securityHeaders(s.guardDependencies(mux))
}

// securityHeaders sets headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if s.cfg.SecureCookies() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
