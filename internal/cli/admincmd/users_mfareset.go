package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// UsersMFAResetOptions are the streams, the backend and the flag values of `gatehouse users mfa-reset`.
type UsersMFAResetOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name string
}

// NewCmdUsersMFAReset is `gatehouse users mfa-reset`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersMFAReset(f *command.Factory, runF func(*UsersMFAResetOptions) error) *cobra.Command {
	opts := &UsersMFAResetOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "mfa-reset NAME",
		Short: "Remove a user's two-step verification (TOTP and passkeys)",
		Long: `Remove the TOTP key, the recovery codes and every passkey of the user NAME,
for a user who lost their authenticator. They sign in with the password
alone afterwards, or are asked to enrol again when their role requires it
(mfa.required_roles).` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users mfa-reset alice
  gatehouse users mfa-reset alice --server https://auth.example.com`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersMFAResetRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersMFAResetRun(ctx context.Context, opts *UsersMFAResetOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	u, removed, err := opts.Backend.ResetMFA(ctx, name)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	if !removed {
		_, err = fmt.Fprintf(opts.IO.Out, "User %q has no two-step verification.\n", u.Username)
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Two-step verification of user %q removed.\n", u.Username)
	return err
}
