package proxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/forwarded"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/inbound"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// ReadyCheck is one readiness probe (database, Redis, ...).
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// Deps are what a Gateway is built from. Config, Policy, Sessions, Limiter,
// SecretKey and Provider are required.
type Deps struct {
	Config   Config
	Policy   *policy.Policy
	Sessions session.Store
	Limiter  ratelimit.Limiter
	// Audit receives login, logout and deny events; nil discards them.
	Audit     *audit.Logger
	SecretKey *secret.Key
	// Provider runs the login flow at the issuer.
	Provider Provider
	// Verifier checks bearer credentials (JWTs and API keys); nil refuses
	// every bearer credential.
	Verifier *resource.Verifier
	// Users gives the current record of a user of the embedded server, so
	// that role changes and deletions apply at once; nil with an external
	// issuer.
	Users *UserDirectory
	// Revoked tells whether a JWT access token was revoked at the issuer
	// (answers cached for RevocationTTL); nil accepts a JWT until it
	// expires. Set with the embedded server.
	Revoked RevocationCheck
	// AuthServer serves the embedded authorization server under PathAuth;
	// nil with an external issuer.
	AuthServer http.Handler
	// EndAuthSession ends the embedded server's own browser session at
	// logout; nil with an external issuer.
	EndAuthSession func(http.ResponseWriter, *http.Request)
	// Ready are extra readiness checks.
	Ready []ReadyCheck
	// Transport carries requests to the upstream (default: a clone of
	// http.DefaultTransport with larger idle pools).
	Transport http.RoundTripper
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Gateway is the authenticating reverse proxy. Build it with New and serve
// Handler.
type Gateway struct {
	cfg       Config
	policy    *policy.Policy
	sessions  *sessionCache
	limiter   ratelimit.Limiter
	audit     *audit.Logger
	key       *secret.Key
	provider  Provider
	verifier  *resource.Verifier
	users     *UserDirectory
	revoked   *revocations
	authSrv   http.Handler
	endAuth   func(http.ResponseWriter, *http.Request)
	ready     []ReadyCheck
	clock     clock.Clock
	log       *slog.Logger
	trusted   *forwarded.Trusted
	public    *url.URL
	upstream  *url.URL
	secure    bool
	proxy     *upstreamProxy
	assertion *assertionSigner
	pages     *pages
	metrics   *metrics
	inspect   *inspection
	refused   *refusedCredentials
	handler   http.Handler
}

// New builds a Gateway.
func New(d Deps) (*Gateway, error) {
	cfg := d.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Policy == nil || d.Sessions == nil || d.Limiter == nil || d.SecretKey == nil || d.Provider == nil {
		return nil, errors.New("proxy: missing dependency")
	}
	if d.Clock == nil {
		d.Clock = clock.System
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	trusted, err := forwarded.New(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	public, _ := url.Parse(strings.TrimSuffix(cfg.PublicURL, "/"))
	upstream, _ := url.Parse(cfg.Upstream)
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:      cfg,
		policy:   d.Policy,
		sessions: newSessionCache(d.Sessions, d.Clock, cfg.SessionCacheTTL),
		limiter:  d.Limiter,
		audit:    d.Audit,
		key:      d.SecretKey,
		provider: d.Provider,
		verifier: d.Verifier,
		users:    d.Users,
		authSrv:  d.AuthServer,
		endAuth:  d.EndAuthSession,
		ready:    d.Ready,
		clock:    d.Clock,
		log:      d.Logger,
		trusted:  trusted,
		public:   public,
		upstream: upstream,
		secure:   public.Scheme == "https",
		pages:    pg,
		metrics:  newMetrics(),
		inspect:  newInspection(cfg.InspectBytes, cfg.GraphQLParses, cfg.InspectWait),
		refused:  newRefusedCredentials(d.Clock),
	}
	g.assertion = newAssertionSigner(d.SecretKey, public.String(), upstreamAudience(upstream), cfg.AssertionTTL, d.Clock)
	if d.Revoked != nil {
		g.revoked = newRevocations(d.Revoked, d.Clock)
	}
	if g.users != nil {
		g.users.onSessionsEnd(func(ctx context.Context, userID string) {
			g.endUserSessions(ctx, userID)
		})
	}
	g.proxy = newUpstreamProxy(g, d.Transport)
	g.handler = g.routes()
	return g, nil
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Server is an HTTP server for Handler with the gateway's connection
// limits: a header timeout, an idle timeout for keep-alive connections
// and (in Handler) a body timeout. There is no read timeout for the whole
// request and no write timeout: streamed responses and WebSockets last as
// long as the application wants.
func (g *Gateway) Server(errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
		IdleTimeout:       g.cfg.ConnIdleTimeout,
		ErrorLog:          errorLog,
	}
}

// MetricsHandler serves the Prometheus metrics to anyone: for a listener
// of its own (Config.MetricsAddr), never the public one.
func (g *Gateway) MetricsHandler() http.Handler { return g.metrics.handler() }

// handleMetrics serves the metrics on the public origin to admins only
// (a session, token or API key with the admin role), and not at all when
// they have a listener of their own (SECURITY-CASES 69).
func (g *Gateway) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if g.cfg.MetricsAddr != "" {
		g.writeStatus(w, r, http.StatusNotFound, "Not found", "There is nothing here.")
		return
	}
	id, err := g.identify(r)
	switch {
	case errors.Is(err, errBadCredential):
		g.refuseCredential(w, r, err)
		return
	case err != nil:
		g.serverError(w, r, err)
		return
	case id == nil:
		writeJSONError(w, http.StatusUnauthorized, "unauthorized", "metrics need an admin's credential, or --metrics-addr")
		return
	case !slices.Contains(id.Roles, "admin"):
		g.auditDeny(r, id, "", "metrics: not an admin")
		writeJSONError(w, http.StatusForbidden, "forbidden", "metrics are for admins")
		return
	}
	g.metrics.handler().ServeHTTP(w, r)
}

// upstreamAudience is the aud of assertions: the upstream's origin.
func upstreamAudience(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

func (g *Gateway) routes() http.Handler {
	own := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		own.Handle(pattern, g.metrics.instrument(name, h))
	}
	cop := http.NewCrossOriginProtection()
	route("GET "+PathLogin, "login", g.handleLogin)
	route("GET "+PathCallback, "callback", g.handleCallback)
	route("GET "+PathLogout, "logout", g.handleLogoutPage)
	own.Handle("POST "+PathLogout, g.metrics.instrument("logout", cop.Handler(http.HandlerFunc(g.handleLogout))))
	route("GET "+PathHealthz, "healthz", g.handleHealthz)
	route("GET "+PathReadyz, "readyz", g.handleReadyz)
	own.Handle("GET "+PathMetrics, g.metrics.instrument("metrics", http.HandlerFunc(g.handleMetrics)))
	route("GET "+PathJWKS, "jwks", g.handleJWKS)
	route("GET "+PathWhoami, "whoami", g.handleWhoami)
	route(PathForwardAuth, "forward_auth", g.handleForwardAuth)
	own.Handle("GET "+PathStatic, g.metrics.instrument("static", staticHandler()))
	if g.authSrv != nil {
		own.Handle(PathAuth+"/", g.metrics.instrument("auth_server", g.authSrv))
	}
	own.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.writeStatus(w, r, http.StatusNotFound, "Not found", "There is nothing here.")
	})
	app := g.metrics.instrument("upstream", http.HandlerFunc(g.serveApp))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withBodyTimeout(w, r, g.cfg.BodyTimeout)
		path, err := inbound.Path(r.URL.EscapedPath())
		if err != nil {
			g.metrics.rejected.WithLabelValues("bad_path").Inc()
			g.auditDeny(r, nil, "", "bad path")
			g.writeStatus(w, r, http.StatusBadRequest, "Bad request", "The request path is not acceptable.")
			return
		}
		if g.authSrv != nil && path == wellKnownAuthMetadata {
			// RFC 8414 §3.1 puts the metadata of an issuer with a path at
			// the origin's /.well-known/ with the path appended: that one
			// URL belongs to the embedded server, not to the application.
			path = PathAuth + "/.well-known/oauth-authorization-server"
		}
		if path == Prefix || strings.HasPrefix(path, Prefix+"/") {
			// The gateway's own routes see the normalised path too.
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = path, ""
			own.ServeHTTP(w, r2)
			return
		}
		app.ServeHTTP(w, withNormalPath(r, path))
	})
}

// wellKnownAuthMetadata is where RFC 8414 clients look for the embedded
// server's metadata.
const wellKnownAuthMetadata = "/.well-known/oauth-authorization-server" + PathAuth

type normalPathKey struct{}

func withNormalPath(r *http.Request, path string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), normalPathKey{}, path))
}

// normalPath is the normalised path of r as the router computed it.
func normalPath(r *http.Request) string {
	if p, ok := r.Context().Value(normalPathKey{}).(string); ok {
		return p
	}
	return r.URL.Path
}

// host is the request's host name, lower case, without the port.
func (g *Gateway) host(r *http.Request) string {
	h := g.trusted.Host(r)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// clientIP is the caller's address as a string for limits and audit.
func (g *Gateway) clientIP(r *http.Request) string {
	a := g.trusted.ClientIP(r)
	if !a.IsValid() {
		return "unknown"
	}
	return a.String()
}
