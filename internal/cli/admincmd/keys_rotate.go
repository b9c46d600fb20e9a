package admincmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// KeysRotateOptions are the streams, the backend and the flag values of `gatehouse keys rotate`.
type KeysRotateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	// ActivateIn is how long the new key is published before it signs;
	// nil means signing.prepublish.
	ActivateIn *time.Duration
	JSON       bool
}

// NewCmdKeysRotate is `gatehouse keys rotate`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdKeysRotate(f *command.Factory, runF func(*KeysRotateOptions) error) *cobra.Command {
	opts := &KeysRotateOptions{IO: f.IOStreams}
	var activateIn time.Duration
	cmd := &cobra.Command{
		Use:   "rotate [--activate-in DURATION]",
		Short: "Create a new signing key",
		Long: `Create a new signing key. It is published in the JWKS at once and starts
signing after --activate-in (default signing.prepublish, 1h); the key it
replaces is then retired and stays published for signing.retain so tokens it
signed keep verifying. Running servers pick the new key up within
signing.reload_interval (default 30s).

Activating sooner than resource servers refresh their JWKS cache makes them
reject new tokens until they do; use a short --activate-in only when the
current key is compromised.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  # Scheduled rotation
  gatehouse keys rotate

  # Compromised key: sign with the new one almost at once
  gatehouse keys rotate --activate-in 1m`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("activate-in") {
				opts.ActivateIn = &activateIn
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return keysRotateRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	flags := cmd.Flags()
	flags.DurationVar(&activateIn, "activate-in", 0, "how long the new key is published before it signs, e.g. 30m (default signing.prepublish)")
	flags.BoolVar(&opts.JSON, "json", false, "print the new key as JSON")
	return cmd
}

func keysRotateRun(ctx context.Context, opts *KeysRotateOptions) error {
	b := opts.Backend
	k, err := b.RotateSigningKey(ctx, opts.ActivateIn)
	if admin.KindOf(err) != 0 {
		return adminbackend.CommandError(err, "gatehouse keys list")
	}
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toKeyJSON(k))
	}
	prepublish, reload := b.SigningTimes()
	out := opts.IO.Out
	fmt.Fprintf(out, "Created signing key %s (%s), published in the JWKS now.\n", k.ID, k.Algorithm)
	fmt.Fprintf(out, "It starts signing at %s (in %s).\n", jsonTime(k.ActiveAt), k.ActiveAt.Sub(k.CreatedAt).Round(time.Second))
	fmt.Fprintf(out, "Running servers pick it up within signing.reload_interval (%s).\n", reload)
	if opts.ActivateIn != nil && *opts.ActivateIn < time.Duration(prepublish) {
		fmt.Fprintf(opts.IO.ErrOut, "Warning: --activate-in %s is shorter than signing.prepublish (%s): resource servers that cached the JWKS may reject tokens signed by the new key until they fetch it again.\n", *opts.ActivateIn, prepublish)
	}
	return nil
}
