package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/dpopcache"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/backend"
)

// gcInterval is how often expired rows are deleted.
const gcInterval = 10 * time.Minute

// pruneInterval is how often audit events older than audit.retention are
// pruned: a tenth of the retention, between a minute and an hour, so the
// table holds at most about 1.1 times the retention's events.
func pruneInterval(retention time.Duration) time.Duration {
	return min(max(retention/10, time.Minute), time.Hour)
}

// hashMemoryRelease is how long after the last password hash its memory is
// handed back to the operating system.
const hashMemoryRelease = time.Second

// OpenStore opens the database the configuration names.
func OpenStore(ctx context.Context, cfg *config.Server) (storage.Store, string, error) {
	return backend.Open(ctx, cfg.DB, cfg.DataDir)
}

// LoadSecretKey returns the server secret key: GATEHOUSE_SECRET_KEY if set,
// else the key file, which is created on first start.
func LoadSecretKey(cfg *config.Server) (key *secret.Key, created bool, err error) {
	if cfg.SecretKey != "" {
		k, err := secret.ParseKey(cfg.SecretKey)
		if err != nil {
			// Bad configuration, like any other invalid setting (the CLI
			// exits 2 for it); the message never contains the value.
			return nil, false, &config.FieldError{Key: "GATEHOUSE_SECRET_KEY", Problem: strings.TrimPrefix(err.Error(), "secret: ")}
		}
		return k, false, nil
	}
	return secret.LoadOrCreateKeyFile(cfg.ResolvedSecretKeyFile())
}

// NewKeyManager builds the signing key manager for a configuration.
func NewKeyManager(cfg *config.Server, st storage.Store, key *secret.Key, clk clock.Clock) *signing.Manager {
	return signing.NewManager(st, key, clk, signing.Options{
		Algorithm:  cfg.Signing.Algorithm,
		PrePublish: time.Duration(cfg.Signing.PrePublish),
		Retain:     time.Duration(cfg.Signing.Retain),
	})
}

// Instance is an assembled server with everything it opened.
type Instance struct {
	Server *Server
	Store  storage.Store
	Keys   *signing.Manager
	// SecretKey is the server secret key (sealing at rest).
	SecretKey *secret.Key
	// Limiter is the rate limiter the server uses (shared through Redis
	// when configured).
	Limiter ratelimit.Limiter
	audit   *audit.Logger
	sink    io.WriteCloser
	cfg     *config.Server

	closeLimiter    func() error
	closeReplay     func() error
	closeConnectors func() error
	log             *slog.Logger
}

// OpenOption adjusts how Open assembles a server.
type OpenOption func(*openOptions)

type openOptions struct {
	auditOptions []audit.Option
	adminUser    string
}

// WithAdminUser names the admin user the first start creates (default
// "admin"; the CLI reads GATEHOUSE_ADMIN_USER).
func WithAdminUser(name string) OpenOption {
	return func(o *openOptions) { o.adminUser = name }
}

// WithAuditOptions passes options to the audit logger Open builds (the
// gateway observes user changes through audit.WithObserver).
func WithAuditOptions(opts ...audit.Option) OpenOption {
	return func(o *openOptions) { o.auditOptions = append(o.auditOptions, opts...) }
}

