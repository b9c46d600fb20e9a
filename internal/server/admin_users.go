package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
	"github.com/gatehouse-auth/gatehouse/protocol"
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

// adminLookupUser finds a user by id, or by username when no id matches.
func (s *Server) adminLookupUser(w http.ResponseWriter, r *http.Request) (*storage.User, bool) {
	id := r.PathValue("id")
	u, err := s.store.GetUser(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = s.store.GetUserByName(r.Context(), id)
	}
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("user %q not found", id))
		return nil, false
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return u, true
}

func (s *Server) adminListUsers(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	users, err := s.store.ListUsers(r.Context())
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

func (s *Server) adminGetUser(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	if u, ok := s.adminLookupUser(w, r); ok {
		writeJSON(w, http.StatusOK, toAdminUser(u))
	}
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
	name := strings.ToLower(strings.TrimSpace(req.Username))
	if err := clientreg.CheckName("username", req.Username); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	switch {
	case name == "":
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "username is required")
		return
	case !s.adminCheckRoles(w, r, req.Roles):
		return
	}
	if err := req.Profile.Check(); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	var hash string
	if req.Connector != "" {
		if err := userreg.CheckPrecreated(s.connectorIDs(), req.Connector, req.Password); err != nil {
			adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
			return
		}
	} else {
		if err := password.CheckPolicy(req.Password); err != nil {
			adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
			return
		}
		var err error
		if hash, err = s.hasher.Hash(r.Context(), req.Password); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	now := s.clock.Now().UTC()
	u := &storage.User{ID: NewID(), Username: name, PasswordHash: hash, Roles: req.Roles, ConnectorID: req.Connector, CreatedAt: now, UpdatedAt: now}
	req.Profile.Apply(u)
	ev, err := userreg.Create(r.Context(), s.store, u)
	switch {
	case errors.Is(err, userreg.ErrEmailTaken):
		adminError(w, http.StatusConflict, adminErrConflict, err.Error())
		return
	case errors.Is(err, storage.ErrAlreadyExists):
		adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("user %q already exists", name))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	ev.Actor = p.actor
	s.audit.Log(ev)
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
	if req.Roles != nil && !s.adminCheckRoles(w, r, *req.Roles) {
		return
	}
	if err := req.Profile.Check(); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	u, ok := s.adminLookupUser(w, r)
	if !ok {
		return
	}
	after, ev, err := userreg.Update(r.Context(), s.store, u.ID, s.clock.Now().UTC(),
		userreg.Change{Roles: req.Roles, Disabled: req.Disabled, Profile: req.Profile})
	switch {
	case errors.Is(err, storage.ErrLastRoleHolder):
		adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("%q is the last admin: give another user the admin role first", u.Username))
		return
	case errors.Is(err, userreg.ErrEmailTaken):
		adminError(w, http.StatusConflict, adminErrConflict, err.Error())
		return
	case errors.Is(err, storage.ErrNotFound):
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("user %q not found", u.ID))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	ev.Actor = p.actor
	s.audit.Log(ev)
	writeJSON(w, http.StatusOK, toAdminUser(after))
}

type adminSetPasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) adminSetPassword(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminSetPasswordRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if err := password.CheckPolicy(req.Password); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	u, ok := s.adminLookupUser(w, r)
	if !ok {
		return
	}
	if err := userreg.CheckLocalPassword(u); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	hash, err := s.hasher.Hash(r.Context(), req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.clock.Now().UTC()
	err = s.store.UpdateUser(r.Context(), u.ID, func(cur *storage.User) error {
		cur.PasswordHash, cur.UpdatedAt = hash, now
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("user %q not found", u.ID))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: p.actor, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "password set"}})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	u, ok := s.adminLookupUser(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteUserKeepingRole(r.Context(), u.ID, RoleAdmin); err != nil {
		if errors.Is(err, storage.ErrLastRoleHolder) {
			adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("%q is the last admin and cannot be deleted: give another user the admin role first", u.Username))
			return
		}
		if errors.Is(err, storage.ErrNotFound) {
			adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("user %q not found", u.ID))
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.UserDeleted, Outcome: audit.Success, Actor: p.actor, UserID: u.ID, Username: u.Username})
	w.WriteHeader(http.StatusNoContent)
}
