package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// SQL is a Store in the gateway's database (SQLite or PostgreSQL), shared
// by every gateway process on it. It is an adapter over the proxy session
// methods of storage.Store (SQLStore); storage.Store.DeleteExpired removes expired sessions, and Get hides them
// until it does.
type SQL struct {
	st  SQLStore
	clk clock.Clock
}

// SQLStore is what SQL needs of the database: the gateway's sessions and
// a readiness check, not the rest of storage.Store.
type SQLStore interface {
	storage.ProxySessionStore
	storage.Pinger
}

// NewSQL returns a Store over st that judges expiry by clk.
func NewSQL(st SQLStore, clk clock.Clock) *SQL {
	return &SQL{st: st, clk: clk}
}

// Create stores s.
func (q *SQL) Create(ctx context.Context, s *Session) error {
	if err := check(s); err != nil {
		return err
	}
	err := q.st.CreateProxySession(ctx, &storage.ProxySession{
		Hash: s.ID, UserID: s.UserID, Username: s.Username, Email: s.Email, Roles: s.Roles,
		AuthTime: s.AuthTime, CreatedAt: s.CreatedAt, LastSeen: s.LastSeen, ExpiresAt: s.ExpiresAt,
		Data: s.Data, Groups: s.Groups, EmailVerified: s.EmailVerified,
	})
	return sqlErr("create", err)
}

// Get returns the session with id.
func (q *SQL) Get(ctx context.Context, id string) (*Session, error) {
	p, err := q.st.GetProxySession(ctx, id)
	if err != nil {
		return nil, sqlErr("get", err)
	}
	if expired(p.ExpiresAt, q.clk.Now()) {
		return nil, ErrNotFound
	}
	return &Session{
		ID: p.Hash, UserID: p.UserID, Username: p.Username, Email: p.Email, Roles: p.Roles,
		AuthTime: p.AuthTime, CreatedAt: p.CreatedAt, LastSeen: p.LastSeen, ExpiresAt: p.ExpiresAt,
		Data: p.Data, Groups: p.Groups, EmailVerified: p.EmailVerified,
	}, nil
}

// Touch sets the LastSeen of the session with id. The database refuses it
// for a session that has expired by lastSeen.
func (q *SQL) Touch(ctx context.Context, id string, lastSeen time.Time) error {
	return sqlErr("touch", q.st.TouchProxySession(ctx, id, lastSeen))
}

// Delete removes the session with id.
func (q *SQL) Delete(ctx context.Context, id string) error {
	err := q.st.DeleteProxySession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return sqlErr("delete", err)
}

// DeleteUser removes every session of userID. The count includes expired
// sessions that DeleteExpired has not removed yet.
func (q *SQL) DeleteUser(ctx context.Context, userID string) (int, error) {
	n, err := q.st.DeleteUserProxySessions(ctx, userID)
	if err != nil {
		return 0, sqlErr("delete user", err)
	}
	return int(n), nil
}

// Ping checks that the database answers.
func (q *SQL) Ping(ctx context.Context) error {
	return sqlErr("ping", q.st.Ping(ctx))
}

// sqlErr maps the storage sentinels to this package's and wraps the rest.
func sqlErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, storage.ErrAlreadyExists):
		return ErrAlreadyExists
	}
	return fmt.Errorf("session: sql: %s: %w", op, err)
}

var _ Store = (*SQL)(nil)
