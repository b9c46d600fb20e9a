package oauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// handleRevoke is the revocation endpoint (RFC 7009). The caller is
// authenticated; it may only revoke its own tokens, and the answer is 200
// whether or not anything was revoked (RFC 7009 §2.2), so the endpoint does
// not reveal which tokens exist.
func (e *Endpoints) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := e.revoke(w, r); err != nil {
		e.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (e *Endpoints) revoke(w http.ResponseWriter, r *http.Request) error {
	if err := parsePostForm(w, r); err != nil {
		return err
	}
	c, err := e.authenticateClient(r)
	if err != nil {
		return err
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return protocol.NewError(protocol.ErrInvalidRequest, "token is required")
	}
	ctx := r.Context()
	now := e.clock.Now()
	// The hint only orders the lookups (RFC 7009 §2.1).
	if looksLikeJWT(tok) {
		return e.revokeAccessToken(r, c, tok)
	}
	rt, err := e.store.GetRefreshToken(ctx, secret.Hash(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rt.ClientID != c.ID {
		// RFC 7009 §2.1: the server verifies that the token was issued
		// to the client making the request; otherwise nothing happens.
		return nil
	}
	// RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate the
	// access tokens of the same grant.
	if err := e.store.RevokeGrant(ctx, rt.GrantID, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	e.audit.Log(audit.Event{Type: audit.TokenRevoked, Outcome: "success", ClientID: c.ID, UserID: rt.UserID,
		IP: e.clientIP(r), Details: map[string]string{"token_type": "refresh_token", "grant_id": rt.GrantID}})
	return nil
}

func (e *Endpoints) revokeAccessToken(r *http.Request, c *storage.Client, tok string) error {
	claims, err := e.verifyAccessToken(r.Context(), tok)
	if errors.Is(err, ErrInactive) {
		return nil
	}
	if err != nil {
		return err
	}
	if claims.ClientID != c.ID {
		return nil
	}
	if err := e.store.RevokeAccessToken(r.Context(), claims.ID, time.Unix(claims.ExpiresAt, 0)); err != nil {
		return err
	}
	e.audit.Log(audit.Event{Type: audit.TokenRevoked, Outcome: "success", ClientID: c.ID, IP: e.clientIP(r),
		Details: map[string]string{"token_type": "access_token", "jti": claims.ID}})
	return nil
}
