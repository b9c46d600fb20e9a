package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type rolesDeleteOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (runAdminBackend).
	Backend adminBackend
	Server  string

	Name string
}

func newRolesDeleteCmd(streams command.IOStreams) *cobra.Command {
	opts := &rolesDeleteOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a custom role",
		Long: `Delete the custom role NAME. It is refused, naming them, while users,
clients or API keys that can still be used hold the role: take it away
first (users set-role, clients delete, apikeys revoke). Built-in roles
cannot be deleted.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles delete operator`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminBackend(cmd, streams, opts.Server, func(ctx context.Context, b adminBackend) error {
				opts.Backend = b
				return rolesDeleteRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesDeleteRun(ctx context.Context, opts *rolesDeleteOptions) error {
	if err := opts.Backend.DeleteRole(ctx, opts.Name); err != nil {
		return adminError(err, "gatehouse roles list")
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Deleted role %q.\n", opts.Name)
	return err
}
