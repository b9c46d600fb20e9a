package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// RevokeAccessToken records jti as revoked until expiresAt. Revoking it
// again succeeds.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, expiresAt time.Time) error {
	_, err := s.exec(ctx,
		"INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
		jti, s.time(expiresAt))
	if err != nil {
		return s.wrap("revoke access token", err)
	}
	return nil
}

// IsAccessTokenRevoked reports whether jti was revoked.
func (s *Store) IsAccessTokenRevoked(ctx context.Context, jti string) (bool, error) {
	var n int
	err := s.readRow(ctx, "SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1", jti).Scan(&n)
	if err != nil {
		return false, s.wrap("is access token revoked", err)
	}
	return n > 0, nil
}

// UseJTI records a client assertion's jti until expiresAt; a jti already
// recorded is storage.ErrAlreadyExists.
func (s *Store) UseJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	res, err := s.exec(ctx,
		"INSERT INTO used_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
		jti, s.time(expiresAt))
	if err != nil {
		return s.wrap("use jti", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap("use jti", err)
	}
	if n == 0 {
		return s.wrap("use jti", storage.ErrAlreadyExists)
	}
	return nil
}
