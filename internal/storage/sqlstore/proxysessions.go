package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var proxySessions = newTable("proxy_sessions", "hash", "user_id", "username", "email", "roles",
	"auth_time", "created_at", "last_seen", "expires_at", "data", "user_groups", "email_verified")

// CreateProxySession stores a new gateway browser session; a second one
// with the same hash is storage.ErrAlreadyExists.
func (s *Store) CreateProxySession(ctx context.Context, p *storage.ProxySession) error {
	return s.insert(ctx, "proxy session", proxySessions.insert,
		p.Hash, p.UserID, p.Username, p.Email, list(p.Roles),
		s.time(p.AuthTime), s.time(p.CreatedAt), s.time(p.LastSeen), s.time(p.ExpiresAt), blob(p.Data),
		list(p.Groups), p.EmailVerified)
}

// GetProxySession returns the gateway session with hash, expired or not.
func (s *Store) GetProxySession(ctx context.Context, hash string) (*storage.ProxySession, error) {
	var p storage.ProxySession
	err := s.readRow(ctx, proxySessions.byKey, hash).Scan(
		&p.Hash, &p.UserID, &p.Username, &p.Email, listCol{&p.Roles},
		timeCol{&p.AuthTime}, timeCol{&p.CreatedAt}, timeCol{&p.LastSeen}, timeCol{&p.ExpiresAt},
		bytesCol{&p.Data}, listCol{&p.Groups}, &p.EmailVerified)
	if err != nil {
		return nil, s.wrap("get proxy session", s.mapErr(err))
	}
	return &p, nil
}

// TouchProxySession sets the LastSeen of the gateway session with hash. A
// session that is unknown or expired at lastSeen is storage.ErrNotFound,
// so a late touch never revives it.
func (s *Store) TouchProxySession(ctx context.Context, hash string, lastSeen time.Time) error {
	at := s.time(lastSeen)
	res, err := s.exec(ctx,
		"UPDATE proxy_sessions SET last_seen = $2 WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
		hash, at)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("touch proxy session", err)
	}
	return nil
}

// DeleteProxySession removes the gateway session with hash; an unknown one
// is storage.ErrNotFound.
func (s *Store) DeleteProxySession(ctx context.Context, hash string) error {
	res, err := s.exec(ctx, "DELETE FROM proxy_sessions WHERE hash = $1", hash)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("delete proxy session", err)
	}
	return nil
}

// DeleteUserProxySessions removes every gateway session of userID and
// returns how many went.
func (s *Store) DeleteUserProxySessions(ctx context.Context, userID string) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM proxy_sessions WHERE user_id = $1", userID)
	if err != nil {
		return 0, s.wrap("delete user proxy sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("delete user proxy sessions", err)
	}
	return n, nil
}
