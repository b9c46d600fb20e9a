package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// ClientsRotateSecretOptions are the streams, the backend and the flag values of `gatehouse clients rotate-secret`.
type ClientsRotateSecretOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID   string
	JSON bool
}

// NewCmdClientsRotateSecret is `gatehouse clients rotate-secret`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsRotateSecret(f *command.Factory, runF func(*ClientsRotateSecretOptions) error) *cobra.Command {
	opts := &ClientsRotateSecretOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Replace a client's secret",
		Long: `Give the confidential client with this ID a new random secret and print it
once. The old secret stops working at once; update the client's
configuration right away. Public clients and private_key_jwt clients have
no secret.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse clients rotate-secret ci
  gatehouse clients rotate-secret ci --json | jq -r .client_secret`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsRotateSecretRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print {\"client_id\", \"client_secret\"} as JSON")
	return cmd
}

func clientsRotateSecretRun(ctx context.Context, opts *ClientsRotateSecretOptions) error {
	sec, err := opts.Backend.RotateClientSecret(ctx, opts.ID)
	if err != nil {
		return clientError(opts.ID, "rotate secret of", err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, clientSecretJSON{ClientID: opts.ID, ClientSecret: sec})
	}
	fmt.Fprintf(opts.IO.Out, "New secret for client %q: %s\n\n", opts.ID, sec)
	_, err = fmt.Fprintln(opts.IO.Out, "The secret is shown only this once: store it now. The old secret no longer works.")
	return err
}
