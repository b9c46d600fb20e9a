package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// openOnce runs Open on dataDir with adminPassword and returns everything
// the operator could see: the messages, the log and the audit file.
func openOnce(t *testing.T, dataDir, adminPassword string) string {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Audit.Output = filepath.Join(dataDir, "audit.jsonl")
	var out, logs bytes.Buffer
	inst, err := Open(t.Context(), &cfg, adminPassword, &out, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	auditLines, _ := os.ReadFile(cfg.Audit.Output)
	return out.String() + logs.String() + string(auditLines)
}

// TestBootstrapNeverEchoesTheGivenPassword: with GATEHOUSE_ADMIN_PASSWORD
// the server prints, logs and audits nothing of it; a generated password
// is printed once, on the first start only.
func TestBootstrapNeverEchoesTheGivenPassword(t *testing.T) {
	const given = "given-admin-password-7"
	dir := t.TempDir()
	for i := range 2 {
		seen := openOnce(t, dir, given)
		if strings.Contains(seen, given) || strings.Contains(seen, "with password") {
			t.Errorf("start %d shows the admin password:\n%s", i+1, seen)
		}
	}

	dir = t.TempDir()
	first := openOnce(t, dir, "")
	m := regexp.MustCompile(`Created user "admin" with password: (\S+)`).FindAllStringSubmatch(first, -1)
	if len(m) != 1 {
		t.Fatalf("first start: want the generated password printed once, got:\n%s", first)
	}
	if again := openOnce(t, dir, ""); strings.Contains(again, m[0][1]) || strings.Contains(again, "with password") {
		t.Errorf("second start shows the password again:\n%s", again)
	}
}
