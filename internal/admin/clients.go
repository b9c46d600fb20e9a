package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The members of a client registration an Invalid refusal can be about
// (Error.Field): front ends point at their own word for it, the CLI at a
// flag.
const (
	FieldGrants     = "grant_types"
	FieldAuthMethod = "auth_method"
	FieldJWKS       = "jwks"
	FieldFirstParty = "first_party"
)

// invalidField is an Invalid refusal about the request member field.
func invalidField(field string, err error) error {
	return &Error{Kind: Invalid, Err: err, Field: field}
}

// NewClient is an OAuth client to register.
type NewClient struct {
	ID   string
	Name string
	// Public clients have no secret and use auth method none.
	Public bool
	// AuthMethod is client_secret_basic (the default for a confidential
	// client), client_secret_post, private_key_jwt or none (public).
	AuthMethod string
	// JWKS is the JSON Web Key Set of a private_key_jwt client.
	JWKS string
	// GrantTypes may use the alias device_code.
	GrantTypes   []string
	RedirectURIs []string
	// Scopes are one scope token each.
	Scopes    []string
	Roles     []string
	Audiences []string
	// PostLogoutRedirectURIs (OIDC RP-Initiated Logout) match exactly.
	PostLogoutRedirectURIs []string
	FirstParty             bool
	RequirePAR             bool
	DPoPRequired           bool
	TerminalLogin          bool
}

// Check applies the rules of a client registration that need no store
// (package clientreg, then the server's rules on resources, Options.
// CheckClient) and returns the client as it would be stored, without a
// secret: name trimmed, grant aliases resolved, lists without duplicates,
// the default auth method filled in.
func (nc NewClient) Check(serverRules func(*storage.Client) error) (*storage.Client, error) {
	if err := clientreg.CheckName("the client name", nc.Name); err != nil {
		return nil, invalid(err)
	}
	if err := clientreg.CheckClientID(nc.ID); err != nil {
		return nil, invalid(err)
	}
	grants, err := clientreg.NormalizeGrants(nc.GrantTypes)
	if err != nil {
		return nil, invalidField(FieldGrants, err)
	}
	scopes, err := clientreg.CheckScopeList(nc.Scopes)
	if err != nil {
		return nil, invalid(err)
	}
	roles, err := NormalizeRoles(nc.Roles)
	if err != nil {
		return nil, err
	}
	uris, err := checkRedirectURIs(nc.RedirectURIs)
	if err != nil {
		return nil, err
	}
	postLogout, err := checkRedirectURIs(nc.PostLogoutRedirectURIs)
	if err != nil {
		return nil, err
	}
	if err := clientreg.CheckGrants(grants, uris, nc.Public); err != nil {
		return nil, invalidField(FieldGrants, err)
	}
	method, err := checkAuthMethod(nc.Public, nc.AuthMethod, nc.JWKS)
	if err != nil {
		return nil, err
	}
	if err := clientreg.CheckTerminalLogin(nc.FirstParty, nc.TerminalLogin); err != nil {
		return nil, invalidField(FieldFirstParty, err)
	}
	c := &storage.Client{ID: nc.ID, Name: strings.TrimSpace(nc.Name), Public: nc.Public, AuthMethod: method, JWKS: nc.JWKS,
		RedirectURIs: uris, GrantTypes: grants, Scopes: scopes, Roles: roles, Audiences: dedupe(nc.Audiences),
		PostLogoutRedirectURIs: postLogout, FirstParty: nc.FirstParty, RequirePAR: nc.RequirePAR,
		DPoPRequired: nc.DPoPRequired, TerminalLogin: nc.TerminalLogin}
	if serverRules != nil {
		if err := serverRules(c); err != nil {
			return nil, invalidField(FieldFirstParty, err)
		}
	}
	return c, nil
}

// checkRedirectURIs checks each URI (clientreg.CheckRedirectURI) and
// returns them without duplicates.
func checkRedirectURIs(in []string) ([]string, error) {
	for _, u := range in {
		if err := clientreg.CheckRedirectURI(u); err != nil {
			return nil, invalid(err)
		}
	}
	return dedupe(in), nil
}

