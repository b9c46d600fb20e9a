package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

type keysListOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	JSON bool
}

func newKeysListCmd(streams IOStreams) *cobra.Command {
	opts := &keysListOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys",
		Long: `List the signing keys with their state: "next" (published, not signing
yet), "active" (signing), "retired" (published for verification only).
On an empty database the first key is created.` + adminCommandLong + adminAPILong,
		Example: `  gatehouse keys list
  gatehouse keys list --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return keysListRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array of keys")
	return cmd
}

func keysListRun(ctx context.Context, opts *keysListOptions) error {
	var keys []signing.KeyInfo
	if opts.API != nil {
		var err error
		if keys, err = opts.API.listKeys(ctx); err != nil {
			return fmt.Errorf("list signing keys: %w", err)
		}
	} else {
		m, err := openKeyManager(ctx, opts.IO, opts.Admin)
		if err != nil {
			return err
		}
		keys = m.Keys()
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
