package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// TokenTypeAPIKey is the token_type introspection reports for an API key.
const TokenTypeAPIKey = "api_key"

// apiKeyUseFlushInterval is how often noted key uses are written.
const apiKeyUseFlushInterval = 15 * time.Second

// verifyAPIKey checks an API key presented as a bearer token or for
// introspection: well formed, known, the secret's SHA-256 equal to the
// stored one (compared in constant time), not revoked, not expired, and
// for a key acting as a user, that user still exists and is enabled. Every
// refusal is errInactive, whatever the reason.
func (s *Server) verifyAPIKey(ctx context.Context, tok string) (*apiKeyEntry, error) {
	id, sec, ok := apikey.Parse(tok)
	if !ok {
		return nil, errInactive
	}
	e, err := s.apiKeys.get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errInactive
	}
	if err != nil {
		return nil, fmt.Errorf("get api key: %w", err)
	}
	if !secret.Equal(secret.Hash(sec), e.key.SecretHash) || !e.usable {
		return nil, errInactive
	}
	now := s.clock.Now()
	if !e.key.ExpiresAt.IsZero() && !now.Before(e.key.ExpiresAt) {
		return nil, errInactive
	}
	s.apiKeys.noteUse(id, now)
	return e, nil
}

// introspectAPIKey answers introspection (RFC 7662) for a token that
// starts like an API key. An inactive key is the empty response, which
// renders as exactly {"active":false}.
func (s *Server) introspectAPIKey(ctx context.Context, tok string) (*protocol.IntrospectionResponse, error) {
	e, err := s.verifyAPIKey(ctx, tok)
	if errors.Is(err, errInactive) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &protocol.IntrospectionResponse{
		Active:    true,
		Scope:     e.scope,
		Username:  e.username,
		TokenType: TokenTypeAPIKey,
		Iat:       e.key.CreatedAt.Unix(),
		Sub:       e.subject,
		Iss:       s.issuer,
		Roles:     e.roles,
	}
	if !e.key.ExpiresAt.IsZero() {
		resp.Exp = e.key.ExpiresAt.Unix()
	}
	return resp, nil
}

// userinfoAPIKey answers /oauth2/userinfo for a bearer token that starts
// like an API key: the user the key acts as, or the key itself
// ("apikey:<id>"), with the key's effective roles.
func (s *Server) userinfoAPIKey(w http.ResponseWriter, r *http.Request, tok string) {
	e, err := s.verifyAPIKey(r.Context(), tok)
	if errors.Is(err, errInactive) {
		writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the API key is invalid, expired or revoked"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	perms, err := rolereg.Permissions(r.Context(), s.store, e.roles)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userinfoResponse{Subject: e.subject, Username: e.username, Roles: e.roles, Permissions: perms})
}

// RevokeAPIKey revokes the API key with id. This server refuses the key
// from the next request on; other servers on the same database notice
// within apiKeyCacheTTL. Revoking a revoked key changes nothing and is not
// an error; an unknown id is an admin.NotFound refusal. actor names who revoked
// it in the audit event ("user:<id>", "cli").
func (s *Server) RevokeAPIKey(ctx context.Context, id, actor string) (*storage.APIKey, error) {
	k, _, ev, err := s.adminOps().RevokeAPIKey(ctx, id)
	// Forget the key even on failure: whatever the database holds now is
	// read again on the next request.
	s.apiKeys.forget(id)
	if admin.KindOf(err) != 0 {
		return nil, err // a refusal, in the admin layer's words
	}
	if err != nil {
		return nil, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if ev.Type != "" {
		ev.Actor = actor
		s.audit.Log(ev)
	}
	return k, nil
}

// flushAPIKeyUse writes the last use of every key noted since the previous
// flush. A key deleted meanwhile is skipped.
func (s *Server) flushAPIKeyUse(ctx context.Context) {
	errUnchanged := errors.New("unchanged")
	for id, at := range s.apiKeys.takeUses() {
		at = at.UTC()
		err := s.store.UpdateAPIKey(ctx, id, func(k *storage.APIKey) error {
			if !at.After(k.LastUsedAt) {
				return errUnchanged
			}
			k.LastUsedAt = at
			return nil
		})
		if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, storage.ErrNotFound) {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("record api key use", "apikey_id", id, "err", err)
		}
	}
}

// recordAPIKeyUse writes the noted last uses of API keys every
// apiKeyUseFlushInterval until ctx ends, off the request path.
func (s *Server) recordAPIKeyUse(ctx context.Context) {
	t := s.clock.NewTicker(apiKeyUseFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			s.flushAPIKeyUse(ctx)
		}
	}
}
