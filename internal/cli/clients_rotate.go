package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

type clientsRotateSecretOptions struct {
	IO    command.IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID   string
	JSON bool
}

func newClientsRotateSecretCmd(streams command.IOStreams) *cobra.Command {
	opts := &clientsRotateSecretOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Replace a client's secret",
		Long: `Give the confidential client with this ID a new random secret and print it
once. The old secret stops working at once; update the client's
configuration right away. Public clients and private_key_jwt clients have
no secret.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse clients rotate-secret ci
  gatehouse clients rotate-secret ci --json | jq -r .client_secret`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsRotateSecretRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"client_id\", \"client_secret\"} as JSON")
	return cmd
}

// errNoSecret is returned from the update closure for clients without a
// secret; its message is replaced by a specific one.
var errNoSecret = errors.New("client has no secret")

func clientsRotateSecretRun(ctx context.Context, opts *clientsRotateSecretOptions) error {
	if opts.API != nil {
		return clientsRotateSecretAPI(ctx, opts)
	}
	env := opts.Admin
	sec := secret.NewToken()
	now := env.now()
	var method string
	var public bool
	err := env.Store.UpdateClient(ctx, opts.ID, func(c *storage.Client) error {
		method, public = c.AuthMethod, c.Public
		if !hasSecret(c) {
			return errNoSecret
		}
		c.SecretHash = secret.Hash(sec)
		c.UpdatedAt = now
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("client %q not found; see 'gatehouse clients list'", opts.ID)
	case errors.Is(err, errNoSecret) && public:
		return fmt.Errorf("client %q is public: it has no secret to rotate", opts.ID)
	case errors.Is(err, errNoSecret) && method == protocol.AuthMethodPrivateKeyJWT:
		return fmt.Errorf("client %q authenticates with private_key_jwt: it has no secret to rotate", opts.ID)
	case errors.Is(err, errNoSecret):
		return fmt.Errorf("client %q (auth method %s) has no secret to rotate", opts.ID, method)
	case err != nil:
		return fmt.Errorf("rotate secret of client %q: %w", opts.ID, err)
	}
	env.log(audit.Event{Type: audit.ClientUpdated, ClientID: opts.ID, Details: map[string]string{"change": "secret rotated"}})

	if opts.JSON {
		return writeJSON(opts.IO.Out, clientSecretJSON{ClientID: opts.ID, ClientSecret: sec})
	}
	fmt.Fprintf(opts.IO.Out, "New secret for client %q: %s\n\n", opts.ID, sec)
	_, err = fmt.Fprintln(opts.IO.Out, "The secret is shown only this once: store it now. The old secret no longer works.")
	return err
}

// clientsRotateSecretAPI rotates the secret over the admin API.
func clientsRotateSecretAPI(ctx context.Context, opts *clientsRotateSecretOptions) error {
	sec, err := opts.API.rotateClientSecret(ctx, opts.ID)
	if apiStatus(err, http.StatusConflict) {
		c, gerr := opts.API.getClient(ctx, opts.ID)
		switch {
		case gerr != nil:
			return err
		case c.Public:
			return fmt.Errorf("client %q is public: it has no secret to rotate", opts.ID)
		case c.AuthMethod == protocol.AuthMethodPrivateKeyJWT:
			return fmt.Errorf("client %q authenticates with private_key_jwt: it has no secret to rotate", opts.ID)
		default:
			return fmt.Errorf("client %q (auth method %s) has no secret to rotate", opts.ID, c.AuthMethod)
		}
	}
	if err != nil {
		return apiClientError(opts.ID, err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, clientSecretJSON{ClientID: opts.ID, ClientSecret: sec})
	}
	fmt.Fprintf(opts.IO.Out, "New secret for client %q: %s\n\n", opts.ID, sec)
	_, err = fmt.Fprintln(opts.IO.Out, "The secret is shown only this once: store it now. The old secret no longer works.")
	return err
}
