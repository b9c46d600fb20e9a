package admincmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server/adminhttp"
)

// RolesShowOptions are the streams, the backend and the flag values of `gatehouse roles show`.
type RolesShowOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name string
	JSON bool
}

// NewCmdRolesShow is `gatehouse roles show`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdRolesShow(f *command.Factory, runF func(*RolesShowOptions) error) *cobra.Command {
	opts := &RolesShowOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one role",
		Long:  `Show the role NAME: its description and permissions.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles show operator
  gatehouse roles show operator --json`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return rolesShowRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the role as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesShowRun(ctx context.Context, opts *RolesShowOptions) error {
	r, err := opts.Backend.GetRole(ctx, opts.Name)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse roles list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, adminhttp.ToRole(r))
	}
	return printRole(opts.IO, r)
}
