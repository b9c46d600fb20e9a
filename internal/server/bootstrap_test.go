package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
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

// A database made before gatehouse-cli accepted localhost gets the new
// redirect URIs at the next start, and keeps what it had.
func TestBootstrapUpgradesTheCLIClient(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	if err := h.store.UpdateClient(ctx, CLIClientID, func(c *storage.Client) error {
		c.RedirectURIs = []string{"http://127.0.0.1/callback", "http://127.0.0.1/mine"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Bootstrap(ctx, h.store, h.srv.hasher, "", h.clock); err != nil {
		t.Fatal(err)
	}
	c, err := h.store.GetClient(ctx, CLIClientID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http://127.0.0.1/mine", "http://localhost", "http://localhost/callback", "http://[::1]/callback"} {
		if !slices.Contains(c.RedirectURIs, want) {
			t.Errorf("redirect URIs after the upgrade = %v, missing %s", c.RedirectURIs, want)
		}
	}
}

// A database that got users before the first start (a viewer added with
// the CLI) still gets its admin, under GATEHOUSE_ADMIN_USER's name, and the
// bootstrap is audited.
func TestBootstrapCreatesAnAdminWhenNoneExists(t *testing.T) {
	ctx := t.Context()
	st := openSQLite(t)
	h := password.NewHasher(testHashParams, 2)
	if err := st.CreateUser(ctx, &storage.User{ID: "v1", Username: "vera", Roles: []string{RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	al := audit.New(&buf, clocktest.New(time.Now()))
	gen, err := BootstrapWith(ctx, st, h, BootstrapOptions{AdminUser: "Root", Audit: al})
	if err != nil || gen == "" {
		t.Fatalf("bootstrap: %q %v", gen, err)
	}
	al.Close()
	u, err := st.GetUserByName(ctx, "root")
	if err != nil || !slices.Contains(u.Roles, RoleAdmin) {
		t.Fatalf("admin user: %+v %v", u, err)
	}
	for _, want := range []string{`"type":"user.created"`, `"type":"client.created"`, `"actor":"bootstrap"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("audit lacks %s:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), gen) {
		t.Error("the audit trail holds the generated password")
	}
	// Once an admin exists nothing more is created.
	if gen, err := BootstrapWith(ctx, st, h, BootstrapOptions{}); err != nil || gen != "" {
		t.Errorf("second start: %q %v", gen, err)
	}
	// No admin and the name taken by a non-admin: a clear error.
	st2 := openSQLite(t)
	if err := st2.CreateUser(ctx, &storage.User{ID: "a1", Username: "admin", Roles: []string{RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	if _, err := BootstrapWith(ctx, st2, h, BootstrapOptions{}); err == nil || !strings.Contains(err.Error(), "set-role") {
		t.Errorf("taken admin name: %v", err)
	}
}
