package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type rolesShowOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name string
	JSON bool
}

func newRolesShowCmd(streams IOStreams) *cobra.Command {
	opts := &rolesShowOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show one role",
		Long:  `Show the role NAME: its description and permissions.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles show operator
  gatehouse roles show operator --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return rolesShowRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the role as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesShowRun(ctx context.Context, opts *rolesShowOptions) error {
	var (
		r   *storage.Role
		err error
	)
	if opts.API != nil {
		r, err = opts.API.getRole(ctx, opts.Name)
		err = apiRoleError(opts.Name, err)
	} else {
		r, err = rolereg.Get(ctx, opts.Admin.Store, opts.Name)
		err = roleError(opts.Name, err)
	}
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, server.ToAdminRole(r))
	}
	return printRole(opts.IO, r)
}
