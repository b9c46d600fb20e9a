package cli

import (
	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// cliScopes are what `gatehouse login` asks for: the user's identity and a
// refresh token, so that one login lasts.
var cliScopes = []string{"openid", "profile", "offline_access"}

// The elevated sign-ins of the gatehouse CLI: `gatehouse login --admin`
// for the admin API and `--account` for the account API. Admin and
// account commands sign in for them on first use on a terminal.
const (
	elevationAdmin   = "admin"
	elevationAccount = "account"
)

// newAuthApp is the client side of the gatehouse binary: package cliauth
// under the name gatehouse (GATEHOUSE_* variables, ~/.config/gatehouse),
// logging in with the public client gatehouse-cli that every server
// creates. The login commands come from its Commands; api and
// credential-helper use its Client and TokenSource.
func newAuthApp(streams command.IOStreams) *cliauth.App {
	return &cliauth.App{
		Name:            "gatehouse",
		EnvPrefix:       "GATEHOUSE",
		DefaultClientID: server.CLIClientID,
		DefaultScopes:   cliScopes,
		Settings: []cliauth.Setting{{
			Name:  adminTargetSetting,
			Help:  "where admin commands work without --server/--db/--data-dir: a server URL\n                   (its admin API) or a data directory",
			Check: checkAdminTarget,
		}},
		Elevations: []cliauth.Elevation{
			{Name: elevationAdmin, Purpose: "the admin API", Resource: server.AdminResource, Scopes: []string{server.ScopeAdmin}},
			{Name: elevationAccount, Purpose: "the account API (two-step verification)", Resource: server.AccountResource, Scopes: []string{server.ScopeAccount}},
		},
		IO:    streams.IO,
		Clock: streams.Clock,
	}
}
