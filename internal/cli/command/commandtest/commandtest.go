// Package commandtest runs gatehouse commands in-process for tests: the
// command under the real top command (command.NewRoot), on the streams of
// command.NewTestIOStreams.
package commandtest

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// Result is what one in-process run of a command produced.
type Result struct {
	Out, ErrOut string
	Err         error
	// Code is the exit code the binary would exit with.
	Code int
}

// Run executes `gatehouse args...` with cmds under the top command and
// returns what it printed, its error and its exit code. out and errOut are
// the buffers of streams (command.NewTestIOStreams).
func Run(ctx context.Context, streams command.IOStreams, out, errOut *command.Buffer, cmds []*cobra.Command, args ...string) Result {
	root := command.NewRoot(streams, cmds...)
	return Execute(ctx, root, out, errOut, args...)
}

// Execute runs root with args and returns what it printed to out and
// errOut, its error and its exit code.
func Execute(ctx context.Context, root *cobra.Command, out, errOut *command.Buffer, args ...string) Result {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return Result{Out: out.String(), ErrOut: errOut.String(), Err: err, Code: command.ExitCode(err)}
}

// Parse runs `gatehouse args...` with the command newCmd builds on f under
// the top command, its run function replaced by one that records the
// options (the runF seam of every NewCmdX), and returns those options —
// nil when the run function was not reached — and the command's error.
// args start with the command's name.
func Parse[O any](ctx context.Context, f *command.Factory, newCmd func(*command.Factory, func(*O) error) *cobra.Command, args ...string) (*O, error) {
	var got *O
	root := command.NewRoot(f.IOStreams, newCmd(f, func(o *O) error { got = o; return nil }))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return got, err
}
