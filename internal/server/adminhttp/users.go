package adminhttp

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func toUser(u *storage.User) adminapi.User {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return adminapi.User{ID: u.ID, Username: u.Username, Roles: roles, Disabled: u.Disabled,
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		Connector: u.ConnectorID, ConnectorSubject: u.ConnectorSubject, Groups: u.Groups,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ *Principal) {
	users, err := a.d.Admin.ListUsers(r.Context())
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	out := make([]adminapi.User, 0, len(users))
	for _, u := range users {
		out = append(out, toUser(u))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"users": out})
}

// getUser answers the user whose id, or else username, is {id}.
func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ *Principal) {
	u, err := a.d.Admin.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, toUser(u))
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.CreateUserRequest
	if !decodeBody(w, r, &req) {
		return
	}
	u, ev, err := a.d.Admin.CreateUser(r.Context(), admin.NewUser{Username: req.Username, Password: req.Password,
		Roles: req.Roles, Connector: req.Connector, Profile: req.Profile})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusCreated, toUser(u))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.UpdateUserRequest
	if !decodeBody(w, r, &req) {
		return
	}
	u, ev, err := a.d.Admin.UpdateUser(r.Context(), r.PathValue("id"),
		admin.UserUpdate{Roles: req.Roles, Disabled: req.Disabled, Profile: req.Profile})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, toUser(u))
}

func (a *API) setPassword(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.SetPasswordRequest
	if !decodeBody(w, r, &req) {
		return
	}
	ev, err := a.d.Admin.SetPassword(r.Context(), r.PathValue("id"), req.Password)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, p *Principal) {
	_, ev, err := a.d.Admin.DeleteUser(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	w.WriteHeader(http.StatusNoContent)
}

// resetMFA removes a user's TOTP state and passkeys, for a user who
// lost their authenticator.
func (a *API) resetMFA(w http.ResponseWriter, r *http.Request, p *Principal) {
	u, removed, ev, err := a.d.Admin.ResetMFA(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, adminapi.MFAReset{User: toUser(u), Removed: removed})
}
