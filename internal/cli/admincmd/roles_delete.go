package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// RolesDeleteOptions are the streams, the backend and the flag values of `gatehouse roles delete`.
type RolesDeleteOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name string
}

// NewCmdRolesDelete is `gatehouse roles delete`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdRolesDelete(f *command.Factory, runF func(*RolesDeleteOptions) error) *cobra.Command {
	opts := &RolesDeleteOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a custom role",
		Long: `Delete the custom role NAME. It is refused, naming them, while users,
clients or API keys that can still be used hold the role: take it away
first (users set-role, clients delete, apikeys revoke). Built-in roles
cannot be deleted.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles delete operator`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return rolesDeleteRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesDeleteRun(ctx context.Context, opts *RolesDeleteOptions) error {
	if err := opts.Backend.DeleteRole(ctx, opts.Name); err != nil {
		return adminbackend.CommandError(err, "gatehouse roles list")
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Deleted role %q.\n", opts.Name)
	return err
}
