package command

import (
	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
)

// LoginScopes are what `gatehouse login` asks for: the user's identity and a
// refresh token, so that one login lasts.
var LoginScopes = []string{"openid", "profile", "offline_access"}

// The elevated sign-ins of the gatehouse CLI: `gatehouse login --admin`
// for the admin API and `--account` for the account API. Admin and
// account commands sign in for them on first use on a terminal.
const (
	ElevationAdmin   = "admin"
	ElevationAccount = "account"
)

// NewAuth is the client side of the gatehouse binary: package cliauth
// under the name gatehouse (GATEHOUSE_* variables, ~/.config/gatehouse),
// logging in with the public client gatehouse-cli that every server
// creates, with the tool settings given besides cliauth's own. The login
// commands come from its Commands; api, account and credential-helper
// use its Client and TokenSource (Factory.Auth).
func NewAuth(streams IOStreams, settings ...cliauth.Setting) *cliauth.App {
	return &cliauth.App{
		Name:            "gatehouse",
		EnvPrefix:       "GATEHOUSE",
		DefaultClientID: server.CLIClientID,
		DefaultScopes:   LoginScopes,
		Settings:        settings,
		Elevations: []cliauth.Elevation{
			{Name: ElevationAdmin, Purpose: "the admin API", Resource: oauth.AdminResource, Scopes: []string{oauth.ScopeAdmin}},
			{Name: ElevationAccount, Purpose: "the account API (two-step verification)", Resource: oauth.AccountResource, Scopes: []string{oauth.ScopeAccount}},
		},
		IO:    streams.IO,
		Clock: streams.Clock,
	}
}
