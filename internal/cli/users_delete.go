package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type usersDeleteOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (runAdminBackend).
	Backend adminBackend

	Name   string
	Server string
}

func newUsersDeleteCmd(streams command.IOStreams) *cobra.Command {
	opts := &usersDeleteOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a local user",
		Long: `Delete the user NAME with their sessions, grants (so their refresh tokens
stop working) and consents. The last admin cannot be deleted.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse users delete alice`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminBackend(cmd, streams, opts.Server, func(ctx context.Context, b adminBackend) error {
				opts.Backend = b
				return usersDeleteRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func usersDeleteRun(ctx context.Context, opts *usersDeleteOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	if err := opts.Backend.DeleteUser(ctx, name); err != nil {
		return adminError(err, "gatehouse users list")
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted user %q.\n", name)
	return err
}
