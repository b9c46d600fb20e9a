package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type apiKeysRotateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID   string
	JSON bool
}

func newAPIKeysRotateCmd(streams IOStreams) *cobra.Command {
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
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return apiKeysRotateRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"id\", \"key\"} as JSON")
	return cmd
}

// errNotRotatable stops the rotate updater for a revoked or expired key.
var errNotRotatable = errors.New("not rotatable")

func apiKeysRotateRun(ctx context.Context, opts *apiKeysRotateOptions) error {
	id, err := keyIDArg(opts.ID)
	if err != nil {
		return err
	}
	if opts.API != nil {
		return apiKeysRotateAPI(ctx, opts, id)
	}
	env := opts.Admin
	now := env.now()
	key := apikey.ForID(id)
	_, sec, _ := apikey.Parse(key)
	var k storage.APIKey
	err = env.Store.UpdateAPIKey(ctx, id, func(cur *storage.APIKey) error {
		k = *cur
		if apiKeyState(cur, now) != apiKeyActive {
			return errNotRotatable
		}
		cur.SecretHash = secret.Hash(sec)
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("API key %q not found; see 'gatehouse apikeys list'", id)
	case errors.Is(err, errNotRotatable) && !k.RevokedAt.IsZero():
		return fmt.Errorf("API key %s was revoked at %s and cannot be rotated; create a new one with 'gatehouse apikeys create'", id, k.RevokedAt.UTC().Format(time.RFC3339))
	case errors.Is(err, errNotRotatable):
		return fmt.Errorf("API key %s expired at %s and cannot be rotated; create a new one with 'gatehouse apikeys create'", id, k.ExpiresAt.UTC().Format(time.RFC3339))
	case err != nil:
		return fmt.Errorf("rotate API key %s: %w", id, err)
	}
	env.log(audit.Event{Type: audit.APIKeyRotated, UserID: k.UserID,
		Details: map[string]string{"apikey_id": id, "name": k.Name}})
	return printNewKey(opts.IO, opts.JSON, id, key,
		fmt.Sprintf("New secret for API key %q (id %s); the old key no longer works (a running server refuses it within 5 seconds).", k.Name, id))
}

// apiKeysRotateAPI rotates the key id over the admin API.
func apiKeysRotateAPI(ctx context.Context, opts *apiKeysRotateOptions, id string) error {
	k, err := opts.API.findAPIKey(ctx, id)
	if err != nil {
		return err
	}
	key, err := opts.API.rotateAPIKey(ctx, id)
	switch {
	case apiStatus(err, http.StatusConflict) && !k.RevokedAt.IsZero():
		return fmt.Errorf("API key %s was revoked at %s and cannot be rotated; create a new one with 'gatehouse apikeys create'", id, k.RevokedAt.UTC().Format(time.RFC3339))
	case apiStatus(err, http.StatusConflict) && !k.ExpiresAt.IsZero():
		return fmt.Errorf("API key %s expired at %s and cannot be rotated; create a new one with 'gatehouse apikeys create'", id, k.ExpiresAt.UTC().Format(time.RFC3339))
	case err != nil:
		return fmt.Errorf("rotate API key %s: %w", id, err)
	}
	return printNewKey(opts.IO, opts.JSON, id, key,
		fmt.Sprintf("New secret for API key %q (id %s); the old key no longer works (a running server refuses it within 5 seconds).", k.Name, id))
}
