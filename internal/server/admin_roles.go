package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ToAdminRole is the admin API (and CLI --json) form of a role.
func ToAdminRole(r *storage.Role) adminapi.Role {
	return adminapi.Role{Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), Builtin: rolereg.IsBuiltin(r.Name),
		CreatedAt: timePtr(r.CreatedAt), UpdatedAt: timePtr(r.UpdatedAt)}
}

func (s *Server) adminListRoles(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	roles, err := s.adminOps().ListRoles(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminapi.Role, 0, len(roles))
	for _, role := range roles {
		out = append(out, ToAdminRole(role))
	}
	writeJSON(w, http.StatusOK, map[string]any{"roles": out})
}

func (s *Server) adminGetRole(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	role, err := s.adminOps().GetRole(r.Context(), r.PathValue("name"))
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ToAdminRole(role))
}

type adminCreateRoleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

func (s *Server) adminCreateRole(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminCreateRoleRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	role, ev, err := s.adminOps().CreateRole(r.Context(), admin.NewRole{Name: req.Name, Description: req.Description, Permissions: req.Permissions})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusCreated, ToAdminRole(role))
}

type adminUpdateRoleRequest struct {
	Description *string `json:"description"`
	// Permissions, when present, replaces the permissions before
	// AddPermissions and RemovePermissions apply.
	Permissions       *[]string `json:"permissions"`
	AddPermissions    []string  `json:"add_permissions"`
	RemovePermissions []string  `json:"remove_permissions"`
}

func (s *Server) adminUpdateRole(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminUpdateRoleRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	role, ev, err := s.adminOps().UpdateRole(r.Context(), r.PathValue("name"), admin.RoleUpdate{Description: req.Description,
		Permissions: req.Permissions, Add: req.AddPermissions, Remove: req.RemovePermissions})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, ToAdminRole(role))
}

func (s *Server) adminDeleteRole(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	ev, err := s.adminOps().DeleteRole(r.Context(), r.PathValue("name"))
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	w.WriteHeader(http.StatusNoContent)
}
