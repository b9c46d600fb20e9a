package adminbackend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

// openKeyManager loads the server secret key and the signing keys. It
// refuses to generate a new secret key for a database that already has
// signing keys: they are encrypted with the server's key, which must then
// be somewhere else (another data directory, GATEHOUSE_SECRET_KEY).
func openKeyManager(ctx context.Context, streams command.IOStreams, env *Env) (*signing.Manager, error) {
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

// hasher hashes new passwords; one hash at a time is plenty for a command.
func newHasher() *password.Hasher { return password.NewHasher(password.DefaultParams, 1) }
