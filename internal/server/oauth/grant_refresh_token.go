package oauth

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

var (
	errRefreshReused = errors.New("refresh token reused")
	// errRefreshRepeated is a rotated token presented again by its client
	// within the reuse interval.
	errRefreshRepeated = errors.New("refresh token repeated within the reuse interval")
)

// grantRefreshToken implements RFC 6749 §6 with rotation: every use returns
// a new refresh token and retires the old one; presenting a retired token
// again revokes the whole family (RFC 9700 §4.14.2) — unless the same
// client repeats it within tokens.refresh_reuse_interval of its rotation
// (two racing refreshes, a lost response, a process killed before it saved
// the new token). Such a repeat is refused with invalid_grant but leaves
// the family, and the successor another request already received, valid.
// The successor is sent again only to a retry that carries the
// Idempotency-Key of the request that rotated the token (refresh_retry.go);
// otherwise the server could not tell a retry from a second client.
//
// DPoP (RFC 9449 §5): a refresh token bound to a key (a public client's,
// issued with a proof) is used only with a proof of that key; a request
// without one, or with another key's, is refused before anything else
// happens, so whoever copied the token alone can neither use it nor, by
// presenting an already rotated copy, revoke its family. The successor
// keeps the binding; a public client's unbound token (issued before it
// used DPoP) is bound from its first refresh with a proof.
func (e *Endpoints) grantRefreshToken(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if err := requireGrantType(c, protocol.GrantRefreshToken); err != nil {
		return nil, err
	}
	presented := r.PostForm.Get("refresh_token")
	if presented == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "refresh_token is required")
	}
	key, err := idempotencyKey(r.Header)
	if err != nil {
		return nil, err
	}
	keyHash := ""
	if key != "" && e.secretKey != nil {
		keyHash = retryKeyHash(key, jkt)
	}
	requested := ParseScope(r.PostForm.Get("scope"))
	requestedResources := ResourceParams(r.PostForm)
	now := e.clock.Now()

	var (
		newToken    string
		scopes      []string
		aud         []string
		grant       storage.Grant
		reusedGrant string
		retried     storage.RefreshToken // the rotated token a retry presented
	)
	err = e.store.RotateRefreshToken(r.Context(), secret.Hash(presented), func(old *storage.RefreshToken, g *storage.Grant) (*storage.RefreshToken, error) {
		reusedGrant = ""
		// RFC 6749 §6: the refresh token must have been issued to the
		// authenticated client.
		if old.ClientID != c.ID {
			return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid refresh token")
		}
		if old.DPoPJKT != "" {
			if jkt == "" {
				return nil, protocol.NewError(protocol.ErrInvalidDPoPProof, "the refresh token is bound to a DPoP key: send a DPoP proof signed with that key")
			}
			if jkt != old.DPoPJKT {
				return nil, protocol.NewError(protocol.ErrInvalidGrant, "the refresh token is bound to another DPoP key")
			}
		}
		if old.Revoked || g.Revoked {
			return nil, protocol.NewError(protocol.ErrInvalidGrant, "refresh token revoked")
		}
		if old.Rotated {
			reusedGrant = g.ID
			if retryKeyMatches(old.RetryKeyHash, keyHash) && e.withinRotation(old, now, e.retryWindow()) {
				retried, grant = *old, *g
				return nil, errRefreshRetried
			}
			if e.withinRotation(old, now, time.Duration(e.cfg.Tokens.RefreshReuseInterval)) {
				return nil, errRefreshRepeated
			}
			return nil, errRefreshReused
		}
		if !now.Before(old.ExpiresAt) || !now.Before(g.ExpiresAt) {
			return nil, protocol.NewError(protocol.ErrInvalidGrant, "refresh token expired")
		}
		var err error
		if scopes, aud, err = e.refreshedScopes(c, g, old.Scopes, requested, requestedResources); err != nil {
			return nil, err
		}
		tok, next := e.newRefreshToken(g, old.Scopes)
		next.DPoPJKT = old.DPoPJKT
		if next.DPoPJKT == "" && c.Public {
			next.DPoPJKT = jkt
		}
		if keyHash != "" {
			if err := e.sealRetry(old, keyHash, tok); err != nil {
				return nil, err
			}
		}
		newToken = tok
		grant = *g
		return next, nil
	})
	if errors.Is(err, errRefreshRetried) {
		var next *storage.RefreshToken
		newToken, next, err = e.retriedSuccessor(r, &retried)
		if err == nil {
			scopes, aud, err = e.refreshedScopes(c, &grant, next.Scopes, requested, requestedResources)
			if err != nil {
				return nil, err
			}
			e.audit.Log(audit.Event{Type: audit.RefreshReuse, Outcome: "success", ClientID: c.ID, IP: e.clientIP(r),
				Reason:  "rotated refresh token retried with the Idempotency-Key of its rotation; the same successor sent again",
				Details: map[string]string{"grant_id": grant.ID}})
		} else if errors.Is(err, errRetryNotAnswered) {
			// The successor was used (or revoked, or expired): the
			// old token presented again is a repeat within the reuse
			// interval and reuse after it, as without a key.
			err = errRefreshReused
			if e.withinRotation(&retried, now, time.Duration(e.cfg.Tokens.RefreshReuseInterval)) {
				err = errRefreshRepeated
			}
		}
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid refresh token")
	case errors.Is(err, errRefreshRepeated):
		e.audit.Log(audit.Event{Type: audit.RefreshReuse, Outcome: "failure", ClientID: c.ID, IP: e.clientIP(r),
			Reason:  "rotated refresh token presented again within the reuse interval; token family kept",
			Details: map[string]string{"grant_id": reusedGrant}})
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "refresh token already used; use the newer refresh token from the previous response")
	case errors.Is(err, errRefreshReused):
		if rerr := e.store.RevokeGrant(r.Context(), reusedGrant, now); rerr != nil && !errors.Is(rerr, storage.ErrNotFound) {
			return nil, fmt.Errorf("revoke reused family: %w", rerr)
		}
		e.audit.Log(audit.Event{Type: audit.RefreshReuse, Outcome: "failure", ClientID: c.ID, IP: e.clientIP(r),
			Reason:  "rotated refresh token presented again; token family revoked",
			Details: map[string]string{"grant_id": reusedGrant}})
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "refresh token already used")
	case err != nil:
		return nil, err
	}
	u, err := e.activeUser(r, grant.UserID)
	if err != nil {
		return nil, err
	}
	// An LDAP user's groups and roles are read again from the directory
	// (Deps.RefreshUser: internal/server/linking): a removed group
	// loses its role here.
	u, err = e.refreshUser(r.Context(), u, c.ID, e.clientIP(r))
	if errors.Is(err, ErrAccountGone) {
		if rerr := e.store.RevokeGrant(r.Context(), grant.ID, now); rerr != nil && !errors.Is(rerr, storage.ErrNotFound) {
			return nil, fmt.Errorf("revoke grant of a gone account: %w", rerr)
		}
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "the account no longer exists in the directory")
	}
	if err != nil {
		return nil, err
	}
	return e.respond(r.Context(), issuance{client: c, user: u, scopes: scopes, resources: aud, grant: &grant, refresh: newToken, authTime: grant.AuthTime, jkt: jkt})
}

// refreshedScopes returns the scopes and audience of the access token a
// refresh of a token with tokenScopes in grant g issues, for the scope and
// resource parameters of the request.
func (e *Endpoints) refreshedScopes(c *storage.Client, g *storage.Grant, tokenScopes, requested, requestedResources []string) (scopes, aud []string, err error) {
	// RFC 6749 §6: the requested scope must not include any scope not
	// originally granted.
	scopes = tokenScopes
	if len(requested) > 0 {
		if !SubsetOf(requested, tokenScopes) {
			return nil, nil, protocol.NewError(protocol.ErrInvalidScope, "requested scope exceeds the original grant")
		}
		scopes = requested
	}
	// RFC 8707 §2.2: a resource parameter asks for an access token for
	// some of the grant's resources. Checked before rotating, so a refused
	// request leaves the presented token usable.
	granted := g.Resources
	if len(granted) == 0 {
		granted = e.defaultAudience(c) // a family from before resources were stored
	}
	if aud, err = narrowResources(granted, requestedResources); err != nil {
		return nil, nil, err
	}
	return scopes, aud, nil
}
