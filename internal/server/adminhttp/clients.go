package adminhttp

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toClient(c *storage.Client) adminapi.Client {
	return adminapi.Client{ID: c.ID, Name: c.Name, Public: c.Public, AuthMethod: c.AuthMethod, HasSecret: c.SecretHash != "",
		RedirectURIs: nonNil(c.RedirectURIs), GrantTypes: nonNil(c.GrantTypes), Scopes: nonNil(c.Scopes), Roles: nonNil(c.Roles),
		Audiences: nonNil(c.Audiences), PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), FirstParty: c.FirstParty, RequirePAR: c.RequirePAR, DPoPRequired: c.DPoPRequired,
		TerminalLogin: c.TerminalLogin, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request, _ *Principal) {
	cs, err := a.d.Admin.ListClients(r.Context())
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	out := make([]adminapi.Client, 0, len(cs))
	for _, c := range cs {
		out = append(out, toClient(c))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request, _ *Principal) {
	c, err := a.d.Admin.GetClient(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, toClient(c))
}

// createClient registers a client through the admin layer, which
// applies the rules the CLI applies; the API takes no JWKS, so no
// private_key_jwt clients.
func (a *API) createClient(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.CreateClientRequest
	if !decodeBody(w, r, &req) {
		return
	}
	c, sec, ev, err := a.d.Admin.CreateClient(r.Context(), admin.NewClient{ID: req.ID, Name: req.Name, Public: req.Public,
		AuthMethod: req.AuthMethod, GrantTypes: req.GrantTypes, RedirectURIs: req.RedirectURIs, Scopes: req.Scopes,
		Roles: req.Roles, Audiences: req.Audiences, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
		FirstParty: req.FirstParty, RequirePAR: req.RequirePAR, DPoPRequired: req.DPoPRequired, TerminalLogin: req.TerminalLogin})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.d.ForgetClient(c.ID)
	a.record(p, ev)
	respond.JSON(w, http.StatusCreated, adminapi.ClientWithSecret{Client: toClient(c), ClientSecret: sec})
}

func (a *API) deleteClient(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("id")
	if id == a.d.CLIClientID {
		respond.Error(w, http.StatusConflict, errConflict, "the CLI's own client cannot be deleted")
		return
	}
	ev, err := a.d.Admin.DeleteClient(r.Context(), id)
	a.d.ForgetClient(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) rotateClientSecret(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("id")
	c, sec, ev, err := a.d.Admin.RotateClientSecret(r.Context(), id)
	a.d.ForgetClient(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, adminapi.ClientWithSecret{Client: toClient(c), ClientSecret: sec})
}

// updateClient changes the settings of a client that can change
// without re-registering it (admin.Service.UpdateClient): whether it must
// push its authorization requests (PAR), must use DPoP, or may sign users
// in at a terminal.
func (a *API) updateClient(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("id")
	var req adminapi.UpdateClientRequest
	if !decodeBody(w, r, &req) {
		return
	}
	c, ev, err := a.d.Admin.UpdateClient(r.Context(), id,
		admin.ClientSettings{RequirePAR: req.RequirePAR, DPoPRequired: req.DPoPRequired, TerminalLogin: req.TerminalLogin})
	a.d.ForgetClient(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, toClient(c))
}
