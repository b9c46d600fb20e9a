package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type rolesCreateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	Name        string
	Permissions []string
	Description string
	JSON        bool
}

func newRolesCreateCmd(streams IOStreams) *cobra.Command {
	opts := &rolesCreateOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "create NAME [--permission P]... [--description D]",
		Short: "Create a custom role",
		Long: `Create the custom role NAME with the permissions given (none is fine:
add them later with 'gatehouse roles update'). NAME is lower case,
[a-z][a-z0-9_.-], and not admin, editor or viewer. A permission is an
RFC 6749 §3.3 scope token: printable ASCII without space, " or \.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse roles create operator --permission runs:launch --permission assets:materialize
  gatehouse roles create auditor --permission read --description "Reads everything" --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return rolesCreateRun(ctx, opts)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Permissions, "permission", nil, "`PERMISSION` of the role; repeat for several")
	f.StringVar(&opts.Description, "description", "", "what the role is for (`TEXT`)")
	f.BoolVar(&opts.JSON, "json", false, "print the new role as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesCreateRun(ctx context.Context, opts *rolesCreateOptions) error {
	r := &storage.Role{Name: opts.Name, Description: opts.Description, Permissions: opts.Permissions}
	// Check before asking the server or opening a transaction, so both
	// modes fail alike.
	if err := rolereg.Normalize(r); err != nil {
		return roleError(r.Name, err)
	}
	if opts.API != nil {
		created, err := opts.API.createRole(ctx, r.Name, r.Description, r.Permissions)
		if err != nil {
			return apiRoleError(r.Name, err)
		}
		r = created
	} else {
		env := opts.Admin
		r.CreatedAt = env.now()
		r.UpdatedAt = r.CreatedAt
		if err := env.Store.CreateRole(ctx, r); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return fmt.Errorf("role %q already exists", r.Name)
			}
			return fmt.Errorf("create role %q: %w", r.Name, err)
		}
		env.log(audit.Event{Type: audit.RoleCreated, Details: map[string]string{"role": r.Name, "permissions": strings.Join(r.Permissions, " ")}})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, server.ToAdminRole(r))
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Created role %q with %s.\n", r.Name, permissionsText(r.Permissions))
	return err
}
