package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// UsersSetRoleOptions are the streams, the backend and the flag values of `gatehouse users set-role`.
type UsersSetRoleOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	Name   string
	Roles  []string
	Server string
}

// NewCmdUsersSetRole is `gatehouse users set-role`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdUsersSetRole(f *command.Factory, runF func(*UsersSetRoleOptions) error) *cobra.Command {
	opts := &UsersSetRoleOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "set-role NAME ROLE...",
		Short: "Replace a user's roles",
		Long: `Give the user NAME exactly the roles listed (admin, editor, viewer or custom roles),
replacing the ones it had. The last admin cannot lose the admin role. The
new roles are in the user's next tokens.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse users set-role alice editor
  gatehouse users set-role bob admin viewer`,
		Args: command.UsageArgs(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Roles = args[0], args[1:]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return usersSetRoleRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func usersSetRoleRun(ctx context.Context, opts *UsersSetRoleOptions) error {
	name, err := normalizeUsername(opts.Name)
	if err != nil {
		return err
	}
	var split []string
	for _, r := range opts.Roles {
		split = append(split, strings.Split(r, ",")...)
	}
	roles, err := checkRoles(split)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return command.UsageErrorf("give at least one role: admin, editor or viewer")
	}
	u, err := opts.Backend.UpdateUser(ctx, name, admin.UserUpdate{Roles: &roles})
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse users list")
	}
	_, err = fmt.Fprintf(opts.IO.Out, "User %q now has roles %s.\n%s", u.Username, strings.Join(u.Roles, ", "), connectorRolesNote(u))
	return err
}

// connectorRolesNote warns that a connector user's roles come from the
// connector's role rules, which replace roles set by hand at the next
// sign-in (docs/connectors.md); "" for a local user.
func connectorRolesNote(u *storage.User) string {
	if u.ConnectorID == "" {
		return ""
	}
	return fmt.Sprintf("Note: %q signs in through connector %s, whose role_rules replace these roles at the next sign-in (and refresh, for LDAP); change the rules to make this last.\n",
		u.Username, u.ConnectorID)
}
