package admincmd

import (
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

// NewCmdKeys is the `gatehouse keys` group.
func NewCmdKeys(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the token signing keys",
		Long: `List and rotate the keys that sign access and ID tokens.

A new key is published in the JWKS first and starts signing only after
signing.prepublish (default 1h), so resource servers that cache the JWKS
already know it; a retired key stays published for signing.retain. Private
keys are stored encrypted with the server secret key (DIR/secret.key or
GATEHOUSE_SECRET_KEY), which these commands therefore need too.` + adminbackend.DatabaseHelp,
		Example: `  gatehouse keys list
  gatehouse keys rotate
  gatehouse keys rotate --activate-in 10m --json`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.PersistentFlags().String("secret-key-file", "", "`FILE` with the server secret key that encrypts the signing keys (default DIR/secret.key; env GATEHOUSE_SECRET_KEY_FILE; GATEHOUSE_SECRET_KEY holds the key itself and wins)")
	cmd.AddCommand(
		NewCmdKeysList(f, nil),
		NewCmdKeysRotate(f, nil),
	)
	return cmd
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
