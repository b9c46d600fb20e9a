package admincmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// ClientsCreateOptions are the streams, the backend and the flag values of `gatehouse clients create`.
type ClientsCreateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Name         string
	ID           string
	Grants       []string
	RedirectURIs []string
	Scopes       []string
	Roles        []string
	Audiences    []string
	PostLogout   []string
	Public       bool
	FirstParty   bool
	RequirePAR   bool
	DPoPRequired bool
	// TerminalLogin allows the password grant (first-party only).
	TerminalLogin bool
	AuthMethod    string
	JWKSFile      string
	JSON          bool
}

// NewCmdClientsCreate is `gatehouse clients create`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsCreate(f *command.Factory, runF func(*ClientsCreateOptions) error) *cobra.Command {
	opts := &ClientsCreateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "create NAME --grant GRANT... [flags]",
		Short: "Register a new OAuth client",
		Long: `Register a new OAuth client called NAME.

The client ID is --id, or NAME in lower case with other characters turned
into "-". A confidential client gets a random secret that is printed once:
store it now, the server keeps only its SHA-256. Public clients (--public)
and private_key_jwt clients have no secret.

Grants: authorization_code (needs at least one --redirect-uri; public
clients must use PKCE), client_credentials (confidential clients only),
refresh_token, and device_code (urn:ietf:params:oauth:grant-type:device_code).
Redirect URIs are exact https URLs, http only on 127.0.0.1, [::1] or
localhost (a loopback URI without port accepts any port), or private-use
schemes like com.example.app:/callback.

Roles (admin, editor, viewer or custom roles) are what a client_credentials token carries.

Audiences (--audience, RFC 8707 resource indicators) are the resource
servers the client's tokens may be for: an access token's aud is the
resources the client asked for, or all of its audiences when it asked for
none, or its own client id when it has none. The server's own APIs
(ISSUER/admin and ISSUER/account) and the admin and account scopes are open
only to --first-party clients, and never part of a default.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp + `
The admin API does not take private_key_jwt clients: create those with
--db or --data-dir.`,
		Example: `  # A CI job that calls an API with its own credentials
  gatehouse clients create ci --grant client_credentials --scope read --role viewer \
      --audience https://api.example.com --json --data-dir ./gatehouse-data

  # A web app (confidential, authorization code + refresh)
  gatehouse clients create "Grafana" --grant authorization_code --grant refresh_token \
      --redirect-uri https://grafana.example/login/generic_oauth --scope openid --scope profile

  # A native app or CLI (public, PKCE, loopback redirect on any port)
  gatehouse clients create mytool --public --grant authorization_code --grant device_code \
      --grant refresh_token --redirect-uri http://127.0.0.1/callback

  # A web app whose authorization requests must be pushed first (RFC 9126)
  gatehouse clients create portal --grant authorization_code \
      --redirect-uri https://portal.example/callback --require-par

  # A service whose tokens must all be DPoP-bound (RFC 9449)
  gatehouse clients create batch --grant client_credentials --dpop-required`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsCreateRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringSliceVar(&opts.Grants, "grant", nil, "grant `TYPE` the client may use; repeat or separate with commas")
	flags.StringArrayVar(&opts.RedirectURIs, "redirect-uri", nil, "allowed redirect `URI`; repeat for several")
	flags.BoolVar(&opts.Public, "public", false, "a public client (no secret; PKCE required), e.g. a native app or CLI")
	flags.StringArrayVar(&opts.Scopes, "scope", nil, "`SCOPE` the client may request; repeat for several")
	flags.StringSliceVar(&opts.Roles, "role", nil, "`ROLE` of the client's own tokens (admin, editor, viewer or a custom role, see gatehouse roles); repeat for several")
	flags.StringArrayVar(&opts.PostLogout, "post-logout-redirect-uri", nil, "`URI` where OpenID Connect RP-initiated logout may send the browser back (exact match; repeatable)")
	flags.StringArrayVar(&opts.Audiences, "audience", nil, "resource `URI` (RFC 8707) the client may ask tokens for; without a resource parameter its tokens are for all of them (default audience: the client id); repeat for several")
	flags.BoolVar(&opts.FirstParty, "first-party", false, "a client of the operator's own: no consent screen, and it may ask for the admin and account scopes and resources")
	flags.BoolVar(&opts.RequirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126 PAR) from the client: /authorize then refuses a request that was not pushed first")
	flags.BoolVar(&opts.DPoPRequired, "dpop-required", false, "refuse the client's token requests without a DPoP proof (RFC 9449), so all its tokens are bound to its key")
	flags.BoolVar(&opts.TerminalLogin, "terminal-login", false, "allow terminal sign-in (the password grant of 'gatehouse login --terminal'; off by default, RFC 9700 §2.4); needs --first-party")
	flags.StringVar(&opts.AuthMethod, "auth-method", "", "token endpoint authentication `METHOD`: client_secret_basic (default), client_secret_post or private_key_jwt")
	flags.StringVar(&opts.JWKSFile, "jwks-file", "", "JSON Web Key Set `FILE` with the client's public keys (private_key_jwt)")
	flags.StringVar(&opts.ID, "id", "", "client `ID` (default: derived from NAME)")
	flags.BoolVar(&opts.JSON, "json", false, "print {\"client_id\", \"client_secret\"} as JSON")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

// newClient reads the options into the client to register: the ID
// derived from the name when not given, --scope values split at spaces
// (as in a scope parameter), and the key set read from --jwks-file. The
// admin layer checks the rest.
func newClient(opts *ClientsCreateOptions) (admin.NewClient, error) {
	id := opts.ID
	if id == "" && strings.TrimSpace(opts.Name) != "" {
		var err error
		if id, err = slugClientID(strings.TrimSpace(opts.Name)); err != nil {
			return admin.NewClient{}, err
		}
	}
	scopes, err := checkScopes(opts.Scopes)
	if err != nil {
		return admin.NewClient{}, err
	}
	var jwks string
	switch {
	case opts.JWKSFile != "" && opts.AuthMethod != protocol.AuthMethodPrivateKeyJWT:
		return admin.NewClient{}, command.UsageErrorf("--jwks-file is only used with --auth-method private_key_jwt")
	case opts.JWKSFile != "":
		if jwks, err = readJWKS(opts.JWKSFile); err != nil {
			return admin.NewClient{}, err
		}
	}
	return admin.NewClient{ID: id, Name: opts.Name, Public: opts.Public, AuthMethod: opts.AuthMethod, JWKS: jwks,
		GrantTypes: opts.Grants, RedirectURIs: opts.RedirectURIs, Scopes: scopes, Roles: opts.Roles,
		Audiences: opts.Audiences, PostLogoutRedirectURIs: opts.PostLogout, FirstParty: opts.FirstParty,
		RequirePAR: opts.RequirePAR, DPoPRequired: opts.DPoPRequired, TerminalLogin: opts.TerminalLogin}, nil
}

// clientFlagHints are the flags a refusal of clients create about a
// member of the client (admin.Error.Field) points at.
var clientFlagHints = map[string]string{
	admin.FieldGrants:     "see --grant, --redirect-uri, --public",
	admin.FieldAuthMethod: "see --auth-method and --public",
	admin.FieldJWKS:       "see --auth-method and --jwks-file",
	admin.FieldFirstParty: "add --first-party for a client of your own",
}

// createClientError is what clients create prints for a refusal: invalid
// input is a usage error pointing at the flags, a taken ID says what to
// do about it.
func createClientError(id string, err error) error {
	var e *admin.Error
	switch {
	case !errors.As(err, &e):
		return fmt.Errorf("create client: %w", err)
	case e.Kind == admin.Conflict:
		return fmt.Errorf("%w; choose another ID with --id, or delete it first with 'gatehouse clients delete %s'", err, id)
	case e.Kind == admin.Invalid && clientFlagHints[e.Field] != "":
		return &command.UsageError{Err: fmt.Errorf("%w (%s)", err, clientFlagHints[e.Field])}
	}
	return adminbackend.CommandError(err, "gatehouse clients list")
}

func clientsCreateRun(ctx context.Context, opts *ClientsCreateOptions) error {
	nc, err := newClient(opts)
	if err != nil {
		return err
	}
	c, sec, err := opts.Backend.CreateClient(ctx, nc)
	if err != nil {
		return createClientError(nc.ID, err)
	}
	return printNewClient(opts, c, sec)
}

// printNewClient prints a client just created, with its secret if any.
func printNewClient(opts *ClientsCreateOptions, c *storage.Client, sec string) error {
	if opts.JSON {
		return writeJSON(opts.IO.Out, clientSecretJSON{ClientID: c.ID, ClientSecret: sec})
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Created %s client %q (%s).\n", admin.ClientType(c), c.Name, c.AuthMethod)
	fmt.Fprintf(out, "Client ID:     %s\n", c.ID)
	if sec == "" {
		return nil
	}
	fmt.Fprintf(out, "Client secret: %s\n\n", sec)
	_, err := fmt.Fprintf(out, "The secret is shown only this once: store it now. Replace it with 'gatehouse clients rotate-secret %s'.\n", c.ID)
	return err
}
