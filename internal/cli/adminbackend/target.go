package adminbackend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// Where an admin command works, decided the same way every time and said
// on stderr, so that nobody changes a server they did not mean to:
//
//  1. --server URL: that server's admin API.
//  2. --db, --data-dir, --config (or GATEHOUSE_DB, GATEHOUSE_DATA_DIR,
//     GATEHOUSE_CONFIG_FILE): that database.
//  3. the admin_target setting (`gatehouse config set admin_target ...`):
//     an http(s) URL is a server's admin API, anything else a data
//     directory.
//  4. ./gatehouse-data when it exists (the server's default data
//     directory).
//  5. otherwise an error that lists these choices.
//
// Credentials never choose the target: a stored login, GATEHOUSE_API_KEY or
// client credentials only authenticate to a server named by 1 or 3.

// targetSetting is the gatehouse setting naming the default target.
const targetSetting = "admin_target"

// TargetSetting is the admin_target setting of the gatehouse client side
// (command.NewAuth): where admin commands work when no flag or variable
// says.
func TargetSetting() cliauth.Setting {
	return cliauth.Setting{
		Name:  targetSetting,
		Help:  "where admin commands work without --server/--db/--data-dir: a server URL\n                   (its admin API) or a data directory",
		Check: checkTarget,
	}
}

// TargetHelp is appended to the Long help of admin commands.
const TargetHelp = `

Where it works: --server URL (the server's admin API), else --db, --data-dir
or --config (or GATEHOUSE_DB, GATEHOUSE_DATA_DIR, GATEHOUSE_CONFIG_FILE),
else the admin_target setting ('gatehouse config set admin_target URL|DIR'),
else ./gatehouse-data if it exists; otherwise it stops and says so. The
target is named on stderr. Over the admin API the credentials are an admin
API key (GATEHOUSE_API_KEY), client credentials, or the admin sign-in of
your login ('gatehouse login --admin', asked for on a terminal); they need
the admin role. A login never picks the server by itself.`

// AddServerFlag registers --server on an admin command.
func AddServerFlag(cmd *cobra.Command, serverURL *string) {
	cmd.Flags().StringVar(serverURL, "server", "", "work through the admin API of the server at `URL`")
}

// adminStorageFlags name the database directly.
var adminStorageFlags = []string{"db", "data-dir", "config"}

// adminStorageEnv are the environment variables naming the database.
var adminStorageEnv = []string{"GATEHOUSE_DB", "GATEHOUSE_DATA_DIR", "GATEHOUSE_CONFIG_FILE"}

// checkTarget validates a value of the admin_target setting.
func checkTarget(v string) error {
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%q is not a server URL (https://auth.example.com)", v)
		}
		return nil
	}
	if strings.Contains(v, "://") {
		return fmt.Errorf("%q: give a server's http(s) URL or a data directory (a database URL goes in --db or GATEHOUSE_DB)", v)
	}
	return nil
}

// runTarget runs an admin command on the target the rules above pick,
// reading the admin_target setting and the credentials from f.Auth.
func runTarget(cmd *cobra.Command, f *command.Factory, serverURL string, run func(ctx context.Context, api *adminAPI, env *Env) error) error {
	streams := f.IOStreams
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	explicitDB := ""
	for _, name := range adminStorageFlags {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed {
			if serverURL != "" {
				return command.UsageErrorf("--server and --%s are exclusive: use the admin API or the database", name)
			}
			explicitDB = "--" + name
			break
		}
	}
	if explicitDB == "" && serverURL == "" {
		for _, name := range adminStorageEnv {
			if streams.Getenv(name) != "" {
				explicitDB = name
				break
			}
		}
	}
	if serverURL == "" && explicitDB == "" {
		target := f.Auth.Setting(targetSetting)
		switch {
		case strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://"):
			serverURL = target
		case target != "":
			if err := cmd.Flags().Set("data-dir", target); err != nil {
				return fmt.Errorf("admin_target %q: %w", target, err)
			}
		default:
			dir := config.Default().DataDir
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				return command.UsageErrorf(`no admin target: %s does not exist here. Say where to work:
  --server URL       the admin API of a running server
  --data-dir DIR     the SQLite database of a server's data directory (created if new)
  --db URL           a database, e.g. postgres://user@host/db
or set a default: gatehouse config set admin_target URL|DIR`, dir)
			}
		}
	}
	if serverURL != "" {
		api, err := openAdminAPI(ctx, f.Auth, serverURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(streams.ErrOut, "gatehouse: the admin API of %s\n", api.base)
		return run(ctx, api, nil)
	}
	return RunDatabase(cmd, streams, func(ctx context.Context, env *Env) error {
		fmt.Fprintf(streams.ErrOut, "gatehouse: the database %s\n", describeDatabase(env.Config))
		return run(ctx, nil, env)
	})
}

// describeDatabase names the database of cfg without its password.
func describeDatabase(cfg *config.Server) string {
	if cfg.DB == "" {
		return "in " + cfg.DataDir
	}
	if u, err := url.Parse(cfg.DB); err == nil && u.Host != "" {
		u.User = nil
		u.RawQuery = ""
		return u.String()
	}
	return "given by --db"
}

// openAdminAPI authenticates to the admin API of serverURL with the admin
// credentials in reach: an admin API key, client credentials, or the admin
// sign-in of the login — which must be a login to that very server, so
// that a token of one server never goes to another.
func openAdminAPI(ctx context.Context, auth *cliauth.App, serverURL string) (*adminAPI, error) {
	base := strings.TrimRight(serverURL, "/")
	r, err := auth.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin API of %s: %w", base, err)
	}
	if r.Issuer != "" && strings.TrimRight(r.Issuer, "/") != base && !client.SameBareOrigin(r.Issuer, serverURL) {
		return nil, &command.UsageError{Err: fmt.Errorf("your credentials (%s) are for %s, not %s: log in there with 'gatehouse login --admin --issuer %s --profile NAME', or set GATEHOUSE_API_KEY to an admin API key of it",
			r.Source, r.Issuer, base, base)}
	}
	hc, _, err := auth.ElevatedClient(ctx, command.ElevationAdmin)
	if err != nil {
		return nil, fmt.Errorf("admin API of %s: %w", base, err)
	}
	return &adminAPI{hc: hc, base: base}, nil
}
