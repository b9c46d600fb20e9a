package adminhttp

import (
	"math"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) toAPIKey(k *storage.APIKey) adminapi.APIKey {
	state := "active"
	switch {
	case !k.RevokedAt.IsZero():
		state = "revoked"
	case !k.ExpiresAt.IsZero() && !a.d.Clock.Now().Before(k.ExpiresAt):
		state = "expired"
	}
	return adminapi.APIKey{ID: k.ID, Name: k.Name, UserID: k.UserID, Scopes: nonNil(k.Scopes), Roles: nonNil(k.Roles), State: state,
		CreatedAt: k.CreatedAt, ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt), LastUsedAt: timePtr(k.LastUsedAt)}
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request, _ *Principal) {
	ks, err := a.d.Admin.ListAPIKeys(r.Context())
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	out := make([]adminapi.APIKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, a.toAPIKey(k))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"apikeys": out})
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.CreateAPIKeyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ExpiresIn > math.MaxInt64/int64(time.Second) {
		respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "expires_in is too large")
		return
	}
	k, key, _, ev, err := a.d.Admin.CreateAPIKey(r.Context(), admin.NewAPIKey{Name: req.Name, User: req.UserID,
		Scopes: req.Scopes, Roles: req.Roles, Lifetime: time.Duration(req.ExpiresIn) * time.Second})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusCreated, adminapi.APIKeyWithKey{APIKey: a.toAPIKey(k), Key: key})
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request, p *Principal) {
	k, err := a.d.RevokeAPIKey(r.Context(), r.PathValue("id"), p.Actor)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, a.toAPIKey(k))
}

func (a *API) rotateAPIKey(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("id")
	k, key, ev, err := a.d.Admin.RotateAPIKey(r.Context(), id)
	// Forget the key even on failure: whatever the database holds now is
	// read again on the next request.
	a.d.ForgetAPIKey(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusOK, adminapi.APIKeyWithKey{APIKey: a.toAPIKey(k), Key: key})
}
