package adminhttp

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ToRole is the admin API (and CLI --json) form of a role.
func ToRole(r *storage.Role) adminapi.Role {
	return adminapi.Role{Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), Builtin: rolereg.IsBuiltin(r.Name),
		CreatedAt: timePtr(r.CreatedAt), UpdatedAt: timePtr(r.UpdatedAt)}
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request, _ *Principal) {
	roles, err := a.d.Admin.ListRoles(r.Context())
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	out := make([]adminapi.Role, 0, len(roles))
	for _, role := range roles {
		out = append(out, ToRole(role))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"roles": out})
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request, _ *Principal) {
	role, err := a.d.Admin.GetRole(r.Context(), r.PathValue("name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, ToRole(role))
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.CreateRoleRequest
	if !decodeBody(w, r, &req) {
		return
	}
	role, ev, err := a.d.Admin.CreateRole(r.Context(), admin.NewRole{Name: req.Name, Description: req.Description, Permissions: req.Permissions})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusCreated, ToRole(role))
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.UpdateRoleRequest
	if !decodeBody(w, r, &req) {
		return
	}
	role, ev, err := a.d.Admin.UpdateRole(r.Context(), r.PathValue("name"), admin.RoleUpdate{Description: req.Description,
		Permissions: req.Permissions, Add: req.AddPermissions, Remove: req.RemovePermissions})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, ToRole(role))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request, p *Principal) {
	ev, err := a.d.Admin.DeleteRole(r.Context(), r.PathValue("name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	w.WriteHeader(http.StatusNoContent)
}
