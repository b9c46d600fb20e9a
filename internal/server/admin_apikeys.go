package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
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
	ks, err := s.store.ListAPIKeys(r.Context())
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
	Name   string   `json:"name"`
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
	name := strings.TrimSpace(req.Name)
	if err := clientreg.CheckName("the API key name", req.Name); err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	scopes, err := clientreg.CheckScopeList(req.Scopes)
	if err != nil {
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
		return
	}
	req.Scopes = scopes
	switch {
	case name == "":
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "name is required")
		return
	case req.ExpiresIn < 0:
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "expires_in must not be negative")
		return
	case !s.adminCheckRoles(w, r, req.Roles):
		return
	}
	if req.UserID != "" {
		if _, err := s.store.GetUser(r.Context(), req.UserID); errors.Is(err, storage.ErrNotFound) {
			adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, fmt.Sprintf("user %q not found", req.UserID))
			return
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	now := s.clock.Now().UTC()
	k := &storage.APIKey{ID: id, Name: name, SecretHash: secret.Hash(sec), UserID: req.UserID, Scopes: req.Scopes, Roles: req.Roles, CreatedAt: now}
	if req.ExpiresIn > 0 {
		k.ExpiresAt = now.Add(time.Duration(req.ExpiresIn) * time.Second)
	}
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.APIKeyCreated, Outcome: audit.Success, Actor: p.actor, UserID: k.UserID,
		Details: map[string]string{"apikey_id": id, "name": name, "roles": strings.Join(k.Roles, " "), "scopes": strings.Join(k.Scopes, " ")}})
	writeJSON(w, http.StatusCreated, adminapi.APIKeyWithKey{APIKey: s.toAdminAPIKey(k), Key: key})
}

func (s *Server) adminRevokeAPIKey(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	err := s.RevokeAPIKey(r.Context(), id, p.actor)
	if errors.Is(err, storage.ErrNotFound) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("API key %q not found", id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.store.GetAPIKey(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAdminAPIKey(k))
}

// errAdminNotRotatable stops rotating a revoked or expired key.
var errAdminNotRotatable = errors.New("api key not rotatable")

func (s *Server) adminRotateAPIKey(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	id := r.PathValue("id")
	if !apikey.ValidID(id) {
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("API key %q not found", id))
		return
	}
	key := apikey.ForID(id)
	_, sec, _ := apikey.Parse(key)
	now := s.clock.Now()
	var k storage.APIKey
	err := s.store.UpdateAPIKey(r.Context(), id, func(cur *storage.APIKey) error {
		if !cur.RevokedAt.IsZero() || (!cur.ExpiresAt.IsZero() && !now.Before(cur.ExpiresAt)) {
			return errAdminNotRotatable
		}
		cur.SecretHash = secret.Hash(sec)
		k = *cur
		return nil
	})
	s.apiKeys.forget(id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		adminError(w, http.StatusNotFound, adminErrNotFound, fmt.Sprintf("API key %q not found", id))
		return
	case errors.Is(err, errAdminNotRotatable):
		adminError(w, http.StatusConflict, adminErrConflict, fmt.Sprintf("API key %s is revoked or expired and cannot be rotated; create a new one", id))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	s.audit.Log(audit.Event{Type: audit.APIKeyRotated, Outcome: audit.Success, Actor: p.actor, UserID: k.UserID,
		Details: map[string]string{"apikey_id": id, "name": k.Name}})
	writeJSON(w, http.StatusOK, adminapi.APIKeyWithKey{APIKey: s.toAdminAPIKey(&k), Key: key})
}
