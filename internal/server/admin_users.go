package server

import (
	"net/http"
	"slices"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

func toAdminUser(u *storage.User) adminapi.User {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return adminapi.User{ID: u.ID, Username: u.Username, Roles: roles, Disabled: u.Disabled,
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		Connector: u.ConnectorID, ConnectorSubject: u.ConnectorSubject, Groups: u.Groups,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func userIsAdmin(u *storage.User) bool { return !u.Disabled && slices.Contains(u.Roles, RoleAdmin) }

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	users, err := s.adminOps().ListUsers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminapi.User, 0, len(users))
	for _, u := range users {
		out = append(out, toAdminUser(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// adminGetUser answers the user whose id, or else username, is {id}.
func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	u, err := s.adminOps().GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAdminUser(u))
}

type adminCreateUserRequest struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
	// Connector pre-creates a user of that connector, without a
	// password: the first sign-in through it links the user
	// (connectors.go).
	Connector string `json:"connector"`
	userreg.Profile
}

func (s *Server) adminCreateUser(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminCreateUserRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	u, ev, err := s.adminOps().CreateUser(r.Context(), admin.NewUser{Username: req.Username, Password: req.Password,
		Roles: req.Roles, Connector: req.Connector, Profile: req.Profile})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusCreated, toAdminUser(u))
}

type adminUpdateUserRequest struct {
	Roles    *[]string `json:"roles"`
	Disabled *bool     `json:"disabled"`
	userreg.Profile
}

func (s *Server) adminUpdateUser(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminUpdateUserRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	u, ev, err := s.adminOps().UpdateUser(r.Context(), r.PathValue("id"),
		admin.UserUpdate{Roles: req.Roles, Disabled: req.Disabled, Profile: req.Profile})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, toAdminUser(u))
}

type adminSetPasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) adminSetPassword(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminSetPasswordRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	ev, err := s.adminOps().SetPassword(r.Context(), r.PathValue("id"), req.Password)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	_, ev, err := s.adminOps().DeleteUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

// adminResetMFA removes a user's TOTP state and passkeys, for a user who
// lost their authenticator.
func (s *Server) adminResetMFA(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	u, removed, ev, err := s.adminOps().ResetMFA(r.Context(), r.PathValue("id"))
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, adminapi.MFAReset{User: toAdminUser(u), Removed: removed})
}
