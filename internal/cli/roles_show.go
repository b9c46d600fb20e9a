package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

type rolesShowOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (runAdminBackend).
	Backend adminBackend
	Server  string

	Name string
	JSON bool
}

func newRolesShowCmd(streams command.IOStreams) *cobra.Command {
	opts := &rolesShowOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one role",
		Long:  `Show the role NAME: its description and permissions.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles show operator
  gatehouse roles show operator --json`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminBackend(cmd, streams, opts.Server, func(ctx context.Context, b adminBackend) error {
				opts.Backend = b
				return rolesShowRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the role as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesShowRun(ctx context.Context, opts *rolesShowOptions) error {
	r, err := opts.Backend.GetRole(ctx, opts.Name)
	if err != nil {
		return adminError(err, "gatehouse roles list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, server.ToAdminRole(r))
	}
	return printRole(opts.IO, r)
}
