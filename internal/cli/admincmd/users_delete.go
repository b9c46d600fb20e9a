package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// UsersDeleteOptions are the streams, the backend and the flag values of `gatehouse users delete`.
type UsersDeleteOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name   string
	Server string
}

// NewCmdUsersDelete is `gatehouse users delete`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersDelete(f *command.Factory, runF func(*UsersDeleteOptions) error) *cobra.Command {
	opts := &UsersDeleteOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a local user",
		Long: `Delete the user NAME with their sessions, grants (so their refresh tokens
stop working) and consents. The last admin cannot be deleted.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users delete alice`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersDeleteRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersDeleteRun(ctx context.Context, opts *UsersDeleteOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	if err := opts.Backend.DeleteUser(ctx, name); err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted user %q.\n", name)
	return err
}
