package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

type usersPasswdOptions struct {
	IO     IOStreams
	Admin  *adminEnv
	Hasher *password.Hasher

	Name          string
	PasswordStdin bool
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string
}

func newUsersPasswdCmd(streams IOStreams) *cobra.Command {
	opts := &usersPasswdOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "passwd NAME [--password-stdin]",
		Short: "Set a user's password",
		Long: `Set a new password for the user NAME, read from the first line of stdin
with --password-stdin or prompted for twice without echo on a terminal.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse users passwd admin
  printf '%s\n' "$NEW_PASSWORD" | gatehouse users passwd alice --password-stdin`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return usersPasswdRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func usersPasswdRun(ctx context.Context, opts *usersPasswdOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	if opts.API != nil {
		u, err := opts.API.getUser(ctx, name)
		if err != nil {
			return apiUserError(name, err)
		}
		if err := userreg.CheckLocalPassword(u); err != nil {
			return err
		}
		pw, err := readNewPassword(ctx, opts.IO, opts.PasswordStdin, u.Username)
		if err != nil {
			return err
		}
		if err := opts.API.setPassword(ctx, u.Username, pw); err != nil {
			return apiUserError(name, err)
		}
		_, err = fmt.Fprintf(opts.IO.Out, "Password of user %q changed.\n", u.Username)
		return err
	}
	env := opts.Admin
	u, err := getUser(ctx, env.Store, name)
	if err != nil {
		return err
	}
	if err := userreg.CheckLocalPassword(u); err != nil {
		return err
	}
	pw, err := readNewPassword(ctx, opts.IO, opts.PasswordStdin, u.Username)
	if err != nil {
		return err
	}
	h := opts.Hasher
	if h == nil {
		h = newHasher()
	}
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		return err
	}
	now := env.now()
	err = env.Store.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		u.PasswordHash = hash
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("update user %q: %w", name, err)
	}
	env.log(audit.Event{Type: audit.UserUpdated, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "password set"}})
	_, err = fmt.Fprintf(opts.IO.Out, "Password of user %q changed.\n", u.Username)
	return err
}
