package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/dpopcache"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/backend"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// Session store choices for Options.Sessions.
const (
	SessionsMemory = "memory"
	SessionsSQL    = "sql"
)

// Options are what `gatehouse proxy` assembles a gateway from.
type Options struct {
	Config Config
	Policy *policy.Policy
	// Server is the configuration of the embedded server (database, data
	// directory, Redis, audit output). With an external issuer only its
	// data directory or secret key (for sealing login state and deriving
	// the assertion key), Redis and audit output are used, and its
	// database only for Sessions "sql".
	Server *config.Server
	// Sessions is "memory", "sql" (the database) or a redis:// URL; empty
	// means "sql" for the embedded server, the Redis of Server.Redis when
	// set, else "memory".
	Sessions string
	// AdminPassword is the first admin's password on an empty database
	// (embedded server only; "" generates one and prints it).
	AdminPassword string
	// AdminUser names that admin (default "admin").
	AdminUser string
	// Out receives messages for the operator; Log the logs.
	Out io.Writer
	Log *slog.Logger
}

// Instance is a gateway with everything it opened.
type Instance struct {
	Gateway *Gateway
	// Store is the embedded server's database (nil with an external issuer
	// unless sessions are in SQL).
	Store storage.Store

	srv     *server.Instance // embedded server, or nil
	users   *UserDirectory
	log     *slog.Logger
	closers []func() error
}

// Open assembles the gateway: with an empty Config.Issuer it opens the
// embedded authorization server, registers the gateway's own client with
// it and logs users in through it; otherwise it reads the external
// issuer's discovery document.
func Open(ctx context.Context, o Options) (_ *Instance, err error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	cfg := o.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	inst := &Instance{log: o.Log}
	defer func() {
		if err != nil {
			inst.Close()
		}
	}()
	var d Deps
	if cfg.Issuer == "" {
		d, err = inst.openEmbedded(ctx, o, &cfg)
	} else {
		d, err = inst.openExternal(ctx, o, &cfg)
	}
	if err != nil {
		return nil, err
	}
	d.Config, d.Policy, d.Logger, d.Clock = cfg, o.Policy, o.Log, clock.System
	sessions, closeSessions, err := openSessions(ctx, o, inst.Store)
	if err != nil {
		return nil, err
	}
	inst.closers = append(inst.closers, closeSessions)
	d.Sessions = sessions
	inst.Gateway, err = New(d)
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// openExternal prepares a gateway in front of an external issuer.
func (inst *Instance) openExternal(ctx context.Context, o Options, cfg *Config) (Deps, error) {
	key, created, err := server.LoadSecretKey(o.Server)
	if err != nil {
		return Deps{}, err
	}
	if created {
		fmt.Fprintf(o.Out, "Generated a new secret key in %s; replicas of this gateway must share it.\n", o.Server.ResolvedSecretKeyFile())
	}
	limiter, closeLimiter, err := ratelimit.Open(ctx, o.Server.Redis, clock.System)
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: rate limiter: %w", err)
	}
	inst.closers = append(inst.closers, closeLimiter)
	if o.Server.Redis == "" {
		o.Log.Warn("no redis configured: login rate limits are local to this process")
	}
	sink, err := audit.OpenOutput(o.Server.Audit.Output)
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: audit output: %w", err)
	}
	var w io.Writer
	if sink != nil {
		w = sink
		inst.closers = append(inst.closers, sink.Close)
	}
	al := audit.New(w, clock.System)
	inst.closers = append(inst.closers, al.Close) // runs before sink.Close (closers run in reverse)
	redirectURI := strings.TrimSuffix(cfg.PublicURL, "/") + PathCallback
	httpClient := &http.Client{Timeout: 10 * time.Second}
	provider, err := NewOIDCProvider(ctx, OIDCConfig{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: redirectURI,
		Scopes: cfg.Scopes, RolesClaim: cfg.RolesClaim, GroupsClaim: cfg.GroupsClaim, HTTPClient: httpClient,
	})
	if err != nil {
		return Deps{}, err
	}
	vcfg := externalVerifierConfig(cfg, provider.Issuer(), httpClient)
	// DPoP proofs are remembered in Redis when the gateway has one, so a
	// proof replayed to another replica is refused too.
	replay, closeReplay, err := dpopcache.Open(ctx, o.Server.Redis, clock.System, time.Duration(o.Server.Timeouts.Redis))
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: dpop replay cache: %w", err)
	}
	inst.closers = append(inst.closers, closeReplay)
	vcfg.DPoP.Replay = replay
	verifier, err := resource.NewVerifier(ctx, vcfg)
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: bearer verifier: %w", err)
	}
	if o.Sessions == SessionsSQL {
		st, _, err := backend.Open(ctx, o.Server.DB, o.Server.DataDir)
		if err != nil {
			return Deps{}, err
		}
		inst.Store = st
		inst.closers = append(inst.closers, st.Close)
	}
	return Deps{Limiter: limiter, Audit: al, SecretKey: key, Provider: provider, Verifier: verifier}, nil
}

