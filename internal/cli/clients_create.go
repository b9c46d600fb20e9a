package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

type clientsCreateOptions struct {
	IO    command.IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

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

func newClientsCreateCmd(streams command.IOStreams) *cobra.Command {
	opts := &clientsCreateOptions{IO: streams}
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
only to --first-party clients, and never part of a default.` + adminCommandLong + adminAPILong + `
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
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsCreateRun(ctx, opts)
			})
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Grants, "grant", nil, "grant `TYPE` the client may use; repeat or separate with commas")
	f.StringArrayVar(&opts.RedirectURIs, "redirect-uri", nil, "allowed redirect `URI`; repeat for several")
	f.BoolVar(&opts.Public, "public", false, "a public client (no secret; PKCE required), e.g. a native app or CLI")
	f.StringArrayVar(&opts.Scopes, "scope", nil, "`SCOPE` the client may request; repeat for several")
	f.StringSliceVar(&opts.Roles, "role", nil, "`ROLE` of the client's own tokens (admin, editor, viewer or a custom role, see gatehouse roles); repeat for several")
	f.StringArrayVar(&opts.PostLogout, "post-logout-redirect-uri", nil, "`URI` where OpenID Connect RP-initiated logout may send the browser back (exact match; repeatable)")
	f.StringArrayVar(&opts.Audiences, "audience", nil, "resource `URI` (RFC 8707) the client may ask tokens for; without a resource parameter its tokens are for all of them (default audience: the client id); repeat for several")
	f.BoolVar(&opts.FirstParty, "first-party", false, "a client of the operator's own: no consent screen, and it may ask for the admin and account scopes and resources")
	f.BoolVar(&opts.RequirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126 PAR) from the client: /authorize then refuses a request that was not pushed first")
	f.BoolVar(&opts.DPoPRequired, "dpop-required", false, "refuse the client's token requests without a DPoP proof (RFC 9449), so all its tokens are bound to its key")
	f.BoolVar(&opts.TerminalLogin, "terminal-login", false, "allow terminal sign-in (the password grant of 'gatehouse login --terminal'; off by default, RFC 9700 §2.4); needs --first-party")
	f.StringVar(&opts.AuthMethod, "auth-method", "", "token endpoint authentication `METHOD`: client_secret_basic (default), client_secret_post or private_key_jwt")
	f.StringVar(&opts.JWKSFile, "jwks-file", "", "JSON Web Key Set `FILE` with the client's public keys (private_key_jwt)")
	f.StringVar(&opts.ID, "id", "", "client `ID` (default: derived from NAME)")
	f.BoolVar(&opts.JSON, "json", false, "print {\"client_id\", \"client_secret\"} as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

// buildClient validates the options and returns the client to store,
// without a secret.
func buildClient(opts *clientsCreateOptions) (*storage.Client, error) {
	name := strings.TrimSpace(opts.Name)
	if name == "" {
		return nil, command.UsageErrorf("the client name must not be empty")
	}
	id := opts.ID
	if id == "" {
		var err error
		if id, err = slugClientID(name); err != nil {
			return nil, err
		}
	}
	if err := checkClientID(id); err != nil {
		return nil, err
	}
	if len(opts.Grants) == 0 {
		return nil, command.UsageErrorf("give at least one --grant: authorization_code, client_credentials, refresh_token or device_code")
	}
	grants, err := normalizeGrants(opts.Grants)
	if err != nil {
		return nil, err
	}
	scopes, err := checkScopes(opts.Scopes)
	if err != nil {
		return nil, err
	}
	roles, err := checkRoles(opts.Roles)
	if err != nil {
		return nil, err
	}
	var uris []string
	for _, u := range opts.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
		if !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}

	if err := clientreg.CheckGrants(grants, uris, opts.Public); err != nil {
		return nil, command.UsageErrorf("%v (see --grant, --redirect-uri, --public)", err)
	}
	if err := clientreg.CheckName("the client name", name); err != nil {
		return nil, command.UsageErrorf("%v", err)
	}

	method := opts.AuthMethod
	switch {
	case opts.Public && (method == "" || method == protocol.AuthMethodNone):
		method = protocol.AuthMethodNone
	case opts.Public:
		return nil, command.UsageErrorf("a public client authenticates with no secret; drop --auth-method %s or --public", method)
	case method == "":
		method = protocol.AuthMethodBasic
	case method == protocol.AuthMethodNone:
		return nil, command.UsageErrorf("--auth-method none is for public clients; use --public")
	case method != protocol.AuthMethodBasic && method != protocol.AuthMethodPost && method != protocol.AuthMethodPrivateKeyJWT:
		return nil, command.UsageErrorf("unknown --auth-method %q; use client_secret_basic, client_secret_post or private_key_jwt", method)
	}
	var jwks string
	switch {
	case method == protocol.AuthMethodPrivateKeyJWT && opts.JWKSFile == "":
		return nil, command.UsageErrorf("private_key_jwt needs the client's public keys: add --jwks-file FILE")
	case method != protocol.AuthMethodPrivateKeyJWT && opts.JWKSFile != "":
		return nil, command.UsageErrorf("--jwks-file is only used with --auth-method private_key_jwt")
	case opts.JWKSFile != "":
		if jwks, err = readJWKS(opts.JWKSFile); err != nil {
			return nil, err
		}
	}

	var postLogout []string
	for _, u := range opts.PostLogout {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
		if !slices.Contains(postLogout, u) {
			postLogout = append(postLogout, u)
		}
	}
	var audiences []string
	for _, a := range opts.Audiences {
		if !slices.Contains(audiences, a) {
			audiences = append(audiences, a)
		}
	}
	c := &storage.Client{
		ID:           id,
		Name:         name,
		Public:       opts.Public,
		AuthMethod:   method,
		JWKS:         jwks,
		RedirectURIs: uris,
		GrantTypes:   grants,
		Scopes:       scopes,
		Roles:        roles,
		Audiences:    audiences,
		FirstParty:   opts.FirstParty,
		RequirePAR:   opts.RequirePAR,
		DPoPRequired: opts.DPoPRequired,

		PostLogoutRedirectURIs: postLogout,
		TerminalLogin:          opts.TerminalLogin,
	}
	if err := clientreg.CheckTerminalLogin(c.FirstParty, c.TerminalLogin); err != nil {
		return nil, command.UsageErrorf("--terminal-login: %v; add --first-party for a client of your own", err)
	}
	if err := server.CheckClientRegistration(opts.issuer(), c); err != nil {
		return nil, command.UsageErrorf("%v (add --first-party for a client of your own)", err)
	}
	return c, nil
}

