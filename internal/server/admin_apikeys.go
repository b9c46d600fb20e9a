package server

import (
	"math"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toAdminAPIKey(k *storage.APIKey) adminapi.APIKey {
	state := "active"
	switch {
	case !k.RevokedAt.IsZero():
		state = "revoked"
	case !k.ExpiresAt.IsZero() && !s.clock.Now().Before(k.ExpiresAt):
		state = "expired"
	}
	return adminapi.APIKey{ID: k.ID, Name: k.Name, UserID: k.UserID, Scopes: nonNil(k.Scopes), Roles: nonNil(k.Roles), State: state,
		CreatedAt: k.CreatedAt, ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt), LastUsedAt: timePtr(k.LastUsedAt)}
}

func (s *Server) adminListAPIKeys(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	ks, err := s.adminOps().ListAPIKeys(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminapi.APIKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, s.toAdminAPIKey(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apikeys": out})
}

type adminCreateAPIKeyRequest struct {
	Name string `json:"name"`
	// UserID is the id (or username) of the user the key acts as.
	UserID string   `json:"user_id"`
	Scopes []string `json:"scopes"`
	Roles  []string `json:"roles"`
	// ExpiresIn is the lifetime in seconds; 0 means the key never expires.
	ExpiresIn int64 `json:"expires_in"`
}

func (s *Server) adminCreateAPIKey(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminCreateAPIKeyRequest
	if !decodeAdminBody(w, r, &req) {
		return
	}
	if req.ExpiresIn > math.MaxInt64/int64(time.Second) {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "expires_in is too large")
		return
	}
	k, key, _, ev, err := s.adminOps().CreateAPIKey(r.Context(), admin.NewAPIKey{Name: req.Name, User: req.UserID,
		Scopes: req.Scopes, Roles: req.Roles, Lifetime: time.Duration(req.ExpiresIn) * time.Second})
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusCreated, adminapi.APIKeyWithKey{APIKey: s.toAdminAPIKey(k), Key: key})
}

func (s *Server) adminRevokeAPIKey(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	k, err := s.RevokeAPIKey(r.Context(), r.PathValue("id"), p.actor)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAdminAPIKey(k))
}

func (s *Server) adminRotateAPIKey(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	k, key, ev, err := s.adminOps().RotateAPIKey(r.Context(), id)
	// Forget the key even on failure: whatever the database holds now is
	// read again on the next request.
	s.apiKeys.forget(id)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusOK, adminapi.APIKeyWithKey{APIKey: s.toAdminAPIKey(k), Key: key})
}
