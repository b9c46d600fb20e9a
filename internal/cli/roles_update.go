package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type rolesUpdateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name   string
	Add    []string
	Remove []string
	// Description is set only when --description was given.
	Description *string
	JSON        bool
}

func newRolesUpdateCmd(streams IOStreams) *cobra.Command {
	opts := &rolesUpdateOptions{IO: streams}
	var description string
	cmd := &cobra.Command{
		Use:   "update NAME [--add-permission P]... [--remove-permission P]... [--description D]",
		Short: "Change a custom role",
		Long: `Add permissions to and remove permissions from the custom role NAME, or
change its description. A permission both added and removed is added. The
new permissions are in the tokens issued after the change; tokens issued
before keep theirs until they expire. Built-in roles cannot be changed.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles update operator --add-permission runs:cancel
  gatehouse roles update operator --remove-permission assets:materialize --description "Runs pipelines"`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if cmd.Flags().Changed("description") {
				opts.Description = &description
			}
			if len(opts.Add) == 0 && len(opts.Remove) == 0 && opts.Description == nil {
				return &UsageError{Command: cmd.CommandPath(), Err: fmt.Errorf("nothing to change: give --add-permission, --remove-permission or --description")}
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return rolesUpdateRun(ctx, opts)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Add, "add-permission", nil, "`PERMISSION` to add; repeat for several")
	f.StringArrayVar(&opts.Remove, "remove-permission", nil, "`PERMISSION` to remove; repeat for several")
	f.StringVar(&description, "description", "", "new description (`TEXT`; empty clears it)")
	f.BoolVar(&opts.JSON, "json", false, "print the changed role as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesUpdateRun(ctx context.Context, opts *rolesUpdateOptions) error {
	// Check the input before asking the server or opening a transaction,
	// so both modes fail alike.
	probe := &storage.Role{Name: opts.Name}
	if err := rolereg.Edit(probe, opts.Add, nil, opts.Description); err != nil {
		return roleError(opts.Name, err)
	}
	var after storage.Role
	if opts.API != nil {
		r, err := opts.API.updateRole(ctx, opts.Name, opts.Add, opts.Remove, opts.Description)
		if err != nil {
			return apiRoleError(opts.Name, err)
		}
		after = *r
	} else {
		env := opts.Admin
		now := env.now()
		var before storage.Role
		err := env.Store.UpdateRole(ctx, opts.Name, func(cur *storage.Role) error {
			before = *cur
			if err := rolereg.Edit(cur, opts.Add, opts.Remove, opts.Description); err != nil {
				return err
			}
			cur.UpdatedAt = now
			after = *cur
			return nil
		})
		if err != nil {
			return roleError(opts.Name, err)
		}
		env.log(audit.Event{Type: audit.RoleUpdated, Details: map[string]string{"role": opts.Name,
			"permissions": strings.Join(after.Permissions, " "), "previous_permissions": strings.Join(before.Permissions, " ")}})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, server.ToAdminRole(&after))
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Role %q now has %s.\n", after.Name, permissionsText(after.Permissions))
	return err
}
