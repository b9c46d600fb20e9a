package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// UsersShowOptions are the streams, the backend and the flag values of `gatehouse users show`.
type UsersShowOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name   string
	JSON   bool
	Server string
}

// NewCmdUsersShow is `gatehouse users show`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersShow(f *command.Factory, runF func(*UsersShowOptions) error) *cobra.Command {
	opts := &UsersShowOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a local user",
		Long: `Show the user NAME: id, roles, whether they are disabled, and their
profile (email, whether it is verified, display name).` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users show alice
  gatehouse users show alice --json | jq -r .email`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersShowRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the user as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersShowRun(ctx context.Context, opts *UsersShowOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	u, err := opts.Backend.GetUser(ctx, name)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toUserJSON(u))
	}
	status := "active"
	if u.Disabled {
		status = "disabled"
	}
	verified := "no"
	if u.EmailVerified {
		verified = "yes"
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintf(tw, "Username:\t%s\n", u.Username)
	fmt.Fprintf(tw, "ID:\t%s\n", u.ID)
	fmt.Fprintf(tw, "Name:\t%s\n", orDash(u.Name))
	fmt.Fprintf(tw, "Email:\t%s\n", orDash(u.Email))
	if u.Email != "" {
		fmt.Fprintf(tw, "Email verified:\t%s\n", verified)
	}
	fmt.Fprintf(tw, "Roles:\t%s\n", list(u.Roles))
	if u.ConnectorID != "" {
		link := "not linked yet: the first sign-in with a matching username or verified email links it"
		if u.ConnectorSubject != "" {
			link = "linked to " + u.ConnectorSubject
		}
		fmt.Fprintf(tw, "Connector:\t%s (%s)\n", u.ConnectorID, link)
		fmt.Fprintf(tw, "Groups:\t%s\n", list(u.Groups))
	}
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	fmt.Fprintf(tw, "Created:\t%s\n", orDash(jsonTime(u.CreatedAt)))
	fmt.Fprintf(tw, "Updated:\t%s\n", orDash(jsonTime(u.UpdatedAt)))
	return tw.Flush()
}
