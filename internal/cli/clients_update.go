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
	JSON          bool
}

func newClientsUpdateCmd(streams IOStreams) *cobra.Command {
	opts := &clientsUpdateOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "update ID --require-par[=false]",
		Short: "Change a client's settings",
		Long: `Change the settings of the client with this ID; the ones you do not name
stay as they are.

--require-par makes the server accept only pushed authorization requests
from the client (RFC 9126 PAR): /oauth2/authorize then refuses a request
that was not first POSTed to /oauth2/par. --require-par=false accepts both
again. The server-wide authorize.require_pushed_authorization_requests
setting applies to every client whatever this says.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse clients update portal --require-par
  gatehouse clients update portal --require-par=false --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.SetRequirePAR = cmd.Flags().Changed("require-par")
			if !opts.SetRequirePAR {
				return usageErrorf("nothing to change: give --require-par or --require-par=false")
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsUpdateRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.RequirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126 PAR) from the client; =false to accept both")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the changed client as JSON (as 'clients show --json')")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsUpdateRun(ctx context.Context, opts *clientsUpdateOptions) error {
	var c *storage.Client
	if opts.API != nil {
		var err error
		c, err = opts.API.updateClient(ctx, opts.ID, map[string]any{"require_pushed_authorization_requests": opts.RequirePAR})
		if err != nil {
			return err
		}
	} else {
		env := opts.Admin
		now := env.now()
		err := env.Store.UpdateClient(ctx, opts.ID, func(cur *storage.Client) error {
			cur.RequirePAR, cur.UpdatedAt = opts.RequirePAR, now
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
		env.log(audit.Event{Type: audit.ClientUpdated, ClientID: opts.ID,
			Details: map[string]string{"change": "settings", "require_par": strconv.FormatBool(c.RequirePAR)}})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toClientJSON(c))
	}
	state := "accepts authorization requests sent in full or pushed"
	if c.RequirePAR {
		state = "accepts only pushed authorization requests (PAR)"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Client %q now %s.\n", c.ID, state)
	return err
}
