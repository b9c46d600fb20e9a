package sqlstore

import (
	"context"
	"strconv"
	"time"
)

// expireBatch is how many rows one DELETE of DeleteExpired removes. Each
// batch is its own short transaction, so the cleanup never holds the
// write lock (SQLite's single writer) for more than a few milliseconds
// and never builds one huge WAL or undo log.
const expireBatch = 500

// expiredQueries delete up to expireBatch rows that expired before $1, in
// an order that removes a grant's refresh tokens before the grant. Rows
// without an expiry never expire.
var expiredQueries = []string{
	batchDelete("auth_codes", "hash", "expires_at < $1"),
	batchDelete("device_codes", "hash", "expires_at < $1"),
	batchDelete("par_requests", "hash", "expires_at < $1"),
	batchDelete("sessions", "hash", "expires_at < $1"),
	batchDelete("proxy_sessions", "hash", "expires_at < $1"),
	batchDelete("refresh_tokens", "hash", "expires_at < $1"),
	batchDelete("refresh_tokens", "hash", "grant_id IN (SELECT id FROM grants WHERE expires_at < $1)"),
	batchDelete("grants", "id", "expires_at < $1"),
	batchDelete("revoked_access_tokens", "jti", "expires_at < $1"),
	batchDelete("used_jtis", "jti", "expires_at < $1"),
}

func batchDelete(table, key, cond string) string {
	return "DELETE FROM " + table + " WHERE " + key + " IN (SELECT " + key + " FROM " + table +
		" WHERE " + cond + " LIMIT " + strconv.Itoa(expireBatch) + ")"
}

// DeleteExpired removes codes, device codes, pushed authorization
// requests, sessions (the server's and the gateway's), refresh tokens,
// grants (with their refresh tokens) and revoked or used jtis that expired
// before now, and returns how many rows went. It deletes in batches of expireBatch rows, each committed on its
// own, and then asks the dialect for a WAL checkpoint (SQLite), so that a
// large backlog is removed without a long write stall; if ctx ends midway
// what was deleted stays deleted.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	at := s.time(now)
	for _, q := range expiredQueries {
		for {
			res, err := s.exec(ctx, q, at)
			if err != nil {
				return total, s.wrap("delete expired", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, s.wrap("delete expired", err)
			}
			total += n
			if n < expireBatch {
				break
			}
		}
	}
	if s.d.Checkpoint != "" && total > 0 {
		if _, err := s.w.ExecContext(ctx, s.d.Checkpoint); err != nil {
			return total, s.wrap("delete expired: checkpoint", err)
		}
	}
	return total, nil
}
