package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type clientsUpdateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID string
	// DPoPRequired is the new value of --dpop-required; DPoPSet says the
	// flag was given.
	DPoPRequired bool
	DPoPSet      bool
}

func newClientsUpdateCmd(streams IOStreams) *cobra.Command {
	opts := &clientsUpdateOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "update ID --dpop-required[=false]",
		Short: "Change a client's settings",
		Long: `Change the settings of the client with this ID that can change without
registering it again.

--dpop-required makes the token endpoint refuse the client's requests
without a DPoP proof (RFC 9449): every access token it gets is then bound
to its key (token_type DPoP), and useless to whoever copies it without the
key. --dpop-required=false lets it get bearer tokens again. Tokens already
issued keep their binding.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse clients update batch --dpop-required
  gatehouse clients update batch --dpop-required=false --server https://auth.example.com`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.DPoPSet = cmd.Flags().Changed("dpop-required")
			if !opts.DPoPSet {
				return usageErrorf("nothing to change: give --dpop-required or --dpop-required=false")
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsUpdateRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.DPoPRequired, "dpop-required", false, "refuse the client's token requests without a DPoP proof (RFC 9449); =false to allow bearer tokens again")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsUpdateRun(ctx context.Context, opts *clientsUpdateOptions) error {
	if opts.API != nil {
		if _, err := opts.API.updateClientDPoP(ctx, opts.ID, opts.DPoPRequired); err != nil {
			return apiClientError(opts.ID, err)
		}
	} else {
		env := opts.Admin
		now := env.now()
		err := env.Store.UpdateClient(ctx, opts.ID, func(c *storage.Client) error {
			c.DPoPRequired = opts.DPoPRequired
			c.UpdatedAt = now
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("client %q not found; see 'gatehouse clients list'", opts.ID)
		}
		if err != nil {
			return fmt.Errorf("update client %q: %w", opts.ID, err)
		}
		env.log(audit.Event{Type: audit.ClientUpdated, ClientID: opts.ID,
			Details: map[string]string{"dpop_required": strconv.FormatBool(opts.DPoPRequired)}})
	}
	if opts.DPoPRequired {
		_, err := fmt.Fprintf(opts.IO.Out, "Client %q must now send a DPoP proof with every token request.\n", opts.ID)
		return err
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Client %q may now get bearer tokens (DPoP is optional).\n", opts.ID)
	return err
}
