package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

func newKeysCmd(streams command.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the token signing keys",
		Long: `List and rotate the keys that sign access and ID tokens.

A new key is published in the JWKS first and starts signing only after
signing.prepublish (default 1h), so resource servers that cache the JWKS
already know it; a retired key stays published for signing.retain. Private
keys are stored encrypted with the server secret key (DIR/secret.key or
GATEHOUSE_SECRET_KEY), which these commands therefore need too.` + adminCommandLong,
		Example: `  gatehouse keys list
  gatehouse keys rotate
  gatehouse keys rotate --activate-in 10m --json`,
	}
	command.Group(cmd)
	addStorageFlags(cmd)
	cmd.PersistentFlags().String("secret-key-file", "", "`FILE` with the server secret key that encrypts the signing keys (default DIR/secret.key; env GATEHOUSE_SECRET_KEY_FILE; GATEHOUSE_SECRET_KEY holds the key itself and wins)")
	cmd.AddCommand(
		newKeysListCmd(streams),
		newKeysRotateCmd(streams),
	)
	return cmd
}

// openKeyManager loads the server secret key and the signing keys. It
// refuses to generate a new secret key for a database that already has
// signing keys: they are encrypted with the server's key, which must then
// be somewhere else (another data directory, GATEHOUSE_SECRET_KEY).
func openKeyManager(ctx context.Context, streams command.IOStreams, env *adminEnv) (*signing.Manager, error) {
	cfg := env.Config
	file := cfg.ResolvedSecretKeyFile()
	if cfg.SecretKey == "" {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			existing, err := env.Store.ListSigningKeys(ctx)
			if err != nil {
				return nil, fmt.Errorf("list signing keys: %w", err)
			}
			if len(existing) > 0 {
				return nil, fmt.Errorf("the signing keys in this database are encrypted with the server's secret key, which is not in %s; "+
					"pass --secret-key-file FILE or set GATEHOUSE_SECRET_KEY as for 'gatehouse server'", file)
			}
		}
	}
	key, created, err := server.LoadSecretKey(cfg)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if created {
		fmt.Fprintf(streams.ErrOut, "Generated a new secret key in %s; keep it safe and back it up.\n", file)
	}
	m := server.NewKeyManager(env.Config, env.Store, key, env.Clock)
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return m, nil
}

// keyJSON is the stable --json form of a signing key (public metadata
// only).
type keyJSON struct {
	ID        string `json:"kid"`
	Algorithm string `json:"alg"`
	State     string `json:"state"`
	Signing   bool   `json:"signing"`
	CreatedAt string `json:"created_at"`
	ActiveAt  string `json:"active_at"`
	RetiredAt string `json:"retired_at,omitempty"`
}

func toKeyJSON(k signing.KeyInfo) keyJSON {
	return keyJSON{
		ID:        k.ID,
		Algorithm: k.Algorithm,
		State:     k.State,
		Signing:   k.Signing,
		CreatedAt: jsonTime(k.CreatedAt),
		ActiveAt:  jsonTime(k.ActiveAt),
		RetiredAt: jsonTime(k.RetiredAt),
	}
}
