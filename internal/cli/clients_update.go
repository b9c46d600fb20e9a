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
	// RequirePAR is the new setting when SetRequirePAR.
	RequirePAR    bool
	SetRequirePAR bool
	// DPoPRequired is the new value of --dpop-required; DPoPSet says the
	// flag was given.
	DPoPRequired bool
	DPoPSet      bool
	JSON         bool
}

func newClientsUpdateCmd(streams IOStreams) *cobra.Command {
	opts := &clientsUpdateOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "update ID [--require-par[=false]] [--dpop-required[=false]]",
		Short: "Change a client's settings",
		Long: `Change the settings of the client with this ID that can change without
registering it again; the ones you do not name stay as they are.

--require-par makes the server accept only pushed authorization requests
from the client (RFC 9126 PAR): /oauth2/authorize then refuses a request
that was not first POSTed to /oauth2/par. --require-par=false accepts both
again. The server-wide authorize.require_pushed_authorization_requests
setting applies to every client whatever this says.

--dpop-required makes the token endpoint refuse the client's requests
without a DPoP proof (RFC 9449): every access token it gets is then bound
to its key (token_type DPoP), and useless to whoever copies it without the
key. --dpop-required=false lets it get bearer tokens again. Tokens already
issued keep their binding.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse clients update portal --require-par
  gatehouse clients update portal --require-par=false --json
  gatehouse clients update batch --dpop-required
  gatehouse clients update batch --dpop-required=false --server https://auth.example.com`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.SetRequirePAR = cmd.Flags().Changed("require-par")
			opts.DPoPSet = cmd.Flags().Changed("dpop-required")
			if !opts.SetRequirePAR && !opts.DPoPSet {
				return usageErrorf("nothing to change: give --require-par[=false] or --dpop-required[=false]")
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsUpdateRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.RequirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126 PAR) from the client; =false to accept both")
	cmd.Flags().BoolVar(&opts.DPoPRequired, "dpop-required", false, "refuse the client's token requests without a DPoP proof (RFC 9449); =false to allow bearer tokens again")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the changed client as JSON (as 'clients show --json')")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsUpdateRun(ctx context.Context, opts *clientsUpdateOptions) error {
	var c *storage.Client
	if opts.API != nil {
		fields := map[string]any{}
		if opts.SetRequirePAR {
			fields["require_pushed_authorization_requests"] = opts.RequirePAR
		}
		if opts.DPoPSet {
			fields["dpop_required"] = opts.DPoPRequired
		}
		var err error
		if c, err = opts.API.updateClient(ctx, opts.ID, fields); err != nil {
			return err
		}
	} else {
		env := opts.Admin
		now := env.now()
		err := env.Store.UpdateClient(ctx, opts.ID, func(cur *storage.Client) error {
			if opts.SetRequirePAR {
				cur.RequirePAR = opts.RequirePAR
			}
			if opts.DPoPSet {
				cur.DPoPRequired = opts.DPoPRequired
			}
			cur.UpdatedAt = now
			cp := *cur
			c = &cp
			return nil
		})
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("client %q not found; see 'gatehouse clients list'", opts.ID)
		case err != nil:
			return fmt.Errorf("update client %q: %w", opts.ID, err)
		}
		details := map[string]string{"change": "settings"}
		if opts.SetRequirePAR {
			details["require_par"] = strconv.FormatBool(c.RequirePAR)
		}
		if opts.DPoPSet {
			details["dpop_required"] = strconv.FormatBool(c.DPoPRequired)
		}
		env.log(audit.Event{Type: audit.ClientUpdated, ClientID: opts.ID, Details: details})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toClientJSON(c))
	}
	if opts.SetRequirePAR {
		state := "accepts authorization requests sent in full or pushed"
		if c.RequirePAR {
			state = "accepts only pushed authorization requests (PAR)"
		}
		if _, err := fmt.Fprintf(opts.IO.Out, "Client %q now %s.\n", c.ID, state); err != nil {
			return err
		}
	}
	if opts.DPoPSet {
		msg := "may now get bearer tokens (DPoP is optional)"
		if c.DPoPRequired {
			msg = "must now send a DPoP proof with every token request"
		}
		if _, err := fmt.Fprintf(opts.IO.Out, "Client %q %s.\n", c.ID, msg); err != nil {
			return err
		}
	}
	return nil
}
