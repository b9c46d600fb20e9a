package admincmd

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// Admin commands work where they are told, never where credentials happen
// to point (issue: a stored login silently sent `users add` to a server).
func TestAdminTargetResolution(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	key := addServerAPIKey(t, srv, "admin")

	// Nothing names a target and ./gatehouse-data does not exist here:
	// a usage error that lists the choices — with credentials in reach too.
	for name, env := range map[string]map[string]string{
		"no credentials": {},
		"an API key":     {"GATEHOUSE_API_KEY": key, "GATEHOUSE_ISSUER": srv.URL},
		"client env":     {"GATEHOUSE_CLIENT_ID": "x", "GATEHOUSE_CLIENT_SECRET": "y", "GATEHOUSE_ISSUER": srv.URL},
		"a static token": {"GATEHOUSE_TOKEN": "tok", "GATEHOUSE_ISSUER": srv.URL},
	} {
		h := newHarness(t)
		for k, v := range env {
			h.env[k] = v
		}
		r := h.runCtx(t.Context(), "", "users", "list")
		if r.Code != command.ExitUsage || !strings.Contains(r.Err.Error(), "no admin target") || !strings.Contains(r.Err.Error(), "--server URL") {
			t.Errorf("%s: exit %d %v, want the usage error listing the targets", name, r.Code, r.Err)
		}
	}

	// --server: the admin API, named on stderr.
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = key
	r := h.runCtx(t.Context(), "", "users", "list", "--server", srv.URL)
	if r.Err != nil || !strings.Contains(r.ErrOut, "the admin API of "+srv.URL) || !strings.Contains(r.Out, "admin") {
		t.Fatalf("--server: %v\nstderr: %s\nstdout: %s", r.Err, r.ErrOut, r.Out)
	}
	// --json keeps stdout a JSON document; the target line is on stderr.
	r = h.runCtx(t.Context(), "", "users", "list", "--json", "--server", srv.URL)
	if r.Err != nil || !strings.HasPrefix(strings.TrimSpace(r.Out), "[") {
		t.Errorf("--json: %v %q", r.Err, r.Out)
	}

	// The admin_target setting: a server URL, then a data directory.
	mustRun(t, h, "config", "set", "admin_target", srv.URL)
	r = h.runCtx(t.Context(), "", "users", "list")
	if r.Err != nil || !strings.Contains(r.ErrOut, "the admin API of "+srv.URL) {
		t.Fatalf("admin_target URL: %v\n%s", r.Err, r.ErrOut)
	}
	dir := t.TempDir()
	mustRun(t, h, "config", "set", "admin_target", dir)
	r = h.runCtx(t.Context(), "", "users", "list")
	if r.Err != nil || !strings.Contains(r.ErrOut, "the database in "+dir) {
		t.Fatalf("admin_target DIR: %v\n%s", r.Err, r.ErrOut)
	}
	// Explicit flags win over the setting.
	r = h.runCtx(t.Context(), "", "users", "list", "--data-dir", h.dataDir)
	if r.Err != nil || !strings.Contains(r.ErrOut, "the database in "+h.dataDir) {
		t.Errorf("--data-dir over the setting: %v\n%s", r.Err, r.ErrOut)
	}
	for _, bad := range []string{"ftp://x.example", "postgres://db/x", "https://x.example/?q=1"} {
		if r := h.runCtx(t.Context(), "", "config", "set", "admin_target", bad); r.Code != command.ExitUsage {
			t.Errorf("admin_target %q: exit %d %v, want a usage error", bad, r.Code, r.Err)
		}
	}
}

// A login to one server never authenticates to another's admin API.
func TestAdminAPIRefusesAnotherServersLogin(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	other := servertest.Start(t)
	srv.AddUser(t, "alice", "alice-password-1", "admin")
	h := newHarness(t)
	commandtest.StoreLogin(t, srv, h.env["GATEHOUSE_CONFIG_DIR"], "default", "alice", command.LoginScopes)
	h.env["GATEHOUSE_ISSUER"] = srv.URL
	h.prepare = func(s *command.IOStreams) { s.Clock = srv.Clock }
	r := h.runCtx(t.Context(), "", "users", "list", "--server", other.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "are for "+srv.URL+", not "+other.URL) {
		t.Errorf("login for %s used at %s: %v", srv.URL, other.URL, r.Err)
	}
}

// Shell completion offers values for `config set KEY <TAB>`.
func TestConfigSetCompletesValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.runCtx(t.Context(), "", "__complete", "config", "set", "storage", "")
	for _, v := range []string{"auto", "keyring", "file"} {
		if !strings.Contains(r.Out, v+"\n") {
			t.Errorf("config set storage <TAB>: %q lacks %s", r.Out, v)
		}
	}
	if strings.Contains(r.Out, "browser") {
		t.Errorf("config set storage <TAB> offers setting names again: %q", r.Out)
	}
	r = h.runCtx(t.Context(), "", "__complete", "config", "set", "")
	if !strings.Contains(r.Out, "admin_target\n") || !strings.Contains(r.Out, "storage\n") {
		t.Errorf("config set <TAB>: %q", r.Out)
	}
}

// mustRun runs `gatehouse args...` exactly as given and fails t unless it
// succeeds.
func mustRun(t *testing.T, h *harness, args ...string) result {
	t.Helper()
	r := h.runCtx(t.Context(), "", args...)
	if r.Err != nil {
		t.Fatalf("gatehouse %s: %v\n%s", strings.Join(args, " "), r.Err, r.ErrOut)
	}
	return r
}
