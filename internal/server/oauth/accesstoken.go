package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// KeyRefreshAge is how stale this replica's copy of the signing keys may be
// before a token with an unknown key id, or a JWKS request, makes it re-read
// them: replicas share one key table, and a key another replica created must
// be accepted and published without waiting for the periodic reload.
const KeyRefreshAge = time.Second

// ErrInactive means a token is not (or no longer) valid. Callers answer
// with {"active":false} or invalid_token, never with the reason.
var ErrInactive = errors.New("token inactive")

// verifyAccessToken checks an access token presented to this server: a JWT
// with typ at+jwt signed by a published key (RFC 9068 §4), issued by this
// server, not expired, and neither revoked itself nor part of a revoked
// grant.
func (e *Endpoints) verifyAccessToken(ctx context.Context, token string) (*AccessClaims, error) {
	payload, err := e.keys.VerifyFresh(ctx, token, protocol.AccessTokenJWTType, KeyRefreshAge)
	if err != nil {
		return nil, ErrInactive
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, ErrInactive
	}
	if c.Issuer != e.issuer || c.ID == "" || !e.clock.Now().Before(time.Unix(c.ExpiresAt, 0)) {
		return nil, ErrInactive
	}
	revoked, err := e.store.IsAccessTokenRevoked(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("check revocation: %w", err)
	}
	if revoked {
		return nil, ErrInactive
	}
	if c.GrantID != "" {
		g, err := e.store.GetGrant(ctx, c.GrantID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, ErrInactive
		}
		if err != nil {
			return nil, fmt.Errorf("check grant: %w", err)
		}
		if g.Revoked {
			return nil, ErrInactive
		}
	}
	return &c, nil
}

// looksLikeJWT reports whether a token has the three-part JWS shape.
func looksLikeJWT(tok string) bool {
	dots := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			dots++
		}
	}
	return dots == 2
}
