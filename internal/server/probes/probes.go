// Package probes is the authorization server's operational endpoints:
// the liveness probe (/healthz), the readiness probe (/readyz) and, when
// no separate listener serves them, the Prometheus metrics (/metrics).
//
// The server hands the probes what they look at in Deps: the database to
// ping and its breaker, the audit trail, the shared rate limiter and the
// configuration that says which disks hold the server's data. The probes
// do not import the server.
package probes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
)

// Paths of the probes, under the server's base path.
const (
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
	PathMetrics = "/metrics"
)

// ReadyBudget is the most /readyz takes to answer: every check runs at
// once, each under a deadline within it.
const ReadyBudget = 2 * time.Second

// Deps are what the probes look at. The functions are called at every
// request, so the probes always see the server's current collaborators.
type Deps struct {
	// Config gives timeouts.database, min_free_disk_mb and where the
	// data lives (database, data_dir, audit.output); it is read at every
	// request.
	Config *config.Server
	// PingDatabase pings the database.
	PingDatabase func(context.Context) error
	// DatabaseBreaker is told when the database answered, which closes
	// it: /readyz doubles as its recovery probe.
	DatabaseBreaker interface{ Done(error) }
	// AuditHealthy reports whether the audit trail takes events.
	AuditHealthy func() bool
	// RateLimiter returns the server's rate limiter. One that shares the
	// limits between replicas through a store (Redis) has a Ping, which
	// is checked; limits kept in this process are not.
	RateLimiter func() ratelimit.Limiter
	// Metrics serves the Prometheus metrics; nil when a separate
	// listener (metrics_addr) serves them.
	Metrics http.Handler
	Logger  *slog.Logger
}

// Probes are the handlers of the operational endpoints.
type Probes struct{ d Deps }

// New builds the probes on d.
func New(d Deps) *Probes { return &Probes{d: d} }

// Routes registers the probes: handle takes a "METHOD /path" pattern, the
// route's name for the request metrics and the handler; register takes a
// pattern and a handler that is not counted (the metrics themselves).
func (p *Probes) Routes(handle func(pattern, route string, h http.HandlerFunc), register func(pattern string, h http.Handler)) {
	handle("GET "+PathHealthz, "healthz", p.handleHealthz)
	handle("GET "+PathReadyz, "readyz", p.handleReadyz)
	if p.d.Metrics != nil {
		register("GET "+PathMetrics, p.d.Metrics)
	}
}

// handleHealthz reports that the process is alive.
func (p *Probes) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz reports whether the server can serve, within ReadyBudget:
// the database answers, Redis does when rate limits are shared through it,
// the audit trail takes events, and the disk of the SQLite database (and
// of an audit output file) has min_free_disk_mb free. It answers 503 with
// one line per failed check, naming the dependency.
func (p *Probes) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyBudget-100*time.Millisecond)
	defer cancel()
	checks := map[string]func(context.Context) error{
		"database": p.checkDatabase,
		"audit trail": func(context.Context) error {
			if !p.d.AuditHealthy() {
				return errors.New("appends are failing")
			}
			return nil
		},
		"disk": func(context.Context) error { return checkDisk(p.d.Config) },
	}
	if l, ok := p.d.RateLimiter().(interface{ Ping(context.Context) error }); ok {
		// Login limits fail closed without Redis, so the server cannot
		// serve logins: not ready.
		checks["rate limiter"] = l.Ping
	}
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Go(func() {
			err := make(chan error, 1)
			go func() { err <- check(ctx) }()
			var e error
			select {
			case e = <-err:
			case <-ctx.Done():
				e = ctx.Err()
			}
			if e != nil {
				p.d.Logger.Warn("readiness: "+name, "err", e)
				mu.Lock()
				failed = append(failed, name+" unavailable")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(strings.Join(slices.Sorted(slices.Values(failed)), "\n") + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// checkDatabase pings the database within timeouts.database (and the
// readiness budget); a success closes the database breaker.
func (p *Probes) checkDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.d.Config.Timeouts.Database))
	defer cancel()
	if err := p.d.PingDatabase(ctx); err != nil {
		return err
	}
	p.d.DatabaseBreaker.Done(nil)
	return nil
}

// checkDisk reports a full disk under the SQLite data directory or the
// audit output file.
func checkDisk(cfg *config.Server) error {
	if cfg.MinFreeDiskMB <= 0 {
		return nil
	}
	var dirs []string
	if cfg.DB == "" || !strings.Contains(cfg.DB, "://") || strings.HasPrefix(cfg.DB, "sqlite") || strings.HasPrefix(cfg.DB, "file:") {
		dirs = append(dirs, cfg.DataDir)
	}
	if o := cfg.Audit.Output; o != "" && o != "stdout" && o != "stderr" && o != "off" {
		dirs = append(dirs, filepath.Dir(o))
	}
	minFree := uint64(cfg.MinFreeDiskMB) << 20
	for _, d := range dirs {
		free, err := diskFree(d)
		if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, fs.ErrNotExist) {
			continue // nothing of ours there (a database elsewhere)
		}
		if err != nil {
			return fmt.Errorf("disk free space of %s: %w", d, err)
		}
		if free < minFree {
			return fmt.Errorf("%s has %d MiB free, below min_free_disk_mb %d", d, free>>20, cfg.MinFreeDiskMB)
		}
	}
	return nil
}
