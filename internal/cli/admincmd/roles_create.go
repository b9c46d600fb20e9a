package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server/adminhttp"
)

// RolesCreateOptions are the streams, the backend and the flag values of `gatehouse roles create`.
type RolesCreateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name        string
	Permissions []string
	Description string
	JSON        bool
}

// NewCmdRolesCreate is `gatehouse roles create`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdRolesCreate(f *command.Factory, runF func(*RolesCreateOptions) error) *cobra.Command {
	opts := &RolesCreateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "create NAME [--permission P]... [--description D]",
		Short: "Create a custom role",
		Long: `Create the custom role NAME with the permissions given (none is fine:
add them later with 'gatehouse roles update'). NAME is lower case,
[a-z][a-z0-9_.-], and not admin, editor or viewer. A permission is an
RFC 6749 §3.3 scope token: printable ASCII without space, " or \.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles create operator --permission runs:launch --permission assets:materialize
  gatehouse roles create auditor --permission read --description "Reads everything" --json`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return rolesCreateRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringArrayVar(&opts.Permissions, "permission", nil, "`PERMISSION` of the role; repeat for several")
	flags.StringVar(&opts.Description, "description", "", "what the role is for (`TEXT`)")
	flags.BoolVar(&opts.JSON, "json", false, "print the new role as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesCreateRun(ctx context.Context, opts *RolesCreateOptions) error {
	r, err := opts.Backend.CreateRole(ctx, admin.NewRole{Name: opts.Name, Description: opts.Description, Permissions: opts.Permissions})
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse roles list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, adminhttp.ToRole(r))
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Created role %q with %s.\n", r.Name, permissionsText(r.Permissions))
	return err
}
