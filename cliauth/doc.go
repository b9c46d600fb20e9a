// Package cliauth gives a Go command-line tool a complete login: the cobra
// commands login, logout, token, status, profiles and config under the
// tool's own name, configuration directory and environment prefix, and an
// authorized *http.Client for the tool's own commands.
//
//	app := &cliauth.App{
//		Name:            "mycli",
//		DefaultIssuer:   "https://auth.example.com",
//		DefaultClientID: "mycli",
//		DefaultScopes:   []string{"openid", "profile", "offline_access"},
//	}
//	root := &cobra.Command{Use: "mycli"}
//	root.AddCommand(app.Commands()...)
//
//	// in the tool's own commands:
//	hc, res, err := app.Client(cmd.Context())
//	resp, err := hc.Get(res.Issuer + "/api/things")
//
// A user types `mycli login` once; the tool then finds its credentials by
// itself, refreshes them before they expire (once across all processes,
// see client.TokenSource), and never prints a token except through
// `mycli token`.
//
// # Where credentials come from
//
// Highest precedence first (PREFIX is App.EnvPrefix, "MYCLI" here):
//
//  1. flags: --profile NAME on the command line;
//  2. PREFIX_TOKEN, a bearer token used as it is;
//  3. PREFIX_API_KEY, an API key;
//  4. PREFIX_CLIENT_ID with PREFIX_CLIENT_SECRET (and PREFIX_ISSUER):
//     client credentials, fetched on demand;
//  5. the profile named by PREFIX_PROFILE;
//  6. the default profile (default_profile in config.yaml, else "default").
//
// Resolved.Source names the one in force; `status` prints it and `login`
// warns when an environment credential will shadow the login it stores.
//
// # Files
//
// Everything lives in one directory: App.ConfigDir, else PREFIX_CONFIG_DIR,
// else $XDG_CONFIG_HOME/NAME, else ~/.config/NAME. config.yaml (0600, the
// directory 0700) holds the profiles and settings; credentials go to the
// credstore backend the storage setting picks (credstore.Resolve: the OS
// keyring or credentials.json). Unknown keys in config.yaml are an error.
//
// # Logins bound to the machine (DPoP)
//
// Where the server announces DPoP (RFC 9449) with ES256, `mycli login`
// binds user and client-credentials logins to a P-256 key made for the
// profile and stored with its tokens (credstore.Credential.DPoPKey, sealed
// with them in the keyring): the tokens are useless without the key.
// --no-dpop opts out (remembered for the profile as no_dpop in
// config.yaml), --dpop opts in again. Client and the source of TokenSource
// (a client.DPoPSource) make a proof for every request; `mycli token
// --output header --url URL` prints the Authorization and DPoP headers,
// and the output formats that only carry a bearer token (exec-credential)
// refuse a bound login with the way out. Logins stored before DPoP stay
// bearer logins.
//
// # Errors and exit codes
//
// Errors returned by the commands and by Client carry an exit code
// (ExitCode method; see ExitCode): ExitNotLoggedIn, ExitExpired,
// ExitUnreachable, ExitUsage, and say what to do next ("run `mycli
// login`"). Print them once and exit with ExitCode(err).
//
// The package imports nothing from Gatehouse's internal packages and does
// no work at package initialisation, so it costs a host tool nothing until
// a command runs.
package cliauth
