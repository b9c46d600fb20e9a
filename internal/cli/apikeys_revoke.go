package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type apiKeysRevokeOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID string
}

func newAPIKeysRevokeCmd(streams IOStreams) *cobra.Command {
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
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return apiKeysRevokeRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	return cmd
}

// errAlreadyRevoked stops the revoke updater for a revoked key.
var errAlreadyRevoked = errors.New("already revoked")

func apiKeysRevokeRun(ctx context.Context, opts *apiKeysRevokeOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	if opts.API != nil {
		return apiKeysRevokeAPI(ctx, opts, id)
	}
	env := opts.Admin
	now := env.now()
	var k storage.APIKey
	err = env.Store.UpdateAPIKey(ctx, id, func(cur *storage.APIKey) error {
		k = *cur
		if !cur.RevokedAt.IsZero() {
			return errAlreadyRevoked
		}
		cur.RevokedAt = now
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("API key %q not found; see 'gatehouse apikeys list'", id)
	case errors.Is(err, errAlreadyRevoked):
		_, err = fmt.Fprintf(opts.IO.Out, "API key %s (%q) was already revoked at %s.\n", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		return err
	case err != nil:
		return fmt.Errorf("revoke API key %s: %w", id, err)
	}
	env.log(audit.Event{Type: audit.APIKeyRevoked, UserID: k.UserID,
		Details: map[string]string{"apikey_id": id, "name": k.Name}})
	_, err = fmt.Fprintf(opts.IO.Out, "Revoked API key %s (%q). A running server refuses it within 5 seconds.\n", id, k.Name)
	return err
}

// apiKeysRevokeAPI revokes the key id over the admin API.
func apiKeysRevokeAPI(ctx context.Context, opts *apiKeysRevokeOptions, id string) error {
	k, err := opts.API.findAPIKey(ctx, id)
	if err != nil {
		return err
	}
	if !k.RevokedAt.IsZero() {
		_, err = fmt.Fprintf(opts.IO.Out, "API key %s (%q) was already revoked at %s.\n", id, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		return err
	}
	if err := opts.API.revokeAPIKey(ctx, id); err != nil {
		return fmt.Errorf("revoke API key %s: %w", id, err)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Revoked API key %s (%q). A running server refuses it within 5 seconds.\n", id, k.Name)
	return err
}
