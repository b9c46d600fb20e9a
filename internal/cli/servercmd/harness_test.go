package servercmd

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// newRoot is the top command with this package's commands under it.
func newRoot(streams command.IOStreams) *cobra.Command {
	f := &command.Factory{IOStreams: streams}
	return command.NewRoot(streams, NewCmdServer(f, nil), NewCmdProxy(f, nil), NewCmdDemoApp(f, nil), NewCmdHealthcheck(f, nil))
}

// newHarness runs this package's commands in-process on a data directory
// and an environment of their own.
func newHarness(t *testing.T) *commandtest.Harness {
	t.Helper()
	return commandtest.NewHarness(t, newRoot)
}
