package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// expiredQueries delete what expired before $1, in an order that removes a
// grant's refresh tokens with it. Rows without an expiry never expire.
var expiredQueries = []string{
	"DELETE FROM auth_codes WHERE expires_at < $1",
	"DELETE FROM device_codes WHERE expires_at < $1",
	"DELETE FROM sessions WHERE expires_at < $1",
	"DELETE FROM proxy_sessions WHERE expires_at < $1",
	"DELETE FROM refresh_tokens WHERE expires_at < $1",
	"DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE expires_at < $1)",
	"DELETE FROM grants WHERE expires_at < $1",
	"DELETE FROM revoked_access_tokens WHERE expires_at < $1",
	"DELETE FROM used_jtis WHERE expires_at < $1",
}

// DeleteExpired removes codes, device codes, sessions (the server's and the
// gateway's), refresh tokens, grants (with their refresh tokens) and
// revoked or used jtis that expired before now, and returns how many rows
// went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		total = 0
		at := s.time(now)
		for _, q := range expiredQueries {
			res, err := s.txExec(ctx, tx, q, at)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap("delete expired", err)
	}
	return total, nil
}
