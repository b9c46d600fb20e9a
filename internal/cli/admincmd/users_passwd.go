package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// UsersPasswdOptions are the streams, the backend and the flag values of `gatehouse users passwd`.
type UsersPasswdOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name          string
	PasswordStdin bool
	Server        string
}

// NewCmdUsersPasswd is `gatehouse users passwd`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersPasswd(f *command.Factory, runF func(*UsersPasswdOptions) error) *cobra.Command {
	opts := &UsersPasswdOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "passwd NAME [--password-stdin]",
		Short: "Set a user's password",
		Long: `Set a new password for the user NAME, read from the first line of stdin
with --password-stdin or prompted for twice without echo on a terminal.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users passwd admin
  printf '%s\n' "$NEW_PASSWORD" | gatehouse users passwd alice --password-stdin`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersPasswdRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersPasswdRun(ctx context.Context, opts *UsersPasswdOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	b := opts.Backend
	u, err := b.GetUser(ctx, name)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	// Refuse a connector user before asking for a password; the admin
	// layer refuses it again.
	if err := userreg.CheckLocalPassword(u); err != nil {
		return err
	}
	pw, err := readNewPassword(ctx, opts.IO, opts.PasswordStdin, u.Username)
	if err != nil {
		return err
	}
	if err := b.SetPassword(ctx, u.Username, pw); err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Password of user %q changed.\n", u.Username)
	return err
}