// dedupe returns in without repeated elements, in order; nil for none.
func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkAuthMethod returns the auth method of a client: none for a public
// one, client_secret_basic by default, and the JWKS only with
// private_key_jwt.
func checkAuthMethod(public bool, method, jwks string) (string, error) {
	switch {
	case public && (method == "" || method == protocol.AuthMethodNone):
		method = protocol.AuthMethodNone
	case public:
		return "", invalidField(FieldAuthMethod, fmt.Errorf("a public client authenticates with no secret; it cannot use auth method %s", method))
	case method == "":
		method = protocol.AuthMethodBasic
	case method == protocol.AuthMethodNone:
		return "", invalidField(FieldAuthMethod, errors.New("auth method none is for public clients"))
	case method != protocol.AuthMethodBasic && method != protocol.AuthMethodPost && method != protocol.AuthMethodPrivateKeyJWT:
		return "", invalidField(FieldAuthMethod, fmt.Errorf("unknown auth method %q; use client_secret_basic, client_secret_post or private_key_jwt", method))
	}
	switch {
	case method == protocol.AuthMethodPrivateKeyJWT && jwks == "":
		return "", invalidField(FieldJWKS, errors.New("private_key_jwt needs the client's public keys (a JSON Web Key Set)"))
	case method != protocol.AuthMethodPrivateKeyJWT && jwks != "":
		return "", invalidField(FieldJWKS, errors.New("a JSON Web Key Set is only used with private_key_jwt"))
	}
	return method, nil
}

// HasSecret reports whether a client authenticates with a shared secret.
func HasSecret(c *storage.Client) bool {
	return !c.Public && c.AuthMethod != protocol.AuthMethodPrivateKeyJWT && c.AuthMethod != protocol.AuthMethodNone
}

// ClientType is "public" or "confidential".
func ClientType(c *storage.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

// clientNotFound is the refusal for the unknown client id.
func clientNotFound(id string) error { return notFoundf("client %q not found", id) }

// ListClients returns every client.
func (s *Service) ListClients(ctx context.Context) ([]*storage.Client, error) {
	return s.store.ListClients(ctx)
}

// GetClient returns the client id.
func (s *Service) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := s.store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, clientNotFound(id)
	}
	return c, err
}

// CreateClient checks and registers a client and returns it with its
// secret, shown only this once ("" for a client without one). Whoever
// caches clients forgets this id.
func (s *Service) CreateClient(ctx context.Context, nc NewClient) (*storage.Client, string, audit.Event, error) {
	c, err := nc.Check(s.checkClient)
	if err != nil {
		return nil, "", audit.Event{}, err
	}
	if err := s.CheckRolesExist(ctx, c.Roles); err != nil {
		return nil, "", audit.Event{}, err
	}
	var sec string
	if HasSecret(c) {
		sec = secret.NewToken()
		c.SecretHash = secret.Hash(sec)
	}
	c.CreatedAt = s.clock.Now().UTC()
	c.UpdatedAt = c.CreatedAt
	if err := s.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return nil, "", audit.Event{}, conflictf("client %q already exists", c.ID)
		}
		return nil, "", audit.Event{}, err
	}
	return c, sec, audit.Event{Type: audit.ClientCreated, Outcome: audit.Success, ClientID: c.ID,
		Details: map[string]string{"name": c.Name, "type": ClientType(c), "auth_method": c.AuthMethod,
			"grant_types": strings.Join(c.GrantTypes, " "), "scopes": strings.Join(c.Scopes, " "),
			"roles": strings.Join(c.Roles, " "), "audiences": strings.Join(c.Audiences, " "),
			"first_party": strconv.FormatBool(c.FirstParty), "require_par": strconv.FormatBool(c.RequirePAR),
			"dpop_required": strconv.FormatBool(c.DPoPRequired), "terminal_login": strconv.FormatBool(c.TerminalLogin)}}, nil
}

// ClientSettings are the settings of a client that can change without
// registering it again. A nil member stays as it is.
type ClientSettings struct {
	// RequirePAR: only pushed authorization requests (RFC 9126).
	RequirePAR *bool
	// DPoPRequired: no token without a DPoP proof (RFC 9449).
	DPoPRequired *bool
	// TerminalLogin: the password grant for `gatehouse login --terminal`;
	// only ever for first-party clients.
	TerminalLogin *bool
}

// Empty says that s changes nothing.
func (s ClientSettings) Empty() bool {
	return s.RequirePAR == nil && s.DPoPRequired == nil && s.TerminalLogin == nil
}

