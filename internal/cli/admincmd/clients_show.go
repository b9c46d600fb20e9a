package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// ClientsShowOptions are the streams, the backend and the flag values of `gatehouse clients show`.
type ClientsShowOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID   string
	JSON bool
}

// NewCmdClientsShow is `gatehouse clients show`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsShow(f *command.Factory, runF func(*ClientsShowOptions) error) *cobra.Command {
	opts := &ClientsShowOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one OAuth client",
		Long: `Show everything about the client with this ID except its secret, which
the server does not have (it keeps only a hash).` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse clients show gatehouse-cli
  gatehouse clients show ci --json`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsShowRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the client as JSON")
	return cmd
}

func clientsShowRun(ctx context.Context, opts *ClientsShowOptions) error {
	c, err := opts.Backend.GetClient(ctx, opts.ID)
	if err != nil {
		return clientError(opts.ID, "get", err)
	}
	v := toClientJSON(c)
	if opts.JSON {
		return writeJSON(opts.IO.Out, v)
	}
	tw := newTable(opts.IO.Out)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Client ID", v.ClientID)
	row("Name", orDash(v.Name))
	row("Type", v.Type)
	row("Auth method", v.AuthMethod)
	row("Grant types", orDash(strings.Join(v.GrantTypes, " ")))
	row("Redirect URIs", orDash(strings.Join(v.RedirectURIs, " ")))
	row("Scopes", orDash(strings.Join(v.Scopes, " ")))
	row("Roles", orDash(strings.Join(v.Roles, " ")))
	row("Audiences", orDash(strings.Join(v.Audiences, " ")))
	row("Post-logout redirect URIs", orDash(strings.Join(v.PostLogout, " ")))
	row("First party", fmt.Sprint(v.FirstParty))
	row("Requires PAR", fmt.Sprint(v.RequirePAR))
	row("DPoP required", fmt.Sprint(v.DPoPRequired))
	row("Terminal sign-in", fmt.Sprint(v.TerminalLogin))
	if c.JWKS != "" {
		row("JWKS", c.JWKS)
	}
	row("Created", orDash(v.CreatedAt))
	row("Updated", orDash(v.UpdatedAt))
	return tw.Flush()
}
