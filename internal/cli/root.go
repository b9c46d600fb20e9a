// Package cli is the gatehouse command tree: NewRootCmd puts every command
// group under the top command (command.NewRoot), with the help text of the
// top command and the shell completion of enum flags (completion.go).
//
// The groups live in packages of their own under internal/cli, each
// command a NewCmdX(f, runF) constructor on a command.Factory (see package
// command): jwtcmd, clientcmd (api, account, credential-helper),
// servercmd (server, proxy, demo-app, healthcheck), versioncmd, and
// admincmd (clients, users, roles, apikeys, keys, audit), which works on
// the database or a server's admin API through adminbackend. Login,
// logout, token, status, profiles and config come from package cliauth
// (auth.go adds the admin_target setting). Add a command group to the list
// in NewRootCmd.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/admincmd"
	"github.com/gatehouse-auth/gatehouse/internal/cli/clientcmd"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/jwtcmd"
	"github.com/gatehouse-auth/gatehouse/internal/cli/servercmd"
	"github.com/gatehouse-auth/gatehouse/internal/cli/versioncmd"
)

// NewRootCmd builds the gatehouse command tree on streams.
func NewRootCmd(streams command.IOStreams) *cobra.Command {
	auth := newAuthApp(streams)
	f := &command.Factory{IOStreams: streams, Auth: auth, Version: version()}
	cmds := auth.Commands()
	cmds = append(cmds,
		clientcmd.NewCmdAPI(f, nil),
		clientcmd.NewCmdAccount(f),
		clientcmd.NewCmdCredentialHelper(f),
		servercmd.NewCmdServer(f, nil),
		servercmd.NewCmdProxy(f, nil),
		servercmd.NewCmdDemoApp(f, nil),
		admincmd.NewCmdClients(f),
		admincmd.NewCmdUsers(f),
		admincmd.NewCmdRoles(f),
		admincmd.NewCmdAPIKeys(f),
		admincmd.NewCmdKeys(f),
		admincmd.NewCmdAudit(f),
		jwtcmd.NewCmdJWT(f),
		versioncmd.NewCmdVersion(f, nil),
		servercmd.NewCmdHealthcheck(f, nil),
	)
	root := command.NewRoot(streams, cmds...)
	root.Short = "Authentication for clients and command-line tools"
	root.Long = `Gatehouse is an OAuth 2.0 / OpenID Connect authorization server with local
users, roles, clients and signing keys, in one binary.

Log in to a server once with 'gatehouse login --issuer URL'; then 'gatehouse
token' prints a valid access token, 'gatehouse api URL' makes authenticated
requests and 'gatehouse status' shows the login (see 'gatehouse login --help').

Run the server with 'gatehouse server'. The admin commands (clients, users,
keys) work directly on the server's database: the SQLite database in
--data-dir (default ./gatehouse-data) or the database named by --db or
GATEHOUSE_DB. They are meant for bootstrap, scripts and break-glass access.

Exit codes: 0 success, 1 failure, 2 bad input or usage; 3 not logged in,
4 credentials expired and refresh failed, 5 server unreachable (client
commands).`
	root.Example = `  # Start a server on 127.0.0.1:8080 with its data in ./gatehouse-data
  gatehouse server

  # Log in to it (browser, or a code with --device), then call an API
  gatehouse login --issuer http://127.0.0.1:8080
  gatehouse api /oauth2/userinfo

  # Register a machine client for CI
  gatehouse clients create ci --grant client_credentials --scope read --role viewer --json

  # Add a user, reading the password from stdin
  printf '%s\n' "$PASSWORD" | gatehouse users add alice --role editor --password-stdin`
	root.Version = f.Version
	root.SetVersionTemplate("gatehouse {{.Version}}\n")
	registerEnumCompletions(root)
	return root
}
