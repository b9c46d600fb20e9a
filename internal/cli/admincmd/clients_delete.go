package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// ClientsDeleteOptions are the streams, the backend and the flag values of `gatehouse clients delete`.
type ClientsDeleteOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID    string
	Force bool
}

// NewCmdClientsDelete is `gatehouse clients delete`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsDelete(f *command.Factory, runF func(*ClientsDeleteOptions) error) *cobra.Command {
	opts := &ClientsDeleteOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an OAuth client",
		Long: `Delete the client with this ID. It can no longer authenticate or obtain
tokens.

The built-in client ` + server.CLIClientID + ` is what 'gatehouse login' uses; deleting it
needs --force (the server recreates it on its next start).` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse clients delete ci`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsDeleteRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "also delete the built-in "+server.CLIClientID+" client")
	return cmd
}

func clientsDeleteRun(ctx context.Context, opts *ClientsDeleteOptions) error {
	if opts.ID == server.CLIClientID && !opts.Force {
		return command.UsageErrorf("%s is the built-in client 'gatehouse login' uses; add --force to delete it anyway", server.CLIClientID)
	}
	if err := opts.Backend.DeleteClient(ctx, opts.ID); err != nil {
		return clientError(opts.ID, "delete", err)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Deleted client %q.\n", opts.ID)
	return err
}
