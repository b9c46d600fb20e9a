package admincmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// apiKeysCacheNote is appended to the help of commands that change a key.
const apiKeysCacheNote = `

A running server caches keys for up to 5 seconds, so a change made here
reaches it within 5 seconds.`

// NewCmdAPIKeys is the `gatehouse apikeys` group.
func NewCmdAPIKeys(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Manage API keys",
		Long: `Create, list, revoke and rotate API keys.

An API key is a long-lived bearer credential for scripts and services:
"Authorization: Bearer gatehouse_<id>_<secret>" at /oauth2/userinfo and
at any resource server that introspects it (/oauth2/introspect). The key
is printed once, when it is created or rotated; the database keeps only
the SHA-256 of its secret. The fixed "gatehouse_" prefix lets secret
scanners find leaked keys.

A key either stands for itself (subject "apikey:<id>", roles from --role)
or acts as a user (--user): it then gets the user's current roles, limited
to --role when given, and stops working when the user is disabled or
deleted.` + adminbackend.DatabaseHelp,
		Example: `  gatehouse apikeys create deploy --scope read --role viewer --expires 90d
  gatehouse apikeys create alice-laptop --user alice --json
  gatehouse apikeys list
  gatehouse apikeys rotate k3y1d0example000
  gatehouse apikeys revoke k3y1d0example000`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.AddCommand(
		NewCmdAPIKeysCreate(f, nil),
		NewCmdAPIKeysList(f, nil),
		NewCmdAPIKeysRevoke(f, nil),
		NewCmdAPIKeysRotate(f, nil),
	)
	return cmd
}

// apiKeySecretJSON is the --json output of create and rotate: the only
// place a key is ever printed.
type apiKeySecretJSON struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// API key states in listings.
const (
	apiKeyActive  = "active"
	apiKeyExpired = "expired"
	apiKeyRevoked = "revoked"
)

// apiKeyState is whether k can be used at now, as far as the key alone
// decides (a key acting as a disabled user is also refused).
func apiKeyState(k *storage.APIKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return apiKeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return apiKeyExpired
	}
	return apiKeyActive
}

// keyIDArg turns the argument of revoke and rotate into a key id: an id,
// or a whole key (for revoking a key found in a leak).
func keyIDArg(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if id, _, ok := apikey.Parse(arg); ok {
		return id, nil
	}
	if !apikey.ValidID(arg) {
		return "", command.UsageErrorf("%q is not an API key id (16 characters of a-z and 0-9) or an API key; see 'gatehouse apikeys list'", arg)
	}
	return arg, nil
}

// maxExpiryDays bounds --expires given in days.
const maxExpiryDays = 36500

// parseExpiry reads --expires: a Go duration ("720h", "30m") or a number
// of days ("90d"). It must be positive.
func parseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := func() error {
		return command.UsageErrorf("invalid --expires %q: use a duration such as 90d, 720h or 30m", s)
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > maxExpiryDays {
			return 0, bad()
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, bad()
		}
		d = v
	}
	if d <= 0 {
		return 0, command.UsageErrorf("--expires must be positive; leave it out for a key that does not expire")
	}
	return d, nil
}

// printNewKey prints a key that was just created or rotated: as JSON, or
// as a block for people with how to use it.
func printNewKey(streams command.IOStreams, asJSON bool, id, key, headline string) error {
	if asJSON {
		return writeJSON(streams.Out, apiKeySecretJSON{ID: id, Key: key})
	}
	out := streams.Out
	fmt.Fprintf(out, "%s\n\n", headline)
	fmt.Fprintf(out, "    %s\n\n", key)
	_, err := fmt.Fprintf(out, `The key is shown only this once: store it now (the server keeps only its
SHA-256). Send it as "Authorization: Bearer <key>". Revoke it with
'gatehouse apikeys revoke %s'.
`, id)
	return err
}
