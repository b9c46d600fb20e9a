package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// TestAuditRetention: with audit.retention set, the server archives and
// deletes the events older than it, and the kept trail verifies.
func TestAuditRetention(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	if _, err := st.AppendAudit(ctx, [][]byte{
		[]byte(`{"time":"2030-05-01T00:00:00Z","type":"logout"}`),
		[]byte(`{"time":"2030-05-02T00:00:00Z","type":"logout"}`),
		[]byte(`{"time":"2030-06-01T11:30:00Z","type":"logout"}`),
	}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Audit.Retention = config.Duration(24 * time.Hour)
	cfg.Audit.Archive = t.TempDir()
	al := audit.NewWithStore(nil, st, clock.System)
	inst := &Instance{Store: st, cfg: &cfg, audit: al, log: slog.New(slog.DiscardHandler)}
	inst.pruneAudit(ctx, now)
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Audit.Archive, "audit-2030-06-01.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 2 {
		t.Fatalf("archived %d events, want 2:\n%s", n, b)
	}
	checked, err := audit.Verify(ctx, st, nil)
	if err != nil || checked != 2 { // the kept event and audit.pruned
		t.Fatalf("Verify after retention: %d, %v", checked, err)
	}
}
