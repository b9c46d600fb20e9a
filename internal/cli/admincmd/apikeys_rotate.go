package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// APIKeysRotateOptions are the streams, the backend and the flag values of `gatehouse apikeys rotate`.
type APIKeysRotateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID   string
	JSON bool
}

// NewCmdAPIKeysRotate is `gatehouse apikeys rotate`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAPIKeysRotate(f *command.Factory, runF func(*APIKeysRotateOptions) error) *cobra.Command {
	opts := &APIKeysRotateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "rotate ID [--json]",
		Short: "Give an API key a new secret",
		Long: `Give the API key with this ID a new secret and print the new key once.

The key keeps its id, so its subject ("apikey:<id>"), name, user, roles,
scopes and expiry stay the same and whatever refers to the id keeps
working; only the secret part changes. The old key stops working: update
the places that use it right away. A revoked or expired key cannot be
rotated; create a new one.` + apiKeysCacheNote + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse apikeys rotate k3y1d0example000
  gatehouse apikeys rotate k3y1d0example000 --json | jq -r .key`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return apiKeysRotateRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"id\", \"key\"} as JSON")
	return cmd
}

func apiKeysRotateRun(ctx context.Context, opts *APIKeysRotateOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	k, key, err := opts.Backend.RotateAPIKey(ctx, id)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse apikeys list")
	}
	return printNewKey(opts.IO, opts.JSON, id, key,
		fmt.Sprintf("New secret for API key %q (id %s); the old key no longer works (a running server refuses it within 5 seconds).", k.Name, id))
}
