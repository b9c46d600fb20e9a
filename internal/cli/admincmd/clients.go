package admincmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// NewCmdClients is the `gatehouse clients` group.
func NewCmdClients(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Manage OAuth clients",
		Long: `Register, inspect, rotate and remove the OAuth clients of the server.

A confidential client gets a secret that is shown once, when it is created
or rotated; the database keeps only its SHA-256. The built-in public client
gatehouse-cli is what 'gatehouse login' uses.` + adminbackend.DatabaseHelp,
		Example: `  gatehouse clients create ci --grant client_credentials --scope read --role viewer --json
  gatehouse clients list
  gatehouse clients show ci --json
  gatehouse clients rotate-secret ci
  gatehouse clients update mytool --require-par
  gatehouse clients update gatehouse-cli --terminal-login
  gatehouse clients delete ci`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.AddCommand(
		NewCmdClientsCreate(f, nil),
		NewCmdClientsList(f, nil),
		NewCmdClientsShow(f, nil),
		NewCmdClientsDelete(f, nil),
		NewCmdClientsRotateSecret(f, nil),
		NewCmdClientsUpdate(f, nil),
	)
	return cmd
}

// clientJSON is the stable --json form of a client. It never carries the
// secret or its hash.
type clientJSON struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	Roles        []string `json:"roles"`
	Audiences    []string `json:"audiences"`
	PostLogout   []string `json:"post_logout_redirect_uris"`
	FirstParty   bool     `json:"first_party"`
	RequirePAR   bool     `json:"require_pushed_authorization_requests"`
	DPoPRequired bool     `json:"dpop_required"`
	// TerminalLogin: the client may use the password grant.
	TerminalLogin bool            `json:"terminal_login"`
	JWKS          json.RawMessage `json:"jwks,omitempty"`
	CreatedAt     string          `json:"created_at,omitempty"`
	UpdatedAt     string          `json:"updated_at,omitempty"`
}

func toClientJSON(c *storage.Client) clientJSON {
	v := clientJSON{
		ClientID:      c.ID,
		Name:          c.Name,
		Type:          admin.ClientType(c),
		AuthMethod:    c.AuthMethod,
		GrantTypes:    nonNil(c.GrantTypes),
		RedirectURIs:  nonNil(c.RedirectURIs),
		Scopes:        nonNil(c.Scopes),
		Roles:         nonNil(c.Roles),
		Audiences:     nonNil(c.Audiences),
		PostLogout:    nonNil(c.PostLogoutRedirectURIs),
		FirstParty:    c.FirstParty,
		RequirePAR:    c.RequirePAR,
		DPoPRequired:  c.DPoPRequired,
		TerminalLogin: c.TerminalLogin,
		CreatedAt:     jsonTime(c.CreatedAt),
		UpdatedAt:     jsonTime(c.UpdatedAt),
	}
	if c.JWKS != "" && json.Valid([]byte(c.JWKS)) {
		v.JWKS = json.RawMessage(c.JWKS)
	}
	return v
}

// clientSecretJSON is the --json output of create and rotate-secret.
type clientSecretJSON struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// clientError is what a clients command prints for an error of its
// backend about the client id: invalid input is a usage error, an unknown
// client names the list command, a storage failure says what failed
// (verb: "update" gives "update client ...").
func clientError(id, verb string, err error) error {
	if admin.KindOf(err) == 0 {
		return fmt.Errorf("%s client %q: %w", verb, id, err)
	}
	return adminbackend.CommandError(err, "gatehouse clients list")
}