// UpdateClient applies set to the client id and returns the client as
// stored. Turning terminal sign-in on for a third-party client is
// refused (clientreg.ErrTerminalLoginThirdParty). The event
// (client.updated) names each change in its details, e.g.
// "terminal_login on, dpop_required off"; it is empty when no setting had
// another value before. Whoever caches clients forgets this id.
func (s *Service) UpdateClient(ctx context.Context, id string, set ClientSettings) (*storage.Client, audit.Event, error) {
	if set.Empty() {
		return nil, audit.Event{}, invalidf("nothing to change: give require_pushed_authorization_requests, dpop_required or terminal_login (true or false)")
	}
	now := s.clock.Now().UTC()
	var (
		changes []string
		details map[string]string
		c       storage.Client
	)
	apply := func(name string, cur *bool, want *bool) {
		if want == nil {
			return
		}
		details[name] = strconv.FormatBool(*want)
		if *cur != *want {
			*cur = *want
			state := "off"
			if *want {
				state = "on"
			}
			changes = append(changes, name+" "+state)
		}
	}
	err := s.store.UpdateClient(ctx, id, func(cur *storage.Client) error {
		changes, details = nil, map[string]string{}
		if set.TerminalLogin != nil {
			if err := clientreg.CheckTerminalLogin(cur.FirstParty, *set.TerminalLogin); err != nil {
				return err
			}
		}
		apply("terminal_login", &cur.TerminalLogin, set.TerminalLogin)
		apply("require_par", &cur.RequirePAR, set.RequirePAR)
		apply("dpop_required", &cur.DPoPRequired, set.DPoPRequired)
		if len(changes) > 0 {
			cur.UpdatedAt = now
		}
		c = *cur
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, audit.Event{}, clientNotFound(id)
	case errors.Is(err, clientreg.ErrTerminalLoginThirdParty):
		return nil, audit.Event{}, invalidField(FieldFirstParty, fmt.Errorf("client %q: %w", id, clientreg.ErrTerminalLoginThirdParty))
	case err != nil:
		return nil, audit.Event{}, err
	case len(changes) == 0:
		return &c, audit.Event{}, nil
	}
	details["change"] = strings.Join(changes, ", ")
	return &c, audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, ClientID: id, Details: details}, nil
}

// errNoSecret stops rotating the secret of a client without one.
var errNoSecret = errors.New("client has no secret")

// RotateClientSecret gives the client id a new secret, which works at
// once and alone, and returns the client with it. Public and
// private_key_jwt clients have no secret to rotate. Whoever caches
// clients forgets this id.
func (s *Service) RotateClientSecret(ctx context.Context, id string) (*storage.Client, string, audit.Event, error) {
	sec := secret.NewToken()
	now := s.clock.Now().UTC()
	var c storage.Client
	err := s.store.UpdateClient(ctx, id, func(cur *storage.Client) error {
		c = *cur
		if !HasSecret(cur) {
			return errNoSecret
		}
		cur.SecretHash, cur.UpdatedAt = secret.Hash(sec), now
		c = *cur
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, "", audit.Event{}, clientNotFound(id)
	case errors.Is(err, errNoSecret) && c.Public:
		return nil, "", audit.Event{}, conflictf("client %q is public: it has no secret to rotate", id)
	case errors.Is(err, errNoSecret) && c.AuthMethod == protocol.AuthMethodPrivateKeyJWT:
		return nil, "", audit.Event{}, conflictf("client %q authenticates with private_key_jwt: it has no secret to rotate", id)
	case errors.Is(err, errNoSecret):
		return nil, "", audit.Event{}, conflictf("client %q (auth method %s) has no secret to rotate", id, c.AuthMethod)
	case err != nil:
		return nil, "", audit.Event{}, err
	}
	return &c, sec, audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, ClientID: id,
		Details: map[string]string{"change": "secret rotated"}}, nil
}

// DeleteClient deletes the client id; it can no longer authenticate.
// Whoever caches clients forgets this id.
func (s *Service) DeleteClient(ctx context.Context, id string) (audit.Event, error) {
	err := s.store.DeleteClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return audit.Event{}, clientNotFound(id)
	}
	if err != nil {
		return audit.Event{}, err
	}
	return audit.Event{Type: audit.ClientDeleted, Outcome: audit.Success, ClientID: id}, nil
}
