package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type clientsDeleteOptions struct {
	IO    command.IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID    string
	Force bool
}

func newClientsDeleteCmd(streams command.IOStreams) *cobra.Command {
	opts := &clientsDeleteOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an OAuth client",
		Long: `Delete the client with this ID. It can no longer authenticate or obtain
tokens.

The built-in client ` + server.CLIClientID + ` is what 'gatehouse login' uses; deleting it
needs --force (the server recreates it on its next start).` + adminCommandLong + adminAPILong,
		Example: `  gatehouse clients delete ci`,
		Args:    command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsDeleteRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "also delete the built-in "+server.CLIClientID+" client")
	return cmd
}

func clientsDeleteRun(ctx context.Context, opts *clientsDeleteOptions) error {
	if opts.ID == server.CLIClientID && !opts.Force {
		return command.UsageErrorf("%s is the built-in client 'gatehouse login' uses; add --force to delete it anyway", server.CLIClientID)
	}
	if opts.API != nil {
		if opts.ID == server.CLIClientID {
			return fmt.Errorf("the admin API cannot delete the built-in client %s; use --db (or --data-dir) to delete it on the database", server.CLIClientID)
		}
		if err := opts.API.deleteClient(ctx, opts.ID); err != nil {
			return err
		}
		_, err := fmt.Fprintf(opts.IO.Out, "Deleted client %q.\n", opts.ID)
		return err
	}
	env := opts.Admin
	err := env.Store.DeleteClient(ctx, opts.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("client %q not found; see 'gatehouse clients list'", opts.ID)
	}
	if err != nil {
		return fmt.Errorf("delete client %q: %w", opts.ID, err)
	}
	env.log(audit.Event{Type: audit.ClientDeleted, ClientID: opts.ID})
	_, err = fmt.Fprintf(opts.IO.Out, "Deleted client %q.\n", opts.ID)
	return err
}
