package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type apiKeysRevokeOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (runAdminBackend).
	Backend adminBackend
	Server  string

	ID string
}

func newAPIKeysRevokeCmd(streams command.IOStreams) *cobra.Command {
	opts := &apiKeysRevokeOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key",
		Long: `Revoke the API key with this ID for good. The argument may also be the whole
key, e.g. one found in a leak. Revoking a revoked key changes nothing.

The key stays in 'gatehouse apikeys list' as revoked; it is deleted with the
user it acts as.` + apiKeysCacheNote + adminCommandLong + adminAPILong,
		Example: `  gatehouse apikeys revoke k3y1d0example000
  gatehouse apikeys revoke "$LEAKED_KEY"`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminBackend(cmd, streams, opts.Server, func(ctx context.Context, b adminBackend) error {
				opts.Backend = b
				return apiKeysRevokeRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func apiKeysRevokeRun(ctx context.Context, opts *apiKeysRevokeOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	k, revoked, err := opts.Backend.RevokeAPIKey(ctx, id)
	if err != nil {
		return adminError(err, "gatehouse apikeys list")
	}
	if !revoked {
		_, err = fmt.Fprintf(opts.IO.Out, "API key %s (%q) was already revoked at %s.\n", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Revoked API key %s (%q). A running server refuses it within 5 seconds.\n", id, k.Name)
	return err
}
