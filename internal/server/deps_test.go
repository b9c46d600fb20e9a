package server

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// stallStore is a database whose ListRoles hangs, while stalled, until
// the caller's deadline.
type stallStore struct {
	storage.Store
	stalled atomic.Bool
}

func (s *stallStore) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	if s.stalled.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Store.ListRoles(ctx)
}

// TestDatabaseStallDeadlineAndBreaker: requests to a stalled database end
// with 503 and Retry-After after timeouts.database; after
// breaker.DefaultThreshold of them they are refused at once; once the
// database answers, the first request after the cooldown probes it and
// closes the breaker.
func TestDatabaseStallDeadlineAndBreaker(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h := newHarness(t, func(c *config.Server) { c.Timeouts.Database = config.Duration(timeout) })
	sec := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Roles: []string{"custom"}})
	st := &stallStore{Store: h.store}
	h.srv.store = st
	h.srv.rewire()
	token := func() (int, time.Duration, string) {
		start := time.Now()
		status, _, hdr := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec)
		return status, time.Since(start), hdr.Get("Retry-After")
	}
	if status, _, _ := token(); status != http.StatusOK {
		t.Fatalf("healthy: %d", status)
	}
	st.stalled.Store(true)
	for i := range 3 {
		status, d, retry := token()
		if status != http.StatusServiceUnavailable || retry == "" {
			t.Fatalf("request %d to a stalled database: %d Retry-After %q, want 503 with Retry-After", i, status, retry)
		}
		if d < timeout || d > timeout+time.Second {
			t.Errorf("request %d took %v, want about the %v deadline", i, d, timeout)
		}
	}
	status, d, _ := token()
	if status != http.StatusServiceUnavailable || d > timeout/2 {
		t.Fatalf("with the breaker open: %d after %v, want 503 at once", status, d)
	}
	st.stalled.Store(false)
	h.clock.Advance(time.Second) // the breaker's cooldown
	if status, _, _ := token(); status != http.StatusOK {
		t.Fatalf("probe after recovery: %d, want 200", status)
	}
	if status, _, _ := token(); status != http.StatusOK {
		t.Fatalf("after recovery: %d, want 200", status)
	}
}

// cutStore is a database whose link is cut: ListRoles fails at once with
// the error a broken connection gives.
type cutStore struct {
	storage.Store
	err error
}

func (s *cutStore) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	return nil, fmt.Errorf("postgres: list roles: %w", s.err)
}

// TestDatabaseCutIsUnavailable: a request whose database call fails
// because the link broke (not a deadline) is a 503 with Retry-After, as
// for a stall, not a 500 (e2e TestDependencyFaults/postgres_cut saw 500s
// when the cut showed as an error before the deadline).
func TestDatabaseCutIsUnavailable(t *testing.T) {
	h := newHarness(t)
	sec := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Roles: []string{"custom"}})
	for _, cut := range []error{
		io.ErrUnexpectedEOF,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
		driver.ErrBadConn,
	} {
		h.srv.store = &cutStore{Store: h.store, err: cut}
		h.srv.rewire()
		status, body, hdr := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec)
		if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("database cut (%v): %d Retry-After %q %s, want 503 with Retry-After", cut, status, hdr.Get("Retry-After"), body)
		}
	}
}
