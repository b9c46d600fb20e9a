package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type usersSetRoleOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API *adminAPI

	Name   string
	Roles  []string
	Server string
}

func newUsersSetRoleCmd(streams IOStreams) *cobra.Command {
	opts := &usersSetRoleOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "set-role NAME ROLE...",
		Short: "Replace a user's roles",
		Long: `Give the user NAME exactly the roles listed (admin, editor, viewer or custom roles),
replacing the ones it had. The last admin cannot lose the admin role. The
new roles are in the user's next tokens.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse users set-role alice editor
  gatehouse users set-role bob admin viewer`,
		Args: usageArgs(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.Roles = args[0], args[1:]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return usersSetRoleRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func usersSetRoleRun(ctx context.Context, opts *usersSetRoleOptions) error {
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
		return usageErrorf("give at least one role: admin, editor or viewer")
	}
	if opts.API != nil {
		u, err := opts.API.setRoles(ctx, name, roles)
		if apiStatus(err, http.StatusConflict) {
			return fmt.Errorf("cannot remove the admin role from %q: it is the last admin; give another user the admin role first", name)
		}
		if err != nil {
			return apiUserError(name, err)
		}
		_, err = fmt.Fprintf(opts.IO.Out, "User %q now has roles %s.\n%s", u.Username, strings.Join(roles, ", "), connectorRolesNote(u))
		return err
	}
	env := opts.Admin
	if err := checkRolesExist(ctx, env.Store, roles); err != nil {
		return err
	}
	u, err := getUser(ctx, env.Store, name)
	if err != nil {
		return err
	}
	now := env.now()
	err = env.Store.UpdateUserKeepingRole(ctx, u.ID, server.RoleAdmin, func(u *storage.User) error {
		u.Roles = roles
		u.UpdatedAt = now
		return nil
	})
	if errors.Is(err, storage.ErrLastRoleHolder) {
		return fmt.Errorf("cannot remove the admin role from %q: it is the last admin; give another user the admin role first", u.Username)
	}
	if err != nil {
		return fmt.Errorf("update user %q: %w", name, err)
	}
	env.log(audit.Event{Type: audit.UserUpdated, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "roles set", "roles": strings.Join(roles, " "), "previous_roles": strings.Join(u.Roles, " ")}})
	_, err = fmt.Fprintf(opts.IO.Out, "User %q now has roles %s.\n%s", u.Username, strings.Join(roles, ", "), connectorRolesNote(u))
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
