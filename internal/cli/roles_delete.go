package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
)

type rolesDeleteOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name string
}

func newRolesDeleteCmd(streams IOStreams) *cobra.Command {
	opts := &rolesDeleteOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a custom role",
		Long: `Delete the custom role NAME. It is refused, naming them, while users,
clients or API keys that can still be used hold the role: take it away
first (users set-role, clients delete, apikeys revoke). Built-in roles
cannot be deleted.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles delete operator`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return rolesDeleteRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesDeleteRun(ctx context.Context, opts *rolesDeleteOptions) error {
	if opts.API != nil {
		if err := opts.API.deleteRole(ctx, opts.Name); err != nil {
			return apiRoleError(opts.Name, err)
		}
	} else {
		env := opts.Admin
		r, err := rolereg.Delete(ctx, env.Store, env.Clock, opts.Name)
		if err != nil {
			return roleError(opts.Name, err)
		}
		env.log(audit.Event{Type: audit.RoleDeleted, Details: map[string]string{"role": r.Name, "permissions": strings.Join(r.Permissions, " ")}})
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Deleted role %q.\n", opts.Name)
	return err
}
