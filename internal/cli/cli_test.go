package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// result is what one in-process run of the command tree produced.
type result struct {
	Out, ErrOut string
	Err         error
	Code        int
}

// harness runs commands in-process against one data directory.
type harness struct {
	t       *testing.T
	dataDir string
	env     map[string]string
	// prepare, if set, adjusts the streams of each run.
	prepare func(*command.IOStreams)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// A configuration directory of its own: no setting of the person
	// running the tests (admin_target, a login) reaches the commands.
	return &harness{t: t, dataDir: t.TempDir(), env: map[string]string{"GATEHOUSE_CONFIG_DIR": t.TempDir(), "GATEHOUSE_AUTH_STORAGE": "file"}}
}

// run executes `gatehouse args... --data-dir DIR` with stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	return h.runCtx(h.t.Context(), stdin, append(args, "--data-dir", h.dataDir)...)
}

// runCtx executes `gatehouse args...` as given.
func (h *harness) runCtx(ctx context.Context, stdin string, args ...string) result {
	h.t.Helper()
	streams, out, errOut := command.NewTestIOStreams(stdin)
	streams.Getenv = func(k string) string { return h.env[k] }
	if h.prepare != nil {
		h.prepare(&streams)
	}
	root := NewRootCmd(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return result{Out: out.String(), ErrOut: errOut.String(), Err: err, Code: command.ExitCode(err)}
}

// ok runs a command and fails the test unless it succeeds.
func (h *harness) ok(stdin string, args ...string) result {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.Err != nil {
		h.t.Fatalf("gatehouse %s: %v (exit %d)\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Code, r.ErrOut)
	}
	return r
}

// fail runs a command that must fail with exit code code and an error
// mentioning want.
func (h *harness) fail(code int, want, stdin string, args ...string) result {
	h.t.Helper()
	r := h.run(stdin, args...)
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

// store opens the harness database directly, closing it at the end of the
// test.
func (h *harness) store() storage.Store {
	h.t.Helper()
	cfg := config.Default()
	cfg.DataDir = h.dataDir
	st, _, err := server.OpenStore(h.t.Context(), &cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	return st
}
