package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server/adminhttp"
)

// RolesListOptions are the streams, the backend and the flag values of `gatehouse roles list`.
type RolesListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	JSON bool
}

// NewCmdRolesList is `gatehouse roles list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdRolesList(f *command.Factory, runF func(*RolesListOptions) error) *cobra.Command {
	opts := &RolesListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the roles",
		Long:  `List the built-in roles and the custom roles with their permissions.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles list
  gatehouse roles list --json | jq -r '.[] | select(.permissions | index("runs:launch")) | .name'`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return rolesListRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of roles")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesListRun(ctx context.Context, opts *RolesListOptions) error {
	roles, err := opts.Backend.ListRoles(ctx)
	if err != nil {
		return fmt.Errorf("list roles: %w", err)
	}
	if opts.JSON {
		views := make([]adminapi.Role, 0, len(roles))
		for _, r := range roles {
			views = append(views, adminhttp.ToRole(r))
		}
		return writeJSON(opts.IO.Out, views)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "NAME\tPERMISSIONS\tDESCRIPTION")
	for _, r := range roles {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, list(r.Permissions), orDash(r.Description))
	}
	return tw.Flush()
}
