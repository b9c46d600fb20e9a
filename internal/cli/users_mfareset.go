package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type usersMFAResetOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name string
}

func newUsersMFAResetCmd(streams IOStreams) *cobra.Command {
	opts := &usersMFAResetOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "mfa-reset NAME",
		Short: "Remove a user's two-step verification (TOTP and passkeys)",
		Long: `Remove the TOTP key, the recovery codes and every passkey of the user NAME,
for a user who lost their authenticator. They sign in with the password
alone afterwards, or are asked to enrol again when their role requires it
(mfa.required_roles).` + adminCommandLong + adminAPILong,
		Example: `  gatehouse users mfa-reset alice
  gatehouse users mfa-reset alice --server https://auth.example.com`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return usersMFAResetRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func usersMFAResetRun(ctx context.Context, opts *usersMFAResetOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	if opts.API != nil {
		return usersMFAResetAPI(ctx, opts, name)
	}
	env := opts.Admin
	u, err := getUser(ctx, env.Store, name)
	if err != nil {
		return err
	}
	totp, passkeys, err := storage.ResetMFA(ctx, env.Store, u.ID)
	if err != nil {
		return fmt.Errorf("reset mfa of %q: %w", name, err)
	}
	if !totp && passkeys == 0 {
		_, err = fmt.Fprintf(opts.IO.Out, "User %q has no two-step verification.\n", u.Username)
		return err
	}
	env.log(audit.Event{Type: audit.UserUpdated, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "mfa reset", "passkeys_removed": strconv.Itoa(passkeys)}})
	_, err = fmt.Fprintf(opts.IO.Out, "Two-step verification of user %q removed.\n", u.Username)
	return err
}

// usersMFAResetAPI resets the user's MFA over the admin API, which writes
// the audit event.
func usersMFAResetAPI(ctx context.Context, opts *usersMFAResetOptions, name string) error {
	u, removed, err := opts.API.resetMFA(ctx, name)
	if err != nil {
		return apiUserError(name, err)
	}
	if !removed {
		_, err = fmt.Fprintf(opts.IO.Out, "User %q has no two-step verification.\n", u.Username)
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Two-step verification of user %q removed.\n", u.Username)
	return err
}
