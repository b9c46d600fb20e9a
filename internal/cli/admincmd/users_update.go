package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// UsersUpdateOptions are the streams, the backend and the flag values of `gatehouse users update`.
type UsersUpdateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name    string
	Profile profileFlags
	// Disabled, when set, disables (true) or enables (false) the user.
	Disabled *bool
	JSON     bool
	Server   string
}

// NewCmdUsersUpdate is `gatehouse users update`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersUpdate(f *command.Factory, runF func(*UsersUpdateOptions) error) *cobra.Command {
	opts := &UsersUpdateOptions{IO: f.IOStreams}
	var disabled bool
	cmd := &cobra.Command{
		Use:   "update NAME [--email EMAIL] [--email-verified=true|false] [--name DISPLAY-NAME] [--disabled=true|false]",
		Short: "Set a user's email address or display name, or disable the user",
		Long: `Change the profile of the user NAME: the email, email_verified and name
claims of their next ID tokens and userinfo (scopes email and profile).
Only the flags given change anything; --email "" and --name "" remove the
email address or the name. A new email address is not verified unless
--email-verified is given too. No mail is sent: --email-verified says you
know the address is the user's. An address another user has, in any
case, is refused.

--disabled disables the user: no sign-in, no refresh, sessions and
tokens refused (also for a user of a connector, whatever the directory or
provider says); --disabled=false enables it again. The last enabled admin
cannot be disabled.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users update alice --email alice@example.com --email-verified
  gatehouse users update alice --name "Alice Liddell"
  gatehouse users update alice --email-verified=false
  gatehouse users update alice --email "" --name ""
  gatehouse users update ada --disabled
  gatehouse users update ada --disabled=false`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if cmd.Flags().Changed("disabled") {
				opts.Disabled = &disabled
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersUpdateRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&disabled, "disabled", false, "disable the user (--disabled) or enable it again (--disabled=false)")
	opts.Profile.add(cmd, "whether the email address is known to be the user's (the OIDC email_verified claim): --email-verified or --email-verified=false")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the updated user as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersUpdateRun(ctx context.Context, opts *UsersUpdateOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	profile, err := opts.Profile.profile()
	if err != nil {
		return err
	}
	if profile.IsZero() && opts.Disabled == nil {
		return command.UsageErrorf("nothing to change: give --email, --email-verified, --name or --disabled")
	}
	u, err := opts.Backend.UpdateUser(ctx, name, admin.UserUpdate{Profile: profile, Disabled: opts.Disabled})
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toUserJSON(u))
	}
	status := ""
	if opts.Disabled != nil {
		status = ", enabled"
		if u.Disabled {
			status = ", disabled"
		}
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Updated user %q: %s%s.\n", u.Username, profileSummary(u), status)
	return err
}
