package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// KeysListOptions are the streams, the backend and the flag values of `gatehouse keys list`.
type KeysListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	JSON bool
}

// NewCmdKeysList is `gatehouse keys list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdKeysList(f *command.Factory, runF func(*KeysListOptions) error) *cobra.Command {
	opts := &KeysListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys",
		Long: `List the signing keys with their state: "next" (published, not signing
yet), "active" (signing), "retired" (published for verification only).
On an empty database the first key is created.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse keys list
  gatehouse keys list --json`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return keysListRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of keys")
	return cmd
}

func keysListRun(ctx context.Context, opts *KeysListOptions) error {
	keys, err := opts.Backend.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	if opts.JSON {
		views := make([]keyJSON, 0, len(keys))
		for _, k := range keys {
			views = append(views, toKeyJSON(k))
		}
		return writeJSON(opts.IO.Out, views)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVE\tRETIRED")
	for _, k := range keys {
		v := toKeyJSON(k)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Algorithm, v.State, orDash(v.CreatedAt), orDash(v.ActiveAt), orDash(v.RetiredAt))
	}
	return tw.Flush()
}
