package server

import (
	"errors"
	"fmt"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toAdminClient(c *storage.Client) adminapi.Client {
	return adminapi.Client{ID: c.ID, Name: c.Name, Public: c.Public, AuthMethod: c.AuthMethod, HasSecret: c.SecretHash != "",
		RedirectURIs: nonNil(c.RedirectURIs), GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes), Roles: nonNil(c.Roles),
		Audiences: nonNil(c.Audiences), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), FirstParty: c.FirstParty, DPoPRequired: c.DPoPRequired, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	cs, err := s.store.ListClients(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminapi.Client, 0, len(cs))
	for _, c := range cs {
		out = append(out, toAdminClient(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (s *Server) adminGetClient(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	c, err := s.store.GetClient(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("client %q not found", r.PathValue("id")))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAdminClient(c))
}

type adminCreateClientRequest struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	AuthMethod   string   `json:"auth_method"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	Roles        []string `json:"roles"`
	Audiences    []string `json:"audiences"`
	// PostLogoutRedirectURIs (OIDC RP-Initiated Logout) match exactly.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	FirstParty             bool     `json:"first_party"`
	// DPoPRequired makes the client send a DPoP proof with every token
	// request (RFC 9449).
	DPoPRequired bool `json:"dpop_required"`
}

// buildAdminClient validates a create request with the rules the CLI
// applies (internal/clientreg); the error is the description of a 400.
func buildAdminClient(req *adminCreateClientRequest) (*storage.Client, error) {
	c := &storage.Client{ID: req.ID, Name: strings.TrimSpace(req.Name), Public: req.Public, AuthMethod: req.AuthMethod,
		RedirectURIs: req.RedirectURIs, Roles: req.Roles, Audiences: req.Audiences,
		PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, FirstParty: req.FirstParty, DPoPRequired: req.DPoPRequired}
	if err := clientreg.CheckClientID(c.ID); err != nil {
		return nil, err
	}
	if err := clientreg.CheckName("the client name", req.Name); err != nil {
		return nil, err
	}
	grants, err := clientreg.NormalizeGrants(req.GrantTypes)
	if err != nil {
		return nil, err
	}
	c.GrantTypes = grants
	if c.Scopes, err = clientreg.CheckScopeList(req.Scopes); err != nil {
		return nil, err
	}
	for _, u := range append(slices.Clone(c.RedirectURIs), c.PostLogoutRedirectURIs...) {
		if err := clientreg.CheckRedirectURI(u); err != nil {
			return nil, err
		}
	}
	if err := clientreg.CheckGrants(c.GrantTypes, c.RedirectURIs, c.Public); err != nil {
		return nil, err
	}
	switch {
	case c.Public && (c.AuthMethod == "" || c.AuthMethod == protocol.AuthMethodNone):
		c.AuthMethod = protocol.AuthMethodNone
	case c.Public:
		return nil, errors.New("a public client uses auth_method none")
	case c.AuthMethod == "":
		c.AuthMethod = protocol.AuthMethodBasic
	case c.AuthMethod != protocol.AuthMethodBasic && c.AuthMethod != protocol.AuthMethodPost:
		return nil, errors.New("auth_method must be client_secret_basic or client_secret_post (or none for a public client)")
	}
	return c, nil
}

func (s *Server) adminCreateClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminCreateClientRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	c, err := buildAdminClient(&req)
	if err == nil {
		err = s.checkClientRegistration(c)
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	if !s.adminCheckRoles(w, r, c.Roles) {
		return
	}
	var sec string
	if !c.Public {
		sec = secret.NewToken()
		c.SecretHash = secret.Hash(sec)
	}
	c.CreatedAt = s.clock.Now().UTC()
	c.UpdatedAt = c.CreatedAt
	if err := s.store.CreateClient(r.Context(), c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("client %q already exists", c.ID))
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.clients.forget(c.ID)
	s.audit.Log(audit.Event{Type: audit.ClientCreated, Outcome: audit.Success, Actor: p.actor, ClientID: c.ID,
		Details: map[string]string{"name": c.Name, "auth_method": c.AuthMethod, "grant_types": strings.Join(c.GrantTypes, " "),
			"scopes": strings.Join(c.Scopes, " "), "roles": strings.Join(c.Roles, " "),
			"audiences": strings.Join(c.Audiences, " "), "first_party": strconv.FormatBool(c.FirstParty),
			"dpop_required": strconv.FormatBool(c.DPoPRequired)}})
	writeJSON(w, http.StatusCreated, adminapi.ClientWithSecret{Client: toAdminClient(c), ClientSecret: sec})
}

func (s *Server) adminDeleteClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	if id == CLIClientID {
		adminError(w, http.StatusConflict, adminErrConflict, "the CLI's own client cannot be deleted")
		return
	}
	err := s.store.DeleteClient(r.Context(), id)
	s.clients.forget(id)
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("client %q not found", id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.ClientDeleted, Outcome: audit.Success, Actor: p.actor, ClientID: id})
	w.WriteHeader(http.StatusNoContent)
}

// errAdminNoSecret stops rotate-secret for a client without a secret.
var errAdminNoSecret = errors.New("client has no secret")

func (s *Server) adminRotateClientSecret(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	sec := secret.NewToken()
	now := s.clock.Now().UTC()
	var c storage.Client
	err := s.store.UpdateClient(r.Context(), id, func(cur *storage.Client) error {
		if cur.Public || cur.SecretHash == "" {
			return errAdminNoSecret
		}
		cur.SecretHash, cur.UpdatedAt = secret.Hash(sec), now
		c = *cur
		return nil
	})
	s.clients.forget(id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("client %q not found", id))
		return
	case errors.Is(err, errAdminNoSecret):
		adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("client %q has no secret to rotate", id))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, Actor: p.actor, ClientID: id,
		Details: map[string]string{"change": "secret rotated"}})
	writeJSON(w, http.StatusOK, adminapi.ClientWithSecret{Client: toAdminClient(&c), ClientSecret: sec})
}

// adminUpdateClientRequest is the body of PATCH /clients/{id}: the members
// present are changed.
type adminUpdateClientRequest struct {
	DPoPRequired *bool `json:"dpop_required"`
}

// adminUpdateClient changes the settings of a client that can change
// without re-registering it: whether it must use DPoP.
func (s *Server) adminUpdateClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminUpdateClientRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if req.DPoPRequired == nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "nothing to change: send {\"dpop_required\": true|false}")
		return
	}
	id := r.PathValue("id")
	var out *storage.Client
	err := s.store.UpdateClient(r.Context(), id, func(c *storage.Client) error {
		c.DPoPRequired = *req.DPoPRequired
		c.UpdatedAt = s.clock.Now().UTC()
		cp := *c
		out = &cp
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("client %q not found", id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.clients.forget(id)
	s.audit.Log(audit.Event{Type: audit.ClientUpdated, Outcome: audit.Success, Actor: p.actor, ClientID: id,
		Details: map[string]string{"dpop_required": strconv.FormatBool(out.DPoPRequired)}})
	writeJSON(w, http.StatusOK, toAdminClient(out))
}
