package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// ToAdminRole is the admin API (and CLI --json) form of a role.
func ToAdminRole(r *storage.Role) adminapi.Role {
	return adminapi.Role{Name: r.Name, Description: r.Description, Permissions: nonNil(r.Permissions), Builtin: rolereg.IsBuiltin(r.Name),
		CreatedAt: timePtr(r.CreatedAt), UpdatedAt: timePtr(r.UpdatedAt)}
}

// adminRoleError writes the admin API answer for an error of the role
// functions (roles.go): 400, 404 or 409 with a message saying what to do.
func (s *Server) adminRoleError(w http.ResponseWriter, r *http.Request, name string, err error) {
	var (
		unknown *rolereg.UnknownError
		inUse   *rolereg.InUseError
	)
	switch {
	case errors.As(err, &unknown), errors.Is(err, rolereg.ErrInvalid):
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
	case errors.As(err, &inUse), errors.Is(err, rolereg.ErrBuiltin):
		adminError(w, http.StatusConflict, adminErrConflict, err.Error())
	case errors.Is(err, storage.ErrAlreadyExists):
		adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("role %q already exists", name))
	case errors.Is(err, storage.ErrNotFound):
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("role %q not found", name))
	default:
		s.writeError(w, r, err)
	}
}

// adminCheckRoles answers 400 (and returns false) when roles names a role
// that does not exist.
func (s *Server) adminCheckRoles(w http.ResponseWriter, r *http.Request, roles []string) bool {
	if err := rolereg.Check(r.Context(), s.store, roles); err != nil {
		s.adminRoleError(w, r, "", err)
		return false
	}
	return true
}

func (s *Server) adminListRoles(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	roles, err := rolereg.Known(r.Context(), s.store)
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
	name := r.PathValue("name")
	role, err := rolereg.Get(r.Context(), s.store, name)
	if err != nil {
		s.adminRoleError(w, r, name, err)
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
	now := s.clock.Now().UTC()
	role := &storage.Role{Name: req.Name, Description: req.Description, Permissions: req.Permissions, CreatedAt: now, UpdatedAt: now}
	if err := rolereg.Normalize(role); err != nil {
		s.adminRoleError(w, r, req.Name, err)
		return
	}
	if err := s.store.CreateRole(r.Context(), role); err != nil {
		s.adminRoleError(w, r, role.Name, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.RoleCreated, Outcome: audit.Success, Actor: p.actor,
		Details: map[string]string{"role": role.Name, "permissions": strings.Join(role.Permissions, " ")}})
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
	name := r.PathValue("name")
	var req adminUpdateRoleRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if rolereg.IsBuiltin(name) {
		s.adminRoleError(w, r, name, fmt.Errorf("%w: %s is built in and cannot be changed; create a custom role instead", rolereg.ErrBuiltin, name))
		return
	}
	now := s.clock.Now().UTC()
	var before, after storage.Role
	err := s.store.UpdateRole(r.Context(), name, func(cur *storage.Role) error {
		before = *cur
		if req.Permissions != nil {
			cur.Permissions = *req.Permissions
		}
		if err := rolereg.Edit(cur, req.AddPermissions, req.RemovePermissions, req.Description); err != nil {
			return err
		}
		cur.UpdatedAt = now
		after = *cur
		return nil
	})
	if err != nil {
		s.adminRoleError(w, r, name, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.RoleUpdated, Outcome: audit.Success, Actor: p.actor,
		Details: map[string]string{"role": name, "permissions": strings.Join(after.Permissions, " "),
			"previous_permissions": strings.Join(before.Permissions, " ")}})
	writeJSON(w, http.StatusOK, ToAdminRole(&after))
}

func (s *Server) adminDeleteRole(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	name := r.PathValue("name")
	role, err := rolereg.Delete(r.Context(), s.store, s.clock, name)
	if err != nil {
		s.adminRoleError(w, r, name, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.RoleDeleted, Outcome: audit.Success, Actor: p.actor,
		Details: map[string]string{"role": name, "permissions": strings.Join(role.Permissions, " ")}})
	w.WriteHeader(http.StatusNoContent)
}

// adminResetMFA removes a user's TOTP state and passkeys, for a user who
// lost their authenticator; the audit event is the one `gatehouse users
// mfa-reset` writes on the database (user.updated, change "mfa reset").
func (s *Server) adminResetMFA(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	u, ok := s.adminLookupUser(w, r)
	if !ok {
		return
	}
	totpRemoved, passkeys, err := storage.ResetMFA(r.Context(), s.store, u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	removed := totpRemoved || passkeys > 0
	if removed {
		s.audit.Log(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: p.actor, UserID: u.ID, Username: u.Username,
			Details: map[string]string{"change": "mfa reset", "passkeys_removed": strconv.Itoa(passkeys)}})
	}
	writeJSON(w, http.StatusOK, adminapi.MFAReset{User: toAdminUser(u), Removed: removed})
}
