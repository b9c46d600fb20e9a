package probes

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
)

// The tests here drive the probes with fake collaborators; the probes
// wired into the real server (a stalled database, Redis going away, a
// full disk) are tested in internal/server's health_test.go and
// readyz_test.go.

// fakes are the collaborators of the probes.
type fakes struct {
	cfg        config.Server
	dbErr      error
	dbHang     bool
	auditDown  bool
	limiter    ratelimit.Limiter
	breakerUps int
}

func (f *fakes) Done(err error) {
	if err == nil {
		f.breakerUps++
	}
}

// pingLimiter is a rate limiter shared through a store that answers err.
type pingLimiter struct {
	ratelimit.Limiter
	err error
}

func (l pingLimiter) Ping(context.Context) error { return l.err }

func newFakes() *fakes {
	f := &fakes{}
	f.cfg.Timeouts.Database = config.Duration(time.Second)
	return f
}

func (f *fakes) probes(metrics http.Handler) *Probes {
	return New(Deps{
		Config: &f.cfg,
		PingDatabase: func(ctx context.Context) error {
			if f.dbHang {
				<-ctx.Done()
				return ctx.Err()
			}
			return f.dbErr
		},
		DatabaseBreaker: f,
		AuditHealthy:    func() bool { return !f.auditDown },
		RateLimiter:     func() ratelimit.Limiter { return f.limiter },
		Metrics:         metrics,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// serve registers the probes on a mux and serves one GET of path.
func serve(t *testing.T, p *Probes, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	var routes []string
	p.Routes(func(pattern, route string, h http.HandlerFunc) {
		routes = append(routes, route)
		mux.Handle(pattern, h)
	}, func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	if want := "healthz readyz"; strings.Join(routes, " ") != want {
		t.Errorf("metric route names %v, want %s", routes, want)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	f := newFakes()
	f.dbErr = errors.New("down") // liveness does not look at dependencies
	rec := serve(t, f.probes(nil), PathHealthz)
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("healthz: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

func TestReadyzAllUp(t *testing.T) {
	f := newFakes()
	f.limiter = pingLimiter{}
	rec := serve(t, f.probes(nil), PathReadyz)
	if rec.Code != http.StatusOK || rec.Body.String() != "ready\n" {
		t.Fatalf("readyz: %d %q", rec.Code, rec.Body)
	}
	if h := rec.Header(); h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("headers %v", h)
	}
	if f.breakerUps != 1 {
		t.Errorf("the database answered but the breaker was told %d times, want 1", f.breakerUps)
	}
}

// TestReadyzFailures: each failed dependency is a sorted line of the 503.
func TestReadyzFailures(t *testing.T) {
	f := newFakes()
	f.dbErr = errors.New("refused")
	f.auditDown = true
	f.limiter = pingLimiter{err: errors.New("redis down")}
	rec := serve(t, f.probes(nil), PathReadyz)
	want := "audit trail unavailable\ndatabase unavailable\nrate limiter unavailable\n"
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != want {
		t.Errorf("readyz: %d %q, want 503 %q", rec.Code, rec.Body, want)
	}
	if f.breakerUps != 0 {
		t.Error("a failed ping closed the database breaker")
	}
}

// TestReadyzLocalLimiter: limits kept in the process have nothing to ping.
func TestReadyzLocalLimiter(t *testing.T) {
	f := newFakes()
	f.limiter = ratelimit.NewMemory(nil, 0)
	if rec := serve(t, f.probes(nil), PathReadyz); rec.Code != http.StatusOK {
		t.Errorf("readyz with local limits: %d %q", rec.Code, rec.Body)
	}
}

// TestReadyzHangingDatabase: a database that does not answer is cut off
// at timeouts.database, within the budget.
func TestReadyzHangingDatabase(t *testing.T) {
	f := newFakes()
	f.dbHang = true
	f.cfg.Timeouts.Database = config.Duration(50 * time.Millisecond)
	start := time.Now()
	rec := serve(t, f.probes(nil), PathReadyz)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "database unavailable\n" {
		t.Errorf("readyz: %d %q", rec.Code, rec.Body)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("readyz took %v with a 50ms database timeout", d)
	}
}

func TestMetricsRoute(t *testing.T) {
	f := newFakes()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "m 1\n") })
	if rec := serve(t, f.probes(metrics), PathMetrics); rec.Code != http.StatusOK || rec.Body.String() != "m 1\n" {
		t.Errorf("metrics: %d %q", rec.Code, rec.Body)
	}
	// Served on a separate listener: not here.
	if rec := serve(t, f.probes(nil), PathMetrics); rec.Code != http.StatusNotFound {
		t.Errorf("metrics without a handler: %d, want 404", rec.Code)
	}
}

func TestCheckDisk(t *testing.T) {
	dir := t.TempDir()
	// on is a configuration with the database db, the audit output out
	// and min_free_disk_mb minMB.
	on := func(db, dataDir, out string, minMB int) config.Server {
		var c config.Server
		c.DB, c.DataDir, c.MinFreeDiskMB = db, dataDir, minMB
		c.Audit.Output = out
		return c
	}
	full := 1 << 40 // more MiB than any disk has
	for _, c := range []struct {
		name string
		cfg  config.Server
		full bool
	}{
		{"off", on("", dir, "", 0), false},
		{"sqlite data dir", on("", dir, "", full), true},
		{"sqlite url", on("sqlite://x.db", dir, "", full), true},
		{"file url", on("file:x.db", dir, "", full), true},
		{"room left", on("", dir, "", 1), false},
		{"postgres", on("postgres://db/x", dir, "", full), false},
		{"postgres, audit file", on("postgres://db/x", dir, filepath.Join(dir, "audit.log"), full), true},
		{"postgres, audit stdout", on("postgres://db/x", dir, "stdout", full), false},
		{"missing data dir", on("", filepath.Join(dir, "gone"), "", full), false},
	} {
		err := checkDisk(&c.cfg)
		if (err != nil) != c.full {
			t.Errorf("%s: %v, want full %v", c.name, err, c.full)
		}
	}
}
