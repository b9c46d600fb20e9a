package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// handleIntrospect is the introspection endpoint (RFC 7662). Only an
// authenticated confidential client may call it (§2.1); a token that is
// expired, revoked, unknown or malformed is answered with exactly
// {"active":false} (§2.2).
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	resp, err := s.introspect(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !resp.Active {
		writeJSON(w, http.StatusOK, inactive{})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// inactive renders as exactly {"active":false}.
type inactive struct {
	Active bool `json:"active"`
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) (*protocol.IntrospectionResponse, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, err
	}
	c, err := s.authenticateClient(r)
	if err != nil {
		return nil, err
	}
	if c.Public {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "introspection requires client authentication")
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "token is required")
	}
	if looksLikeJWT(tok) {
		claims, err := s.verifyAccessToken(r.Context(), tok)
		if errors.Is(err, errInactive) {
			return &protocol.IntrospectionResponse{}, nil
		}
		if err != nil {
			return nil, err
		}
		return &protocol.IntrospectionResponse{
			Active:    true,
			Scope:     claims.Scope,
			ClientID:  claims.ClientID,
			Username:  claims.Username,
			TokenType: protocol.TokenTypeBearer,
			Exp:       claims.ExpiresAt,
			Iat:       claims.IssuedAt,
			Sub:       claims.Subject,
			Aud:       claims.Audience,
			Iss:       claims.Issuer,
			Jti:       claims.ID,
			Roles:     claims.Roles,
		}, nil
	}
	if apikey.HasPrefix(tok) {
		return s.introspectAPIKey(r.Context(), tok)
	}
	return s.introspectRefreshToken(r, tok)
}

func (s *Server) introspectRefreshToken(r *http.Request, tok string) (*protocol.IntrospectionResponse, error) {
	ctx := r.Context()
	rt, err := s.store.GetRefreshToken(ctx, secret.Hash(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if rt.Rotated || rt.Revoked || !now.Before(rt.ExpiresAt) {
		return &protocol.IntrospectionResponse{}, nil
	}
	g, err := s.store.GetGrant(ctx, rt.GrantID)
	if errors.Is(err, storage.ErrNotFound) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	if g.Revoked {
		return &protocol.IntrospectionResponse{}, nil
	}
	resp := &protocol.IntrospectionResponse{
		Active:    true,
		Scope:     joinScope(rt.Scopes),
		ClientID:  rt.ClientID,
		TokenType: protocol.TokenTypeHintRefreshToken,
		Exp:       rt.ExpiresAt.Unix(),
		Iat:       rt.CreatedAt.Unix(),
		Sub:       rt.UserID,
		Iss:       s.issuer,
	}
	if u, err := s.store.GetUser(ctx, rt.UserID); err == nil {
		resp.Username, resp.Roles = u.Username, u.Roles
	}
	return resp, nil
}
