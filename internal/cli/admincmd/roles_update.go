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

// RolesUpdateOptions are the streams, the backend and the flag values of `gatehouse roles update`.
type RolesUpdateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name   string
	Add    []string
	Remove []string
	// Description is set only when --description was given.
	Description *string
	JSON        bool
}

// NewCmdRolesUpdate is `gatehouse roles update`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdRolesUpdate(f *command.Factory, runF func(*RolesUpdateOptions) error) *cobra.Command {
	opts := &RolesUpdateOptions{IO: f.IOStreams}
	var description string
	cmd := &cobra.Command{
		Use:   "update NAME [--add-permission P]... [--remove-permission P]... [--description D]",
		Short: "Change a custom role",
		Long: `Add permissions to and remove permissions from the custom role NAME, or
change its description. A permission both added and removed is added. The
new permissions are in the tokens issued after the change; tokens issued
before keep theirs until they expire. Built-in roles cannot be changed.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse roles update operator --add-permission runs:cancel
  gatehouse roles update operator --remove-permission assets:materialize --description "Runs pipelines"`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if cmd.Flags().Changed("description") {
				opts.Description = &description
			}
			if len(opts.Add) == 0 && len(opts.Remove) == 0 && opts.Description == nil {
				return &command.UsageError{Command: cmd.CommandPath(), Err: fmt.Errorf("nothing to change: give --add-permission, --remove-permission or --description")}
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return rolesUpdateRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringArrayVar(&opts.Add, "add-permission", nil, "`PERMISSION` to add; repeat for several")
	flags.StringArrayVar(&opts.Remove, "remove-permission", nil, "`PERMISSION` to remove; repeat for several")
	flags.StringVar(&description, "description", "", "new description (`TEXT`; empty clears it)")
	flags.BoolVar(&opts.JSON, "json", false, "print the changed role as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func rolesUpdateRun(ctx context.Context, opts *RolesUpdateOptions) error {
	after, err := opts.Backend.UpdateRole(ctx, opts.Name, admin.RoleUpdate{Description: opts.Description, Add: opts.Add, Remove: opts.Remove})
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse roles list")
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, adminhttp.ToRole(after))
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Role %q now has %s.\n", after.Name, permissionsText(after.Permissions))
	return err
}