// Open assembles a server from its configuration: database, secret key,
// signing keys, first-start bootstrap. Messages for the operator (where the
// data is, the generated admin password) go to out. adminPassword is used
// for the admin user only when no enabled user holds the admin role yet.
func Open(ctx context.Context, cfg *config.Server, adminPassword string, out io.Writer, log *slog.Logger, opts ...OpenOption) (*Instance, error) {
	var oo openOptions
	for _, o := range opts {
		o(&oo)
	}
	st, desc, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	inst := &Instance{Store: st, cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			inst.Close()
		}
	}()
	key, created, err := LoadSecretKey(cfg)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(out, "Generated a new secret key in %s; keep it safe and back it up.\n", cfg.ResolvedSecretKeyFile())
	}
	inst.Keys = NewKeyManager(cfg, st, key, clock.System)
	if err := inst.Keys.Init(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	inst.sink, err = audit.OpenOutput(cfg.Audit.Output)
	if err != nil {
		return nil, fmt.Errorf("audit output: %w", err)
	}
	var w io.Writer
	if inst.sink != nil {
		w = inst.sink
	}
	inst.audit = audit.NewWithStore(w, st, clock.System, append([]audit.Option{audit.WithErrorLog(log),
		audit.WithTimeout(time.Duration(cfg.Audit.Timeout)), audit.WithFailOpen(cfg.Audit.FailOpen)}, oo.auditOptions...)...)
	hasher := password.NewHasher(password.DefaultParams, cfg.Argon2MaxConcurrent)
	hasher.ReleaseMemoryWhenIdle(hashMemoryRelease)
	adminUser := oo.adminUser
	if adminUser == "" {
		adminUser = AdminUsername
	}
	generated, err := BootstrapWith(ctx, st, hasher, BootstrapOptions{AdminUser: adminUser, AdminPassword: adminPassword, Audit: inst.audit, Clock: clock.System})
	if err != nil {
		return nil, err
	}
	if generated != "" {
		fmt.Fprintf(out, "Created user %q with password: %s\n(shown once; change it with `gatehouse users passwd %s`)\n", adminUser, generated, adminUser)
	}
	limiter, closeLimiter, err := ratelimit.Open(ctx, cfg.Redis, clock.System, time.Duration(cfg.Timeouts.Redis))
	if err != nil {
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	inst.closeLimiter = closeLimiter
	replay, closeReplay, err := dpopcache.Open(ctx, cfg.Redis, clock.System, time.Duration(cfg.Timeouts.Redis))
	if err != nil {
		return nil, fmt.Errorf("dpop replay cache: %w", err)
	}
	inst.closeReplay = closeReplay
	inst.Limiter = limiter
	inst.SecretKey = key
	if cfg.Redis == "" {
		log.Warn("no redis configured: rate limits are local to this process; run several replicas only with --redis")
	}
	conns, closeConns, err := OpenConnectors(ctx, cfg, st, log)
	if err != nil {
		return nil, err
	}
	inst.closeConnectors = closeConns
	inst.Server, err = New(Deps{
		Config:  cfg,
		Store:   st,
		Keys:    inst.Keys,
		Hasher:  hasher,
		Limiter: limiter,
		Audit:   inst.audit,
		Clock:   clock.System,
		Logger:  log,
		// SecretKey seals TOTP secrets (internal/server/secondfactor).
		SecretKey: key,
		// DPoPReplay is shared by the replicas through Redis.
		DPoPReplay: replay,
		Connectors: conns,
	})
	if err != nil {
		return nil, err
	}
	log.Info("database", "backend", desc)
	ok = true
	return inst, nil
}

// Close releases what Open opened, flushing the audit log.
func (inst *Instance) Close() error {
	var errs []error
	if inst.audit != nil {
		errs = append(errs, inst.audit.Close())
	}
	if inst.sink != nil {
		errs = append(errs, inst.sink.Close())
	}
	if inst.closeLimiter != nil {
		errs = append(errs, inst.closeLimiter())
	}
	if inst.closeReplay != nil {
		errs = append(errs, inst.closeReplay())
	}
	if inst.closeConnectors != nil {
		errs = append(errs, inst.closeConnectors())
	}
	if inst.Store != nil {
		errs = append(errs, inst.Store.Close())
	}
	return errors.Join(errs...)
}

// Serve serves on ln until ctx is cancelled, then stops accepting and
// drains in-flight requests for up to the configured shutdown timeout.
// It also reloads signing keys and collects expired rows in the background.
func (inst *Instance) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           inst.Server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(inst.log.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	if inst.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", inst.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		msrv := &http.Server{Handler: inst.Server.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, msrv)
		go func() { errc <- msrv.Serve(mln) }()
	}
	go func() { errc <- srv.Serve(ln) }()

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go inst.background(bg)
	go inst.Server.oauth.RecordAPIKeyUse(bg)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	inst.log.Info("shutting down: draining in-flight requests", "timeout", time.Duration(inst.cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(inst.cfg.ShutdownTimeout))
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// background reloads signing keys (so a rotation made by another process
// is picked up) and removes expired rows.
func (inst *Instance) background(ctx context.Context) {
	clk := clock.System
	reload := clk.NewTicker(max(time.Duration(inst.cfg.Signing.ReloadInterval), time.Second))
	defer reload.Stop()
	gc := clk.NewTicker(gcInterval)
	defer gc.Stop()
	probe := clk.NewTicker(dbProbeInterval)
	defer probe.Stop()
	retention := clk.NewTicker(pruneInterval(time.Duration(inst.cfg.Audit.Retention)))
	defer retention.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retention.C():
			inst.pruneAudit(ctx, clk.Now())
		case <-probe.C():
			inst.Server.probeDatabase(ctx)
		case <-reload.C():
			if err := inst.Keys.Reload(ctx); err != nil {
				inst.log.Warn("reload signing keys", "err", err)
			}
		case <-gc.C():
			n, err := inst.Store.DeleteExpired(ctx, clk.Now())
			if err != nil {
				inst.log.Warn("delete expired rows", "err", err)
			} else if n > 0 {
				inst.log.Debug("deleted expired rows", "rows", n)
			}
		}
	}
}

// pruneAudit deletes the audit events older than audit.retention, first
// appending them to a daily file in audit.archive when that is set.
func (inst *Instance) pruneAudit(ctx context.Context, now time.Time) {
	keep := time.Duration(inst.cfg.Audit.Retention)
	if keep <= 0 {
		return
	}
	var archive io.Writer
	if dir := inst.cfg.Audit.Archive; dir != "" {
		name := filepath.Join(dir, "audit-"+now.UTC().Format("2006-01-02")+".jsonl")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			inst.log.Error("audit retention: open archive; nothing pruned", "err", err)
			return
		}
		defer f.Close()
		archive = f
	}
	n, err := audit.Prune(ctx, inst.Store, now.Add(-keep), archive)
	if n > 0 {
		inst.audit.Log(audit.Event{Type: audit.Pruned, Outcome: audit.Success, Actor: "server",
			Details: map[string]string{"events": strconv.FormatInt(n, 10), "retention": keep.String()}})
	}
	if err != nil {
		inst.log.Error("audit retention", "pruned", n, "err", err)
	}
}
