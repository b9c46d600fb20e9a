package admincmd

import (
	"context"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// result is what one in-process run of the command tree produced.
type result = commandtest.Result

// harness runs the whole command tree in-process against one data
// directory (commandtest.Harness under the names the tests of this package
// use).
type harness struct {
	h       *commandtest.Harness
	t       *testing.T
	dataDir string
	env     map[string]string
	// prepare, if set, adjusts the streams of each run.
	prepare func(*command.IOStreams)
}

// newTestRoot is the command tree of these tests: the admin groups and
// the login commands of the client side (config set admin_target, login),
// on a Factory of streams.
func newTestRoot(streams command.IOStreams) *cobra.Command {
	auth := command.NewAuth(streams, adminbackend.TargetSetting())
	f := &command.Factory{IOStreams: streams, Auth: auth}
	cmds := append(auth.Commands(),
		NewCmdClients(f), NewCmdUsers(f), NewCmdRoles(f), NewCmdAPIKeys(f), NewCmdKeys(f), NewCmdAudit(f))
	return command.NewRoot(streams, cmds...)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, h: commandtest.NewHarness(t, newTestRoot)}
	h.dataDir, h.env = h.h.DataDir, h.h.Env
	h.h.Prepare = func(s *command.IOStreams) {
		if h.prepare != nil {
			h.prepare(s)
		}
	}
	return h
}

// run executes `gatehouse args... --data-dir DIR` with stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	return h.h.Run(stdin, args...)
}

// runCtx executes `gatehouse args...` as given.
func (h *harness) runCtx(ctx context.Context, stdin string, args ...string) result {
	h.t.Helper()
	return h.h.RunCtx(ctx, stdin, args...)
}

// ok runs a command and fails the test unless it succeeds.
func (h *harness) ok(stdin string, args ...string) result {
	h.t.Helper()
	return h.h.OK(stdin, args...)
}

// fail runs a command that must fail with exit code code and an error
// mentioning want.
func (h *harness) fail(code int, want, stdin string, args ...string) result {
	h.t.Helper()
	return h.h.Fail(code, want, stdin, args...)
}

// store opens the harness database directly, closing it at the end of the
// test.
func (h *harness) store() storage.Store {
	h.t.Helper()
	return h.h.Store()
}

// parse runs `gatehouse args...` with the command newCmd builds alone
// under the top command, its run function replaced by one that records the
// options (commandtest.Parse), and returns them; it fails the test unless
// the command got that far. args start with the command's name.
func parse[O any](t *testing.T, newCmd func(*command.Factory, func(*O) error) *cobra.Command, args ...string) *O {
	t.Helper()
	streams, _, _ := command.NewTestIOStreams("")
	got, err := commandtest.Parse(t.Context(), &command.Factory{IOStreams: streams}, newCmd, args...)
	if err != nil || got == nil {
		t.Fatalf("gatehouse %v: %v (options %v)", args, err, got)
	}
	return got
}

// parseFails runs args as parse does and checks that the command stops
// with a usage error before its run function.
func parseFails[O any](t *testing.T, newCmd func(*command.Factory, func(*O) error) *cobra.Command, args ...string) {
	t.Helper()
	streams, _, _ := command.NewTestIOStreams("")
	got, err := commandtest.Parse(t.Context(), &command.Factory{IOStreams: streams}, newCmd, args...)
	if got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("gatehouse %v: options %+v, error %v; want a usage error before the run function", args, got, err)
	}
}
