package admincmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// NewCmdRoles is the `gatehouse roles` group.
func NewCmdRoles(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "roles",
		Short: "Manage custom roles",
		Long: `Create, list, change and delete custom roles. A role is a named set of
permissions: scope-like strings such as runs:launch or assets:materialize
(RFC 6749 §3.3 scope tokens). Give roles to users (users add --role,
users set-role), clients (clients create --role) and API keys (apikeys
create --role); their access tokens, introspection and userinfo then carry
a "permissions" claim, the sorted union of the permissions of their roles.

Role names are lower case: [a-z][a-z0-9_.-], at most 64 characters. The
built-in roles admin, editor and viewer always exist, carry no permissions
and cannot be changed or deleted. A role still held by a user, a client or
a usable API key cannot be deleted. A change shows in tokens issued after
it; tokens issued before keep their permissions until they expire.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles create operator --permission runs:launch --permission assets:materialize \
      --description "Runs and materializes pipelines"
  gatehouse users set-role alice editor operator
  gatehouse roles list
  gatehouse roles show operator --json
  gatehouse roles update operator --add-permission runs:cancel --remove-permission assets:materialize
  gatehouse roles delete operator`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.AddCommand(
		NewCmdRolesCreate(f, nil),
		NewCmdRolesList(f, nil),
		NewCmdRolesShow(f, nil),
		NewCmdRolesUpdate(f, nil),
		NewCmdRolesDelete(f, nil),
	)
	return cmd
}

// checkRolesExist fails with a usage error naming the known roles when
// one of roles is neither built in nor stored (database mode; the admin
// API checks the same on the server).
func checkRolesExist(ctx context.Context, st rolereg.Lister, roles []string) error {
	err := rolereg.Check(ctx, st, roles)
	var unknown *rolereg.UnknownError
	if errors.As(err, &unknown) {
		return command.UsageErrorf("%w", err)
	}
	return err
}

// printRole prints a role as a table of fields.
func printRole(opts command.IOStreams, r *storage.Role) error {
	tw := newTable(opts.Out)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Name", r.Name)
	row("Description", orDash(r.Description))
	row("Permissions", orDash(strings.Join(r.Permissions, " ")))
	row("Built in", yesNo(rolereg.IsBuiltin(r.Name)))
	if !r.CreatedAt.IsZero() {
		row("Created", jsonTime(r.CreatedAt))
		row("Updated", jsonTime(r.UpdatedAt))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// permissionsText lists permissions for a message.
func permissionsText(perms []string) string {
	if len(perms) == 0 {
		return "no permissions"
	}
	return "permissions " + strings.Join(perms, ", ")
}
