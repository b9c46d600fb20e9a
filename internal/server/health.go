package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// readyBudget is the most /readyz takes to answer: every check runs at
// once, each under a deadline within it.
const readyBudget = 2 * time.Second

// writeCacheableJSON writes a public document that caches may keep briefly.
func writeCacheableJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(v)
}

// handleHealthz reports that the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz reports whether the server can serve, within readyBudget:
// the database answers, Redis does when rate limits are shared through it,
// the audit trail takes events, and the disk of the SQLite database (and
// of an audit output file) has min_free_disk_mb free. It answers 503 with
// one line per failed check, naming the dependency.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyBudget-100*time.Millisecond)
	defer cancel()
	checks := map[string]func(context.Context) error{
		"database": s.checkDatabase,
		"audit trail": func(context.Context) error {
			if !s.audit.Healthy() {
				return errors.New("appends are failing")
			}
			return nil
		},
		"disk": func(context.Context) error { return s.checkDisk() },
	}
	if p, ok := s.limiter.(interface{ Ping(context.Context) error }); ok {
		// Login limits fail closed without Redis, so the server cannot
		// serve logins: not ready.
		checks["rate limiter"] = p.Ping
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
				s.log.Warn("readiness: "+name, "err", e)
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
// readiness budget); a success closes the database breaker, so /readyz
// doubles as its recovery probe.
func (s *Server) checkDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeouts.Database))
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	s.dbBreaker.Done(nil)
	return nil
}

// checkDisk reports a full disk under the SQLite data directory or the
// audit output file.
func (s *Server) checkDisk() error {
	if s.cfg.MinFreeDiskMB <= 0 {
		return nil
	}
	var dirs []string
	if s.cfg.DB == "" || !strings.Contains(s.cfg.DB, "://") || strings.HasPrefix(s.cfg.DB, "sqlite") || strings.HasPrefix(s.cfg.DB, "file:") {
		dirs = append(dirs, s.cfg.DataDir)
	}
	if o := s.cfg.Audit.Output; o != "" && o != "stdout" && o != "stderr" && o != "off" {
		dirs = append(dirs, filepath.Dir(o))
	}
	minFree := uint64(s.cfg.MinFreeDiskMB) << 20
	for _, d := range dirs {
		free, err := diskFree(d)
		if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, fs.ErrNotExist) {
			continue // nothing of ours there (a database elsewhere)
		}
		if err != nil {
			return fmt.Errorf("disk free space of %s: %w", d, err)
		}
		if free < minFree {
			return fmt.Errorf("%s has %d MiB free, below min_free_disk_mb %d", d, free>>20, s.cfg.MinFreeDiskMB)
		}
	}
	return nil
}
