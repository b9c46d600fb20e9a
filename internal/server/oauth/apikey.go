package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// TokenTypeAPIKey is the token_type introspection reports for an API key.
const TokenTypeAPIKey = "api_key"

// APIKeyUseFlushInterval is how often noted key uses are written.
const APIKeyUseFlushInterval = 15 * time.Second

// VerifyAPIKey checks an API key presented as a bearer token or for
// introspection: well formed, known, the secret's SHA-256 equal to the
// stored one (compared in constant time), not revoked, not expired, and
// for a key acting as a user, that user still exists and is enabled. Every
// refusal is ErrInactive, whatever the reason.
func (e *Endpoints) VerifyAPIKey(ctx context.Context, tok string) (*APIKey, error) {
	id, sec, ok := apikey.Parse(tok)
	if !ok {
		return nil, ErrInactive
	}
	k, err := e.apiKeys.get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInactive
	}
	if err != nil {
		return nil, fmt.Errorf("get api key: %w", err)
	}
	if !secret.Equal(secret.Hash(sec), k.key.SecretHash) || !k.usable {
		return nil, ErrInactive
	}
	now := e.clock.Now()
	if !k.key.ExpiresAt.IsZero() && !now.Before(k.key.ExpiresAt) {
		return nil, ErrInactive
	}
	e.apiKeys.noteUse(id, now)
	return k, nil
}

// introspectAPIKey answers introspection (RFC 7662) for a token that
// starts like an API key. An inactive key is the empty response, which
// renders as exactly {"active":false}.
func (e *Endpoints) introspectAPIKey(ctx context.Context, tok string) (*protocol.IntrospectionResponse, error) {
	k, err := e.VerifyAPIKey(ctx, tok)
	if errors.Is(err, ErrInactive) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &protocol.IntrospectionResponse{
		Active:    true,
		Scope:     k.scope,
		Username:  k.username,
		TokenType: TokenTypeAPIKey,
		Iat:       k.key.CreatedAt.Unix(),
		Sub:       k.subject,
		Iss:       e.issuer,
		Roles:     k.roles,
	}
	if !k.key.ExpiresAt.IsZero() {
		resp.Exp = k.key.ExpiresAt.Unix()
	}
	return resp, nil
}

// userinfoAPIKey answers /oauth2/userinfo for a bearer token that starts
// like an API key: the user the key acts as, or the key itself
// ("apikey:<id>"), with the key's effective roles.
func (e *Endpoints) userinfoAPIKey(w http.ResponseWriter, r *http.Request, tok string) {
	k, err := e.VerifyAPIKey(r.Context(), tok)
	if errors.Is(err, ErrInactive) {
		respond.BearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the API key is invalid, expired or revoked"))
		return
	}
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	perms, err := rolereg.Permissions(r.Context(), e.store, k.roles)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, userinfoResponse{Subject: k.subject, Username: k.username, Roles: k.roles, Permissions: perms})
}

// ForgetAPIKey drops the cached key with id, for a change this process
// made to it (a revocation, a rotation).
func (e *Endpoints) ForgetAPIKey(id string) { e.apiKeys.forget(id) }

// FlushAPIKeyUse writes the last use of every key noted since the previous
// flush. A key deleted meanwhile is skipped.
func (e *Endpoints) FlushAPIKeyUse(ctx context.Context) {
	errUnchanged := errors.New("unchanged")
	for id, at := range e.apiKeys.takeUses() {
		at = at.UTC()
		err := e.store.UpdateAPIKey(ctx, id, func(k *storage.APIKey) error {
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
			e.log.Warn("record api key use", "apikey_id", id, "err", err)
		}
	}
}

// RecordAPIKeyUse writes the noted last uses of API keys every
// APIKeyUseFlushInterval until ctx ends, off the request path.
func (e *Endpoints) RecordAPIKeyUse(ctx context.Context) {
	t := e.clock.NewTicker(APIKeyUseFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			e.FlushAPIKeyUse(ctx)
		}
	}
}
