package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var userTOTP = newTable("user_totp",
	"user_id", "secret", "enrolled", "last_step", "recovery_codes", "created_at", "updated_at",
	"failures", "locked_until", "terminal_challenge")

func (s *Store) totpArgs(t *storage.TOTP) []any {
	return []any{t.UserID, t.EncryptedSecret, t.Enrolled, t.LastStep, list(t.RecoveryCodes),
		s.time(t.CreatedAt), s.time(t.UpdatedAt), t.Failures, s.time(t.LockedUntil), t.TerminalChallenge}
}

func scanTOTP(r rowScanner) (*storage.TOTP, error) {
	var t storage.TOTP
	err := r.Scan(&t.UserID, bytesCol{&t.EncryptedSecret}, &t.Enrolled, &t.LastStep,
		listCol{&t.RecoveryCodes}, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}, &t.Failures, timeCol{&t.LockedUntil},
		&t.TerminalChallenge)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTOTP stores a user's TOTP state; a second one for the same user is
// storage.ErrAlreadyExists.
func (s *Store) CreateTOTP(ctx context.Context, t *storage.TOTP) error {
	return s.insert(ctx, "totp", userTOTP.insert, s.totpArgs(t)...)
}

// GetTOTP returns userID's TOTP state.
func (s *Store) GetTOTP(ctx context.Context, userID string) (*storage.TOTP, error) {
	t, err := scanTOTP(s.readRow(ctx, userTOTP.byKey, userID))
	if err != nil {
		return nil, s.wrap("get totp", s.mapErr(err))
	}
	return t, nil
}

// UpdateTOTP changes userID's TOTP state through fn under a row lock, so
// two logins never both accept the same time step or recovery code.
func (s *Store) UpdateTOTP(ctx context.Context, userID string, fn func(*storage.TOTP) error) error {
	return update(ctx, s, "update totp", userTOTP, userID, scanTOTP, fn, func(tx *sql.Tx, v *storage.TOTP) error {
		v.UserID = userID
		_, err := s.txExec(ctx, tx, userTOTP.update, s.totpArgs(v)...)
		return err
	})
}

// DeleteTOTP removes userID's TOTP state; none is storage.ErrNotFound.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	res, err := s.exec(ctx, "DELETE FROM user_totp WHERE user_id = $1", userID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("delete totp", err)
	}
	return nil
}

// ListUserSessions returns userID's sessions by created_at then hash.
func (s *Store) ListUserSessions(ctx context.Context, userID string) ([]*storage.Session, error) {
	rows, err := s.r.QueryContext(ctx, sessions.sel+" WHERE user_id = $1 ORDER BY created_at, hash", userID)
	if err != nil {
		return nil, s.wrap("list user sessions", err)
	}
	defer rows.Close()
	var out []*storage.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, s.wrap("list user sessions", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list user sessions", err)
	}
	return out, nil
}

// DeleteUserSessions deletes userID's sessions except exceptHash.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptHash string) (int64, error) {
	res, err := s.exec(ctx, "DELETE FROM sessions WHERE user_id = $1 AND hash <> $2", userID, exceptHash)
	if err != nil {
		return 0, s.wrap("delete user sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap("delete user sessions", err)
	}
	return n, nil
}