// issuer is the issuer of the server whose database the command works on
// ("" over the admin API, where the server checks its own resources).
func (o *clientsCreateOptions) issuer() string {
	if o.Admin == nil || o.Admin.Config == nil {
		return ""
	}
	return o.Admin.Config.Issuer
}

// hasSecret reports whether a client authenticates with a shared secret.
func hasSecret(c *storage.Client) bool {
	return !c.Public && c.AuthMethod != protocol.AuthMethodPrivateKeyJWT && c.AuthMethod != protocol.AuthMethodNone
}

func clientsCreateRun(ctx context.Context, opts *clientsCreateOptions) error {
	if opts.API != nil && opts.AuthMethod == protocol.AuthMethodPrivateKeyJWT {
		return command.UsageErrorf("the admin API cannot create private_key_jwt clients (it takes no JWKS); use --db or --data-dir to create the client on the database")
	}
	c, err := buildClient(opts)
	if err != nil {
		return err
	}
	if opts.API != nil {
		created, sec, err := opts.API.createClient(ctx, c)
		if apiStatus(err, http.StatusConflict) {
			return fmt.Errorf("client %q already exists; choose another ID with --id, or delete it first with 'gatehouse clients delete %s'", c.ID, c.ID)
		}
		if err != nil {
			return fmt.Errorf("create client: %w", err)
		}
		return printNewClient(opts, created, sec)
	}
	env := opts.Admin
	if err := checkRolesExist(ctx, env.Store, c.Roles); err != nil {
		return err
	}
	var sec string
	if hasSecret(c) {
		sec = secret.NewToken()
		c.SecretHash = secret.Hash(sec)
	}
	c.CreatedAt = env.now()
	c.UpdatedAt = c.CreatedAt
	if err := env.Store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("client %q already exists; choose another ID with --id, or delete it first with 'gatehouse clients delete %s'", c.ID, c.ID)
		}
		return fmt.Errorf("create client: %w", err)
	}
	env.log(audit.Event{
		Type:     audit.ClientCreated,
		ClientID: c.ID,
		Details: map[string]string{
			"name":           c.Name,
			"type":           clientType(c),
			"auth_method":    c.AuthMethod,
			"grant_types":    strings.Join(c.GrantTypes, " "),
			"scopes":         strings.Join(c.Scopes, " "),
			"roles":          strings.Join(c.Roles, " "),
			"audiences":      strings.Join(c.Audiences, " "),
			"first_party":    strconv.FormatBool(c.FirstParty),
			"require_par":    strconv.FormatBool(c.RequirePAR),
			"dpop_required":  strconv.FormatBool(c.DPoPRequired),
			"terminal_login": strconv.FormatBool(c.TerminalLogin),
		},
	})

	return printNewClient(opts, c, sec)
}

// printNewClient prints a client just created, with its secret if any.
func printNewClient(opts *clientsCreateOptions, c *storage.Client, sec string) error {
	if opts.JSON {
		return writeJSON(opts.IO.Out, clientSecretJSON{ClientID: c.ID, ClientSecret: sec})
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Created %s client %q (%s).\n", clientType(c), c.Name, c.AuthMethod)
	fmt.Fprintf(out, "Client ID:     %s\n", c.ID)
	if sec == "" {
		return nil
	}
	fmt.Fprintf(out, "Client secret: %s\n\n", sec)
	_, err := fmt.Fprintf(out, "The secret is shown only this once: store it now. Replace it with 'gatehouse clients rotate-secret %s'.\n", c.ID)
	return err
}
