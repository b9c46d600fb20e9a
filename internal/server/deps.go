package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/breaker"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// A dependency outage (database, Redis, audit trail) must give a request
// an error within a bound, never a hang (SECURITY-CASES 70):
//
//   - every request that may reach the database runs under a deadline of
//     timeouts.database, so each database call on its path is bounded;
//   - requests that ran into that deadline open a circuit breaker after
//     breaker.DefaultThreshold in a row; while it is open, those requests
//     are answered 503 at once instead of each waiting for the deadline,
//     and one request per second (or /readyz, or the background probe)
//     tries the database again;
//   - the failure reaches the one function that renders errors, which
//     answers server_error (RFC 6749 §5.2) with status 503 and
//     Retry-After.

// dbProbeInterval is how often the background probe pings the database
// while the breaker is not closed.
const dbProbeInterval = time.Second

// noDatabase lists the routes that never touch the database (or must
// answer while it is down) and so bypass the deadline and breaker.
func noDatabase(path string) bool {
	for _, p := range []string{PathHealthz, PathReadyz, PathMetrics, PathJWKS, PathDiscoveryOAuth, PathDiscoveryOIDC} {
		if strings.HasSuffix(path, p) {
			return true
		}
	}
	return strings.Contains(path, strings.TrimSuffix(PathStatic, "/"))
}

// longDatabase lists the routes whose work grows with the database (the
// admin API's walk of the whole audit trail): they get the breaker but
// only the server's write timeout, not timeouts.database.
func longDatabase(path string) bool {
	return strings.HasSuffix(path, PathAdmin+"/audit/verify")
}

// guardDependencies puts the database deadline and breaker around next.
func (s *Server) guardDependencies(next http.Handler) http.Handler {
	timeout := time.Duration(s.cfg.Timeouts.Database)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noDatabase(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.dbBreaker.Allow(); err != nil {
			s.writeError(w, r, errDatabaseDown)
			return
		}
		if longDatabase(r.URL.Path) {
			// Only an answer closes the breaker; a slow walk says
			// nothing about an outage.
			next.ServeHTTP(w, r)
			s.dbBreaker.Done(nil)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			s.dbBreaker.Done(context.DeadlineExceeded)
		} else {
			s.dbBreaker.Done(nil)
		}
	})
}

// errDatabaseDown answers requests while the database breaker is open.
var errDatabaseDown = errors.Join(errors.New("database unavailable"), breaker.ErrOpen)

// unavailable reports whether err means a dependency did not answer in
// time or could not be reached (a request should be retried later)
// rather than a bug.
func unavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, breaker.ErrOpen) ||
		errors.Is(err, audit.ErrUnavailable) || errors.Is(err, ratelimit.ErrUnavailable) ||
		storage.Unreachable(err)
}

// unavailableError is the response to a request that failed because a
// dependency is unavailable: server_error (RFC 6749 §5.2 has no better
// code at the token endpoint) with 503 and Retry-After.
func (s *Server) unavailableError() *protocol.Error {
	return &protocol.Error{
		Code:        protocol.ErrServerError,
		Description: "the server cannot reach a dependency; try again later",
		Status:      http.StatusServiceUnavailable,
		RetryAfter:  int(s.dbBreaker.RetryAfter() / time.Second),
	}
}

// probeDatabase pings the database while the breaker is not closed, so
// that it closes as soon as the database answers again.
func (s *Server) probeDatabase(ctx context.Context) {
	if st, _ := s.dbBreaker.State(); st == breaker.Closed {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeouts.Database))
	defer cancel()
	if err := s.store.Ping(pctx); err == nil {
		s.dbBreaker.Done(nil)
	}
}
