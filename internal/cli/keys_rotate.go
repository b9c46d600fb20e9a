package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

type keysRotateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	// ActivateIn is how long the new key is published before it signs;
	// nil means signing.prepublish.
	ActivateIn *time.Duration
	JSON       bool
}

func newKeysRotateCmd(streams IOStreams) *cobra.Command {
	opts := &keysRotateOptions{IO: streams}
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
current key is compromised.` + adminCommandLong + adminAPILong,
		Example: `  # Scheduled rotation
  gatehouse keys rotate

  # Compromised key: sign with the new one almost at once
  gatehouse keys rotate --activate-in 1m`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("activate-in") {
				opts.ActivateIn = &activateIn
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return keysRotateRun(ctx, opts)
			})
		},
	}
	addServerFlag(cmd, &opts.Server)
	f := cmd.Flags()
	f.DurationVar(&activateIn, "activate-in", 0, "how long the new key is published before it signs, e.g. 30m (default signing.prepublish)")
	f.BoolVar(&opts.JSON, "json", false, "print the new key as JSON")
	return cmd
}

func keysRotateRun(ctx context.Context, opts *keysRotateOptions) error {
	if opts.API != nil {
		return keysRotateAPI(ctx, opts)
	}
	env := opts.Admin
	cfg := env.Config
	prepublish := time.Duration(cfg.Signing.PrePublish)
	d := prepublish
	if opts.ActivateIn != nil {
		d = *opts.ActivateIn
	}
	if d < 0 {
		return usageErrorf("--activate-in must not be negative, got %s", d)
	}
	m, err := openKeyManager(ctx, opts.IO, env)
	if err != nil {
		return err
	}
	k, err := m.Rotate(ctx, d)
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	env.log(audit.Event{Type: audit.KeyRotated, Details: map[string]string{
		"kid": k.ID, "alg": k.Algorithm, "active_at": jsonTime(k.ActiveAt),
	}})

	if opts.JSON {
		for _, info := range m.Keys() {
			if info.ID == k.ID {
				return writeJSON(opts.IO.Out, toKeyJSON(info))
			}
		}
		return writeJSON(opts.IO.Out, keyJSON{ID: k.ID, Algorithm: k.Algorithm, State: signing.StateNext,
			CreatedAt: jsonTime(k.CreatedAt), ActiveAt: jsonTime(k.ActiveAt)})
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Created signing key %s (%s), published in the JWKS now.\n", k.ID, k.Algorithm)
	fmt.Fprintf(out, "It starts signing at %s (in %s).\n", jsonTime(k.ActiveAt), k.ActiveAt.Sub(env.now()).Round(time.Second))
	fmt.Fprintf(out, "Running servers pick it up within signing.reload_interval (%s).\n", cfg.Signing.ReloadInterval)
	if d < prepublish {
		fmt.Fprintf(opts.IO.ErrOut, "Warning: --activate-in %s is shorter than signing.prepublish (%s): resource servers that cached the JWKS may reject tokens signed by the new key until they fetch it again.\n", d, prepublish)
	}
	return nil
}

// keysRotateAPI rotates the signing key over the admin API. The server's
// configuration is not at hand: the reload interval and prepublish period
// printed are the defaults.
func keysRotateAPI(ctx context.Context, opts *keysRotateOptions) error {
	cfg := config.Default()
	prepublish := time.Duration(cfg.Signing.PrePublish)
	var activateIn *int64
	if opts.ActivateIn != nil {
		if *opts.ActivateIn < 0 {
			return usageErrorf("--activate-in must not be negative, got %s", *opts.ActivateIn)
		}
		secs := int64(opts.ActivateIn.Seconds())
		activateIn = &secs
	}
	k, err := opts.API.rotateKeys(ctx, activateIn)
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, toKeyJSON(k))
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Created signing key %s (%s), published in the JWKS now.\n", k.ID, k.Algorithm)
	fmt.Fprintf(out, "It starts signing at %s (in %s).\n", jsonTime(k.ActiveAt), k.ActiveAt.Sub(k.CreatedAt).Round(time.Second))
	fmt.Fprintf(out, "Running servers pick it up within signing.reload_interval (%s).\n", cfg.Signing.ReloadInterval)
	if opts.ActivateIn != nil && *opts.ActivateIn < prepublish {
		fmt.Fprintf(opts.IO.ErrOut, "Warning: --activate-in %s is shorter than signing.prepublish (%s): resource servers that cached the JWKS may reject tokens signed by the new key until they fetch it again.\n", *opts.ActivateIn, prepublish)
	}
	return nil
}
