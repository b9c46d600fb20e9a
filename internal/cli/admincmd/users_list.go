package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// UsersListOptions are the streams, the backend and the flag values of `gatehouse users list`.
type UsersListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	JSON   bool
	Server string
}

// NewCmdUsersList is `gatehouse users list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersList(f *command.Factory, runF func(*UsersListOptions) error) *cobra.Command {
	opts := &UsersListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the local users",
		Long: `List the local users with their display names, email addresses, roles and
whether they are disabled.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users list
  gatehouse users list --json | jq -r '.[] | select(.roles | index("admin")) | .username'`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersListRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of users")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersListRun(ctx context.Context, opts *UsersListOptions) error {
	users, err := opts.Backend.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if opts.JSON {
		views := make([]userJSON, 0, len(users))
		for _, u := range users {
			views = append(views, toUserJSON(u))
		}
		return writeJSON(opts.IO.Out, views)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tROLES\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, orDash(u.Name), orDash(u.Email), list(u.Roles), status, orDash(jsonTime(u.CreatedAt)))
	}
	return tw.Flush()
}
