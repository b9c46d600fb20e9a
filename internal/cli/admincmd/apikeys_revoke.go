package admincmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// APIKeysRevokeOptions are the streams, the backend and the flag values of `gatehouse apikeys revoke`.
type APIKeysRevokeOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID string
}

// NewCmdAPIKeysRevoke is `gatehouse apikeys revoke`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAPIKeysRevoke(f *command.Factory, runF func(*APIKeysRevokeOptions) error) *cobra.Command {
	opts := &APIKeysRevokeOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key",
		Long: `Revoke the API key with this ID for good. The argument may also be the whole
key, e.g. one found in a leak. Revoking a revoked key changes nothing.

The key stays in 'gatehouse apikeys list' as revoked; it is deleted with the
user it acts as.` + apiKeysCacheNote + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse apikeys revoke k3y1d0example000
  gatehouse apikeys revoke "$LEAKED_KEY"`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return apiKeysRevokeRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func apiKeysRevokeRun(ctx context.Context, opts *APIKeysRevokeOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	k, revoked, err := opts.Backend.RevokeAPIKey(ctx, id)
	if err != nil {
		return adminbackend.CommandError(err, "gatehouse apikeys list")
	}
	if !revoked {
		_, err = fmt.Fprintf(opts.IO.Out, "API key %s (%q) was already revoked at %s.\n", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Revoked API key %s (%q). A running server refuses it within 5 seconds.\n", id, k.Name)
	return err
}
