package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// hangingPing is a database whose Ping hangs until the caller's deadline.
type hangingPing struct {
	storage.Store
	hang atomic.Bool
}

func (h *hangingPing) Ping(ctx context.Context) error {
	if h.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.Store.Ping(ctx)
}

func readyz(t *testing.T, h *testHarness) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(h.url(PathReadyz))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// TestReadyzWithinBudget: a database that does not answer makes /readyz
// say 503 within its 2 s budget, even with a longer database timeout.
func TestReadyzWithinBudget(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Timeouts.Database = config.Duration(10 * time.Second) })
	st := &hangingPing{Store: h.store}
	h.srv.store = st
	if code, body, _ := readyz(t, h); code != http.StatusOK {
		t.Fatalf("healthy: %d %s", code, body)
	}
	st.hang.Store(true)
	code, body, d := readyz(t, h)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database unavailable") {
		t.Errorf("stalled database: %d %q, want 503 database unavailable", code, body)
	}
	if d > readyBudget+300*time.Millisecond {
		t.Errorf("readyz took %v, more than its %v budget", d, readyBudget)
	}
}

// TestReadyzFullDisk: less free space under the data directory than
// min_free_disk_mb is not ready.
func TestReadyzFullDisk(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, func(c *config.Server) { c.DataDir = dir; c.MinFreeDiskMB = 1 << 40 })
	code, body, _ := readyz(t, h)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk unavailable") {
		t.Errorf("a full disk: %d %q, want 503 disk unavailable", code, body)
	}
	h.cfg.MinFreeDiskMB = 1
	if code, body, _ := readyz(t, h); code != http.StatusOK {
		t.Errorf("with room on the disk: %d %q", code, body)
	}
}