// externalVerifierConfig configures the bearer verifier for an external
// issuer (spelled as its discovery document spells it). Its endpoints come
// from that document only: a guessed JWKS or introspection URL would be
// another server's path. Its tokens need not be RFC 9068 ones (most
// providers sign "JWT" or no typ, with RS256); the audience must still
// name this gateway. Credentials that are not JWTs are introspected only
// when the document names an introspection endpoint.
func externalVerifierConfig(cfg *Config, issuer string, hc *http.Client) resource.Config {
	algs := cfg.JWTAlgorithms
	if len(algs) == 0 {
		algs = DefaultExternalAlgorithms
	}
	return resource.Config{
		Issuer:           issuer,
		Audience:         cfg.BearerAudiences(),
		Algorithms:       algs,
		Types:            []string{resource.TypeAccessToken, resource.TypeJWT, resource.TypeNone},
		RequireDiscovery: true,
		HTTPClient:       hc,
		Introspection: &resource.IntrospectionConfig{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, CacheTTL: cfg.IntrospectionTTL,
		},
	}
}

// openSessions opens the session store o names.
func openSessions(ctx context.Context, o Options, st storage.Store) (session.Store, func() error, error) {
	choice := o.Sessions
	if choice == "" {
		switch {
		case o.Config.Issuer == "":
			choice = SessionsSQL
		case o.Server.Redis != "":
			choice = o.Server.Redis
		default:
			choice = SessionsMemory
		}
	}
	if choice == SessionsSQL && st == nil {
		return nil, nil, errors.New("proxy: sessions in sql need a database")
	}
	s, closeFn, err := session.Open(ctx, choice, st, clock.System)
	if err != nil {
		return nil, nil, fmt.Errorf("proxy: session store: %w", err)
	}
	return s, closeFn, nil
}

// Serve serves the gateway on ln until ctx ends, then drains in-flight
// requests for up to shutdown. With the embedded server it also runs the
// server's background work and follows user changes.
func (inst *Instance) Serve(ctx context.Context, ln net.Listener, shutdown time.Duration) error {
	srv := inst.Gateway.Server(slog.NewLogLogger(inst.log.Handler(), slog.LevelWarn))
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if inst.srv != nil {
		go inst.srv.RunBackground(bg)
		go inst.users.Run(bg)
	}
	errc := make(chan error, 2)
	if addr := inst.Gateway.cfg.MetricsAddr; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("proxy: metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET "+PathMetrics, inst.Gateway.MetricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: srv.ErrorLog}
		go func() { errc <- msrv.Serve(mln) }()
		defer msrv.Close()
		inst.log.Info("metrics listener", "addr", mln.Addr().String(), "path", PathMetrics)
	}
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	inst.log.Info("shutting down: draining in-flight requests", "timeout", shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	return srv.Shutdown(sctx)
}

// Close releases what Open opened, in reverse order.
func (inst *Instance) Close() error {
	var errs []error
	for i := len(inst.closers) - 1; i >= 0; i-- {
		if err := inst.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	inst.closers = nil
	return errors.Join(errs...)
}
