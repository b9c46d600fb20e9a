package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
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
		Audiences: nonNil(c.Audiences), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), FirstParty: c.FirstParty, RequirePAR: c.RequirePAR, DPoPRequired: c.DPoPRequired,
		TerminalLogin: c.TerminalLogin, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	cs, err := s.adminOps().ListClients(r.Context())
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
	c, err := s.adminOps().GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		s.adminFail(w, r, err)
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
	RequirePAR             bool     `json:"require_pushed_authorization_requests"`
	// DPoPRequired makes the client send a DPoP proof with every token
	// request (RFC 9449).
	DPoPRequired  bool `json:"dpop_required"`
	TerminalLogin bool `json:"terminal_login"`
}

// adminCreateClient registers a client through the admin layer, which
// applies the rules the CLI applies; the API takes no JWKS, so no
// private_key_jwt clients.
func (s *Server) adminCreateClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminCreateClientRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	c, sec, ev, err := s.adminOps().CreateClient(r.Context(), admin.NewClient{ID: req.ID, Name: req.Name, Public: req.Public,
		AuthMethod: req.AuthMethod, GrantTypes: req.GrantTypes, RedirectURIs: req.RedirectURIs, Scopes: req.Scopes,
		Roles: req.Roles, Audiences: req.Audiences, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
		FirstParty: req.FirstParty, RequirePAR: req.RequirePAR, DPoPRequired: req.DPoPRequired, TerminalLogin: req.TerminalLogin})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.clients.forget(c.ID)
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusCreated, adminapi.ClientWithSecret{Client: toAdminClient(c), ClientSecret: sec})
}

func (s *Server) adminDeleteClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	if id == CLIClientID {
		adminError(w, http.StatusConflict, adminErrConflict, "the CLI's own client cannot be deleted")
		return
	}
	ev, err := s.adminOps().DeleteClient(r.Context(), id)
	s.clients.forget(id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminRotateClientSecret(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	c, sec, ev, err := s.adminOps().RotateClientSecret(r.Context(), id)
	s.clients.forget(id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, adminapi.ClientWithSecret{Client: toAdminClient(c), ClientSecret: sec})
}

// adminUpdateClientRequest is the body of PATCH /clients/{id}: the members
// present are changed, absent ones stay.
type adminUpdateClientRequest struct {
	RequirePAR    *bool `json:"require_pushed_authorization_requests"`
	DPoPRequired  *bool `json:"dpop_required"`
	TerminalLogin *bool `json:"terminal_login"`
}

// adminUpdateClient changes the settings of a client that can change
// without re-registering it (admin.Service.UpdateClient): whether it must
// push its authorization requests (PAR), must use DPoP, or may sign users
// in at a terminal.
func (s *Server) adminUpdateClient(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	var req adminUpdateClientRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	c, ev, err := s.adminOps().UpdateClient(r.Context(), id,
		admin.ClientSettings{RequirePAR: req.RequirePAR, DPoPRequired: req.DPoPRequired, TerminalLogin: req.TerminalLogin})
	s.clients.forget(id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, toAdminClient(c))
}
