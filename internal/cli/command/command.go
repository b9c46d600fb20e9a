// Package command is what every gatehouse command is built on: the
// Factory of its dependencies, the one IOStreams type, usage errors and
// exit codes, and the wiring of the top command (NewRoot).
//
// A command lives in the package of its group (internal/cli/jwtcmd,
// internal/cli/clientcmd, ...) as a NewCmdX(f *Factory, runF func(*XOptions)
// error) constructor, an XOptions struct (IOStreams, dependencies, flag
// values) and an xRun function that does the work. The constructor binds
// the flags to the options; its RunE calls runF when one is given and xRun
// otherwise, so that a test passes a runF to see what the flags parsed to
// without running anything, and runs the whole command in-process
// (NewRoot, NewTestIOStreams) to test its behaviour.
//
// Commands return errors; they never print them or exit. cmd/gatehouse
// prints the error once with PrintError and exits with ExitCode(err); bad
// input is a *UsageError (ExitUsage).
package command

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
)

// Factory is what the commands are built from: the streams of the process
// and the dependencies shared by several groups. NewRootCmd (package cli)
// builds the real one; tests build their own.
type Factory struct {
	// IOStreams are the standard streams, the terminal, the environment
	// and the clock.
	IOStreams IOStreams
	// Auth is the client side of the binary (package cliauth under the
	// name gatehouse): the credentials in force for the commands that call
	// a server with the user's login (api, account, credential-helper).
	Auth *cliauth.App
	// Version is the release version of the binary.
	Version string
}

// NewRoot returns the top command, gatehouse, with cmds under it and the
// behaviour every command relies on: the streams of the process, errors
// neither printed nor followed by the usage (cmd/gatehouse prints them
// once), and flag errors, unknown commands and usage errors returned by a
// run function all as a *UsageError naming the command. NewRootCmd
// (package cli) gives it its help text and every group; a group's tests put
// only that group under it.
func NewRoot(streams IOStreams, cmds ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &UsageError{Command: cmd.CommandPath(), Err: err}
	})
	Group(root)
	root.AddCommand(cmds...)
	annotateUsageErrors(root)
	return root
}

// Group makes cmd a command group: without arguments it prints its help,
// with an unknown subcommand it fails with a usage error (cobra alone
// would print the help and succeed).
func Group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// UsageArgs turns the errors of a cobra argument validator into usage
// errors.
func UsageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &UsageError{Command: cmd.CommandPath(), Err: err}
		}
		return nil
	}
}

// unknownCommand is the usage error for an unknown subcommand of c, with
// cobra's "did you mean" suggestions (Levenshtein distance 2, prefixes and
// SuggestFor).
func unknownCommand(c *cobra.Command, name string) error {
	msg := "unknown command \"" + name + "\" for \"" + c.CommandPath() + "\""
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return &UsageError{Command: c.CommandPath(), Err: errors.New(msg)}
}

// annotateUsageErrors wraps the RunE of every command so that a usage error
// returned by its run function names the command, for PrintError's hint.
func annotateUsageErrors(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		annotateUsageErrors(c)
	}
	run := cmd.RunE
	if run == nil {
		return
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		err := run(c, args)
		var ue *UsageError
		if errors.As(err, &ue) && ue.Command == "" {
			ue.Command = c.CommandPath()
		}
		return err
	}
}
