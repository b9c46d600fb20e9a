package cli

import (
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/proxy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// enumFlag is a flag whose value is one of a fixed set, offered by shell
// completion. Command is the command path ("gatehouse proxy"), or "" for
// every command that has the flag.
type enumFlag struct {
	command, flag string
	values        []string
	// files also completes file names (a value that may be a path).
	files bool
}

// enumFlags are the flags completed with their values. Roles and user
// names are not here: they live in the database, which completion does
// not open.
var enumFlags = []enumFlag{
	{command: "gatehouse clients create", flag: "auth-method",
		values: []string{protocol.AuthMethodBasic, protocol.AuthMethodPost, protocol.AuthMethodPrivateKeyJWT}},
	{command: "gatehouse clients create", flag: "grant",
		values: []string{protocol.GrantAuthorizationCode, protocol.GrantClientCredentials, protocol.GrantRefreshToken, "device_code"}},
	{command: "gatehouse jwt keygen", flag: "alg", values: []string{jwt.ES256, jwt.EdDSA, jwt.RS256}},
	{command: "gatehouse jwt sign", flag: "alg", values: jwt.DefaultAlgorithms},
	{command: "gatehouse jwt sign", flag: "typ", values: []string{"JWT", "at+jwt"}},
	{command: "gatehouse proxy", flag: "jwt-alg", values: proxy.DefaultExternalAlgorithms},
	{command: "gatehouse proxy", flag: "preset", values: policy.Presets()},
	{command: "gatehouse proxy", flag: "sessions", values: []string{"memory", "sql", "redis://"}},
	{command: "gatehouse api", flag: "method",
		values: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}},
	{flag: "log-level", values: []string{"debug", "info", "warn", "error"}},
	{flag: "signing-alg", values: []string{"ES256", "EdDSA"}},
	{flag: "audit-output", values: []string{"stdout", "stderr", "off"}, files: true},
}

// registerEnumCompletions registers the completion of enumFlags on cmd
// and its subcommands.
func registerEnumCompletions(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		registerEnumCompletions(c)
	}
	for _, e := range enumFlags {
		if (e.command != "" && e.command != cmd.CommandPath()) || cmd.Flags().Lookup(e.flag) == nil {
			continue
		}
		values, directive := e.values, cobra.ShellCompDirectiveNoFileComp
		if e.files {
			directive = cobra.ShellCompDirectiveDefault
		}
		_ = cmd.RegisterFlagCompletionFunc(e.flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, directive
		})
	}
}
