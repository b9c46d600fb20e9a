package commandtest

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Harness runs commands in-process against one data directory, with an
// environment of its own: a configuration directory of its own, so that no
// setting of the person running the tests (admin_target, a login) reaches
// the commands.
type Harness struct {
	t    *testing.T
	root func(command.IOStreams) *cobra.Command

	// DataDir is the data directory Run passes as --data-dir.
	DataDir string
	// Env is the whole environment of the commands; tests add to it.
	Env map[string]string
	// Prepare, if set, adjusts the streams of each run.
	Prepare func(*command.IOStreams)
}

// NewHarness returns a Harness whose runs execute the command tree that
// root builds on their streams (cli.NewRootCmd, or command.NewRoot with a
// group under it).
func NewHarness(t *testing.T, root func(command.IOStreams) *cobra.Command) *Harness {
	t.Helper()
	return &Harness{t: t, root: root, DataDir: t.TempDir(),
		Env: map[string]string{"GATEHOUSE_CONFIG_DIR": t.TempDir(), "GATEHOUSE_AUTH_STORAGE": "file"}}
}

// Run executes `gatehouse args... --data-dir DIR` with stdin.
func (h *Harness) Run(stdin string, args ...string) Result {
	h.t.Helper()
	return h.RunCtx(h.t.Context(), stdin, append(args, "--data-dir", h.DataDir)...)
}

// RunCtx executes `gatehouse args...` as given.
func (h *Harness) RunCtx(ctx context.Context, stdin string, args ...string) Result {
	h.t.Helper()
	streams, out, errOut := command.NewTestIOStreams(stdin)
	streams.Getenv = func(k string) string { return h.Env[k] }
	if h.Prepare != nil {
		h.Prepare(&streams)
	}
	return Execute(ctx, h.root(streams), out, errOut, args...)
}

// OK runs a command (as Run) and fails the test unless it succeeds.
func (h *Harness) OK(stdin string, args ...string) Result {
	h.t.Helper()
	r := h.Run(stdin, args...)
	if r.Err != nil {
		h.t.Fatalf("gatehouse %s: %v (exit %d)\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Code, r.ErrOut)
	}
	return r
}

// Fail runs a command (as Run) that must fail with exit code code and an
// error mentioning want.
func (h *Harness) Fail(code int, want, stdin string, args ...string) Result {
	h.t.Helper()
	r := h.Run(stdin, args...)
	if r.Err == nil {
		h.t.Fatalf("gatehouse %s succeeded, want exit %d\nstdout:\n%s", strings.Join(args, " "), code, r.Out)
	}
	if r.Code != code {
		h.t.Errorf("gatehouse %s: exit %d, want %d (error: %v)", strings.Join(args, " "), r.Code, code, r.Err)
	}
	if !strings.Contains(r.Err.Error(), want) {
		h.t.Errorf("gatehouse %s: error %q does not mention %q", strings.Join(args, " "), r.Err, want)
	}
	return r
}

// Store opens the harness database directly, closing it at the end of the
// test.
func (h *Harness) Store() storage.Store {
	h.t.Helper()
	cfg := config.Default()
	cfg.DataDir = h.DataDir
	st, _, err := server.OpenStore(h.t.Context(), &cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return st
}
