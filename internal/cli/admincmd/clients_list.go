package admincmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
)

// ClientsListOptions are the streams, the backend and the flag values of `gatehouse clients list`.
type ClientsListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend

	JSON   bool
	Server string
}

// NewCmdClientsList is `gatehouse clients list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsList(f *command.Factory, runF func(*ClientsListOptions) error) *cobra.Command {
	opts := &ClientsListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the OAuth clients",
		Long: `List the registered OAuth clients: ID, name, type, grant types, scopes and
roles. Secrets are never shown.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse clients list
  gatehouse clients list --json | jq -r '.[].client_id'`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsListRun(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of clients")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsListRun(ctx context.Context, opts *ClientsListOptions) error {
	clients, err := opts.Backend.ListClients(ctx)
	if err != nil {
		return fmt.Errorf("list clients: %w", err)
	}
	if opts.JSON {
		views := make([]clientJSON, 0, len(clients))
		for _, c := range clients {
			views = append(views, toClientJSON(c))
		}
		return writeJSON(opts.IO.Out, views)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tGRANTS\tSCOPES\tROLES")
	for _, c := range clients {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, orDash(c.Name), admin.ClientType(c),
			list(shortGrants(c.GrantTypes)), list(c.Scopes), list(c.Roles))
	}
	return tw.Flush()
}

// shortGrants shortens the device grant URN for tables.
func shortGrants(grants []string) []string {
	out := make([]string, len(grants))
	for i, g := range grants {
		out[i] = strings.TrimSpace(clientreg.ShortGrant(g))
	}
	return out
}
