package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var grants = newTable("grants",
	"id", "client_id", "user_id", "scopes", "auth_time", "created_at", "expires_at",
	"revoked", "revoked_at", "resources")

func (s *Store) grantArgs(g *storage.Grant) []any {
	return []any{
		g.ID, g.ClientID, g.UserID, list(g.Scopes), s.time(g.AuthTime), s.time(g.CreatedAt), s.time(g.ExpiresAt),
		g.Revoked, s.time(g.RevokedAt), list(g.Resources),
	}
}

// grantDest lists where the columns of grants scan into g.
func grantDest(g *storage.Grant) []any {
	return []any{&g.ID, &g.ClientID, &g.UserID, listCol{&g.Scopes}, timeCol{&g.AuthTime}, timeCol{&g.CreatedAt}, timeCol{&g.ExpiresAt},
		&g.Revoked, timeCol{&g.RevokedAt}, listCol{&g.Resources}}
}

func scanGrant(r rowScanner) (*storage.Grant, error) {
	var g storage.Grant
	if err := r.Scan(grantDest(&g)...); err != nil {
		return nil, err
	}
	return &g, nil
}

// CreateGrant stores a new grant (token family).
func (s *Store) CreateGrant(ctx context.Context, g *storage.Grant) error {
	return s.insert(ctx, "grant", grants.insert, s.grantArgs(g)...)
}

// GetGrant returns the grant with id.
func (s *Store) GetGrant(ctx context.Context, id string) (*storage.Grant, error) {
	g, err := scanGrant(s.readRow(ctx, grants.byKey, id))
	if err != nil {
		return nil, s.wrap("get grant", s.mapErr(err))
	}
	return g, nil
}

// Statements of RevokeGrant and RotateRefreshToken.
var (
	revokeGrant       = "UPDATE grants SET revoked = $2, revoked_at = COALESCE(revoked_at, $3) WHERE id = $1"
	revokeGrantTokens = "UPDATE refresh_tokens SET revoked = $2 WHERE grant_id = $1 AND revoked = $3"
	markRotated       = "UPDATE refresh_tokens SET rotated = $2, rotated_at = $3, retry_key_hash = $4, retry_successor = $5 WHERE hash = $1"
	// selectTokenAndGrant reads a refresh token with its grant. With FOR
	// UPDATE, PostgreSQL locks the rows in FROM order: the grant first,
	// then the token, the order RevokeGrant takes too.
	selectTokenAndGrant = "SELECT " + grants.colsOf("g") + ", " + refreshTokens.colsOf("t") +
		" FROM grants g JOIN refresh_tokens t ON t.grant_id = g.id WHERE t.hash = $1"
)

// RevokeGrant marks the grant and all its refresh tokens revoked. Revoking
// a revoked grant succeeds and keeps the first revocation time.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The grant row is locked first, then its tokens, the order
		// RotateRefreshToken locks in, so the two do not deadlock.
		res, err := s.txExec(ctx, tx, revokeGrant, id, true, s.time(at))
		if err != nil {
			return err
		}
		if err := affected(res); err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, revokeGrantTokens, id, true, false)
		return err
	})
	if err != nil {
		return s.wrap("revoke grant", err)
	}
	return nil
}

var refreshTokens = newTable("refresh_tokens",
	"hash", "grant_id", "client_id", "user_id", "scopes", "created_at", "expires_at",
	"rotated", "revoked", "rotated_at", "dpop_jkt", "retry_key_hash", "retry_successor")

func (s *Store) refreshTokenArgs(t *storage.RefreshToken) []any {
	return []any{
		t.Hash, t.GrantID, t.ClientID, t.UserID, list(t.Scopes), s.time(t.CreatedAt), s.time(t.ExpiresAt),
		t.Rotated, t.Revoked, s.time(t.RotatedAt), t.DPoPJKT, t.RetryKeyHash, blob(t.RetrySuccessor),
	}
}

// refreshTokenDest lists where the columns of refresh_tokens scan into t.
func refreshTokenDest(t *storage.RefreshToken) []any {
	return []any{&t.Hash, &t.GrantID, &t.ClientID, &t.UserID, listCol{&t.Scopes}, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt},
		&t.Rotated, &t.Revoked, timeCol{&t.RotatedAt}, &t.DPoPJKT, &t.RetryKeyHash, bytesCol{&t.RetrySuccessor}}
}

func scanRefreshToken(r rowScanner) (*storage.RefreshToken, error) {
	var t storage.RefreshToken
	if err := r.Scan(refreshTokenDest(&t)...); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateRefreshToken stores a new refresh token.
func (s *Store) CreateRefreshToken(ctx context.Context, t *storage.RefreshToken) error {
	return s.insert(ctx, "refresh token", refreshTokens.insert, s.refreshTokenArgs(t)...)
}

// GetRefreshToken returns the refresh token with hash.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*storage.RefreshToken, error) {
	t, err := scanRefreshToken(s.readRow(ctx, refreshTokens.byKey, hash))
	if err != nil {
		return nil, s.wrap("get refresh token", s.mapErr(err))
	}
	return t, nil
}

// RotateRefreshToken exchanges the refresh token with hash in one
// transaction: it locks the token's grant and the token, calls fn with
// both, and if fn returns a new token it marks the old one rotated (with
// the retry fields fn set on it) and inserts the new one. A nil token with a nil error writes nothing. A token
// whose grant is gone is storage.ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, fn func(old *storage.RefreshToken, g *storage.Grant) (*storage.RefreshToken, error)) error {
	fnFailed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		fnFailed = false
		var g storage.Grant
		var old storage.RefreshToken
		dest := append(grantDest(&g), refreshTokenDest(&old)...)
		if err := s.txRow(ctx, tx, selectTokenAndGrant+s.d.ForUpdate, hash).Scan(dest...); err != nil {
			return s.mapErr(err)
		}
		next, err := fn(&old, &g)
		if err != nil {
			fnFailed = true
			return err
		}
		if next == nil {
			return nil
		}
		if _, err := s.txExec(ctx, tx, markRotated, hash, true, s.time(next.CreatedAt), old.RetryKeyHash, blob(old.RetrySuccessor)); err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, refreshTokens.insert, s.refreshTokenArgs(next)...)
		return s.mapErr(err)
	})
	if err != nil && !fnFailed {
		return s.wrap("rotate refresh token", err)
	}
	return err
}
