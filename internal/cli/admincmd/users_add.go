package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// UsersAddOptions are the streams, the backend and the flag values of `gatehouse users add`.
type UsersAddOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name          string
	Roles         []string
	Profile       profileFlags
	PasswordStdin bool
	// Connector pre-creates a user of that connector (no password).
	Connector string
	JSON      bool
	Server    string
}

// NewCmdUsersAdd is `gatehouse users add`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersAdd(f *command.Factory, runF func(*UsersAddOptions) error) *cobra.Command {
	opts := &UsersAddOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "add NAME [--role ROLE]... [--email EMAIL [--email-verified]] [--name DISPLAY-NAME] [--password-stdin | --connector ID]",
		Short: "Add a local user",
		Long: `Add a local user called NAME (stored in lower case) with a password and
roles (default viewer), and optionally an email address and a display name:
the email, email_verified and name claims of the user's ID tokens and
userinfo (scopes email and profile). No mail is sent: --email-verified
says you know the address is the user's.

The password is read from the first line of stdin with --password-stdin;
otherwise it is prompted for twice without echo, which needs a terminal.
It must be at least 8 characters long.

With --connector ID the user signs in through that connector (an LDAP
directory or an OpenID Connect provider of the server's connectors: list)
and has no password here. The first sign-in through the connector whose
username equals NAME, or whose verified email equals --email, links the
user; from then on its roles come from the connector's role_rules at every
sign-in (see docs/connectors.md). Pre-create users to disable them before
their first sign-in, or to keep a username for a person.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  # Prompt for the password
  gatehouse users add alice --role editor

  # In a script
  printf '%s\n' "$PASSWORD" | gatehouse users add bob --role admin --password-stdin --json

  # With the profile OpenID Connect clients see
  gatehouse users add carol --email carol@example.com --email-verified --name "Carol Ann"

  # A person of the LDAP connector "corp", linked at her first sign-in
  gatehouse users add ada --connector corp

  # A person of the Google connector, linked by verified email
  gatehouse users add grace --connector google --email grace@example.com`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersAddRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringSliceVar(&opts.Roles, "role", nil, "`ROLE` of the user (admin, editor, viewer or a custom role, see gatehouse roles); repeat or separate with commas (default viewer)")
	opts.Profile.add(cmd, "the email address is known to be the user's (the OIDC email_verified claim)")
	flags.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin")
	flags.StringVar(&opts.Connector, "connector", "", "pre-create a user of connector `ID` (no password; linked at the first sign-in, roles from the connector's role_rules)")
	flags.BoolVar(&opts.JSON, "json", false, "print the new user as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersAddRun(ctx context.Context, opts *UsersAddOptions) error {
	if opts.Connector != "" && opts.PasswordStdin {
		return command.UsageErrorf("--connector and --password-stdin cannot be used together: a connector user has no password here")
	}
	profile, err := opts.Profile.profile()
	if err != nil {
		return err
	}
	nu := admin.NewUser{Username: opts.Name, Roles: opts.Roles, Connector: opts.Connector, Profile: profile}
	if len(nu.Roles) == 0 && nu.Connector == "" {
		nu.Roles = []string{server.RoleViewer}
	}
	// Check what can be checked before asking for a password.
	if nu, err = nu.Check(); err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	b := opts.Backend
	if _, err := b.GetUser(ctx, nu.Username); err == nil {
		return fmt.Errorf("user %q already exists; change the password with 'gatehouse users passwd %s'", nu.Username, nu.Username)
	} else if admin.KindOf(err) != admin.NotFound {
		return fmt.Errorf("get user %q: %w", nu.Username, err)
	}
	if nu.Connector == "" {
		if nu.Password, err = readNewPassword(ctx, opts.IO, opts.PasswordStdin, nu.Username); err != nil {
			return err
		}
	}
	u, err := b.CreateUser(ctx, nu)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	return usersAddPrint(opts, u, profile)
}

// usersAddPrint prints the new user u.
func usersAddPrint(opts *UsersAddOptions, u *storage.User, profile userreg.Profile) error {
	if opts.JSON {
		return writeJSON(opts.IO.Out, toUserJSON(u))
	}
	var err error
	if u.ConnectorID != "" {
		_, err = fmt.Fprintf(opts.IO.Out, "Added user %q of connector %s; the first sign-in through %s links it, and its roles then come from the connector's role_rules.\n",
			u.Username, u.ConnectorID, u.ConnectorID)
	} else {
		_, err = fmt.Fprintf(opts.IO.Out, "Added user %q with roles %s.\n", u.Username, strings.Join(u.Roles, ", "))
	}
	if err == nil && !profile.IsZero() {
		_, err = fmt.Fprintf(opts.IO.Out, "Profile: %s.\n", profileSummary(u))
	}
	return err
}
