package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var sessions = newTable("sessions", "hash", "user_id", "auth_time", "created_at", "expires_at",
	"ip", "user_agent", "last_seen")

// CreateSession stores a new browser session.
func (s *Store) CreateSession(ctx context.Context, sess *storage.Session) error {
	return s.insert(ctx, "session", sessions.insert,
		sess.Hash, sess.UserID, s.time(sess.AuthTime), s.time(sess.CreatedAt), s.time(sess.ExpiresAt),
		sess.IP, sess.UserAgent, s.time(sess.LastSeen))
}

// scanSession reads a row of sessions.sel.
func scanSession(row rowScanner) (*storage.Session, error) {
	var sess storage.Session
	err := row.Scan(&sess.Hash, &sess.UserID, timeCol{&sess.AuthTime}, timeCol{&sess.CreatedAt},
		timeCol{&sess.ExpiresAt}, &sess.IP, &sess.UserAgent, timeCol{&sess.LastSeen})
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// GetSession returns the session with hash.
func (s *Store) GetSession(ctx context.Context, hash string) (*storage.Session, error) {
	sess, err := scanSession(s.readRow(ctx, sessions.byKey, hash))
	if err != nil {
		return nil, s.wrap("get session", s.mapErr(err))
	}
	return sess, nil
}

// TouchSession sets the LastSeen of the session with hash. A session that
// is unknown or expired at lastSeen is storage.ErrNotFound, so a late
// touch never revives it.
func (s *Store) TouchSession(ctx context.Context, hash string, lastSeen time.Time) error {
	at := s.time(lastSeen)
	res, err := s.exec(ctx,
		"UPDATE sessions SET last_seen = $2 WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
		hash, at)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("touch session", err)
	}
	return nil
}

// DeleteSession removes the session with hash; an unknown one is
// storage.ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	res, err := s.exec(ctx, "DELETE FROM sessions WHERE hash = $1", hash)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("delete session", err)
	}
	return nil
}

// GetConsent returns what userID allowed clientID.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (*storage.Consent, error) {
	var c storage.Consent
	err := s.readRow(ctx,
		"SELECT user_id, client_id, scopes, created_at FROM consents WHERE user_id = $1 AND client_id = $2",
		userID, clientID).Scan(&c.UserID, &c.ClientID, listCol{&c.Scopes}, timeCol{&c.CreatedAt})
	if err != nil {
		return nil, s.wrap("get consent", s.mapErr(err))
	}
	return &c, nil
}

// SaveConsent inserts the consent or replaces the one of the same user and
// client.
func (s *Store) SaveConsent(ctx context.Context, c *storage.Consent) error {
	_, err := s.exec(ctx, `INSERT INTO consents (user_id, client_id, scopes, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at`,
		c.UserID, c.ClientID, list(c.Scopes), s.time(c.CreatedAt))
	if err != nil {
		return s.wrap("save consent", err)
	}
	return nil
}
