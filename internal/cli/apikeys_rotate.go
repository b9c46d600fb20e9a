package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type apiKeysRotateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (runAdminBackend).
	Backend adminBackend
	Server  string

	ID   string
	JSON bool
}

func newAPIKeysRotateCmd(streams command.IOStreams) *cobra.Command {
	opts := &apiKeysRotateOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "rotate ID [--json]",
		Short: "Give an API key a new secret",
		Long: `Give the API key with this ID a new secret and print the new key once.

The key keeps its id, so its subject ("apikey:<id>"), name, user, roles,
scopes and expiry stay the same and whatever refers to the id keeps
working; only the secret part changes. The old key stops working: update
the places that use it right away. A revoked or expired key cannot be
rotated; create a new one.` + apiKeysCacheNote + adminCommandLong + adminAPILong,
		Example: `  gatehouse apikeys rotate k3y1d0example000
  gatehouse apikeys rotate k3y1d0example000 --json | jq -r .key`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminBackend(cmd, streams, opts.Server, func(ctx context.Context, b adminBackend) error {
				opts.Backend = b
				return apiKeysRotateRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"id\", \"key\"} as JSON")
	return cmd
}

func apiKeysRotateRun(ctx context.Context, opts *apiKeysRotateOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	k, key, err := opts.Backend.RotateAPIKey(ctx, id)
	if err != nil {
		return adminError(err, "gatehouse apikeys list")
	}
	return printNewKey(opts.IO, opts.JSON, id, key,
		fmt.Sprintf("New secret for API key %q (id %s); the old key no longer works (a running server refuses it within 5 seconds).", k.Name, id))
}
