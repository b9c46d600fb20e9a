// Package cli is the gatehouse command tree.
//
// Every command lives in its own file with an options struct (IOStreams,
// dependencies, flag values), a newXCmd constructor that binds flags to
// the options, and an xRun(ctx, opts) function that does the work, so that
// flag parsing and behaviour are tested separately and the whole tree runs
// in-process in tests (NewTestIOStreams).
//
// Commands return errors; they never print them or exit. cmd/gatehouse
// prints the error once with PrintError and exits with ExitCode(err); bad
// input is a *UsageError (ExitUsage).
//
// The server side: `gatehouse server` and the admin commands (`clients`,
// `users`, `keys`, ...) that work directly on the database. The client side:
// login, logout, token, status, profiles and config come from package
// cliauth (auth.go), and api and credential-helper use its credentials. Add
// a command group with root.AddCommand in NewRootCmd.
package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// NewRootCmd builds the gatehouse command tree on streams.
func NewRootCmd(streams IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gatehouse",
		Short: "Authentication for clients and command-line tools",
		Long: `Gatehouse is an OAuth 2.0 / OpenID Connect authorization server with local
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
commands).`,
		Example: `  # Start a server on 127.0.0.1:8080 with its data in ./gatehouse-data
  gatehouse server

  # Log in to it (browser, or a code with --device), then call an API
  gatehouse login --issuer http://127.0.0.1:8080
  gatehouse api /oauth2/userinfo

  # Register a machine client for CI
  gatehouse clients create ci --grant client_credentials --scope read --role viewer --json

  # Add a user, reading the password from stdin
  printf '%s\n' "$PASSWORD" | gatehouse users add alice --role editor --password-stdin`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetVersionTemplate("gatehouse {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &UsageError{Command: cmd.CommandPath(), Err: err}
	})
	group(root)

	auth := newAuthApp(streams)
	root.AddCommand(auth.Commands()...)
	root.AddCommand(
		newAPICmd(streams, auth),
		newAccountCmd(streams, auth),
		newCredentialHelperCmd(streams, auth),
		newServerCmd(streams),
		newProxyCmd(streams),
		newDemoAppCmd(streams),
		newClientsCmd(streams),
		newUsersCmd(streams),
		newRolesCmd(streams),
		newAPIKeysCmd(streams),
		newKeysCmd(streams),
		newAuditCmd(streams),
		newJWTCmd(streams),
		newVersionCmd(streams),
		newHealthcheckCmd(streams),
	)
	annotateUsageErrors(root)
	registerEnumCompletions(root)
	return root
}

// group makes cmd a command group: without arguments it prints its help,
// with an unknown subcommand it fails with a usage error (cobra alone
// would print the help and succeed).
func group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// usageArgs turns the errors of a cobra argument validator into usage
// errors.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &UsageError{Command: cmd.CommandPath(), Err: err}
		}
		return nil
	}
}

// annotateUsageErrors wraps the RunE of every command so that a usage error
// returned by its run function names the command, for PrintError's hint.
func annotateUsageErrors(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		annotateUsageErrors(c)
	}
	run := cmd.RunE
	if run == nil {
		return
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		err := run(c, args)
		var ue *UsageError
		if errors.As(err, &ue) && ue.Command == "" {
			ue.Command = c.CommandPath()
		}
		return err
	}
}
