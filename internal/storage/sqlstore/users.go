package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var users = newTable("users",
	"id", "username", "password_hash", "roles", "disabled", "created_at", "updated_at",
	"email", "email_verified", "name", "connector_id", "connector_subject", "directory_groups")

func (s *Store) userArgs(u *storage.User) []any {
	return []any{
		u.ID, normaliseUsername(u.Username), u.PasswordHash, list(u.Roles), u.Disabled,
		s.time(u.CreatedAt), s.time(u.UpdatedAt),
		strings.TrimSpace(u.Email), u.EmailVerified, u.Name,
		u.ConnectorID, u.ConnectorSubject, list(u.Groups),
	}
}

func scanUser(r rowScanner) (*storage.User, error) {
	var u storage.User
	err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, listCol{&u.Roles}, &u.Disabled,
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt},
		&u.Email, &u.EmailVerified, &u.Name,
		&u.ConnectorID, &u.ConnectorSubject, listCol{&u.Groups})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser stores a new user with a normalised username. A duplicate ID
// or a username taken after normalisation is storage.ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	return s.insert(ctx, "user", users.insert, s.userArgs(u)...)
}

// GetUser returns the user with id.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := scanUser(s.readRow(ctx, users.byKey, id))
	if err != nil {
		return nil, s.wrap("get user", s.mapErr(err))
	}
	return u, nil
}

// GetUserByName returns the user whose username matches username after
// normalisation.
func (s *Store) GetUserByName(ctx context.Context, username string) (*storage.User, error) {
	u, err := scanUser(s.readRow(ctx, users.sel+" WHERE username = $1", normaliseUsername(username)))
	if err != nil {
		return nil, s.wrap("get user by name", s.mapErr(err))
	}
	return u, nil
}

// GetUserByIdentity returns the user linked to (connectorID, subject).
func (s *Store) GetUserByIdentity(ctx context.Context, connectorID, subject string) (*storage.User, error) {
	if connectorID == "" || subject == "" {
		return nil, s.wrap("get user by identity", storage.ErrNotFound)
	}
	u, err := scanUser(s.readRow(ctx, users.sel+" WHERE connector_id = $1 AND connector_subject = $2", connectorID, subject))
	if err != nil {
		return nil, s.wrap("get user by identity", s.mapErr(err))
	}
	return u, nil
}

// ListUsers returns all users ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]*storage.User, error) {
	rows, err := s.r.QueryContext(ctx, users.sel+" ORDER BY username")
	if err != nil {
		return nil, s.wrap("list users", err)
	}
	defer rows.Close()
	var out []*storage.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, s.wrap("list users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list users", err)
	}
	return out, nil
}

// UpdateUser changes a user through fn; the ID cannot change and the
// username is normalised.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*storage.User) error) error {
	return update(ctx, s, "update user", users, id, scanUser, fn, func(tx *sql.Tx, v *storage.User) error {
		v.ID = id
		_, err := s.txExec(ctx, tx, users.update, s.userArgs(v)...)
		return err
	})
}

// holdsRole reports whether u is enabled and has role.
func holdsRole(u *storage.User, role string) bool {
	return !u.Disabled && slices.Contains(u.Roles, role)
}

// lockRoleHolders locks the rows of every enabled user in tx, in id order
// (so two lockers never deadlock), and returns the ids of those with role.
// On PostgreSQL a row changed by a transaction that committed while this
// one waited is re-read in its new version and dropped if it is no longer
// enabled, or was deleted; on SQLite BEGIN IMMEDIATE already serialises
// writers.
func (s *Store) lockRoleHolders(ctx context.Context, tx *sql.Tx, role string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, users.sel+" WHERE disabled = $1 ORDER BY id"+s.d.ForUpdate, false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	holders := map[string]bool{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		if holdsRole(u, role) {
			holders[u.ID] = true
		}
	}
	return holders, rows.Err()
}

// UpdateUserKeepingRole is UpdateUser that refuses, with
// storage.ErrLastRoleHolder, to take role from its last enabled holder.
func (s *Store) UpdateUserKeepingRole(ctx context.Context, id, role string, fn func(*storage.User) error) error {
	fnFailed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		fnFailed = false
		holders, err := s.lockRoleHolders(ctx, tx, role)
		if err != nil {
			return err
		}
		v, err := scanUser(s.txRow(ctx, tx, users.byKey+s.d.ForUpdate, id))
		if err != nil {
			return s.mapErr(err)
		}
		was := holdsRole(v, role)
		if err := fn(v); err != nil {
			fnFailed = true
			return err
		}
		v.ID = id
		delete(holders, id)
		if was && !holdsRole(v, role) && len(holders) == 0 {
			fnFailed = true
			return storage.ErrLastRoleHolder
		}
		_, err = s.txExec(ctx, tx, users.update, s.userArgs(v)...)
		return s.mapErr(err)
	})
	if err != nil && !fnFailed {
		return s.wrap("update user", err)
	}
	return err
}

// DeleteUserKeepingRole is DeleteUser that refuses, with
// storage.ErrLastRoleHolder, to delete the last enabled holder of role.
func (s *Store) DeleteUserKeepingRole(ctx context.Context, id, role string) error {
	return s.deleteUser(ctx, id, func(tx *sql.Tx) error {
		holders, err := s.lockRoleHolders(ctx, tx, role)
		if err != nil {
			return err
		}
		if holders[id] && len(holders) == 1 {
			return storage.ErrLastRoleHolder
		}
		return nil
	})
}

// DeleteUser removes the user and their sessions, grants with their refresh
// tokens, consents, authorization codes, device codes and the API keys
// acting as the user. Refresh tokens
// are found through their grants, which index user_id; the hot
// refresh_tokens table carries no index on it.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.deleteUser(ctx, id, nil)
}

// deleteUser deletes id and everything of theirs in one transaction, after
// guard (if not nil) allowed it; guard's error is returned unwrapped.
func (s *Store) deleteUser(ctx context.Context, id string, guard func(tx *sql.Tx) error) error {
	var guardErr error
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		guardErr = nil
		if guard != nil {
			if guardErr = guard(tx); guardErr != nil {
				return guardErr
			}
		}
		res, err := s.txExec(ctx, tx, "DELETE FROM users WHERE id = $1", id)
		if err != nil {
			return err
		}
		if err := affected(res); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM sessions WHERE user_id = $1",
			"DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
			"DELETE FROM grants WHERE user_id = $1",
			"DELETE FROM consents WHERE user_id = $1",
			"DELETE FROM auth_codes WHERE user_id = $1",
			"DELETE FROM device_codes WHERE user_id = $1",
			"DELETE FROM api_keys WHERE user_id = $1",
			"DELETE FROM user_totp WHERE user_id = $1",
			"DELETE FROM passkeys WHERE user_id = $1",
		} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil && guardErr != nil && errors.Is(err, guardErr) {
		return guardErr
	}
	if err != nil {
		return s.wrap("delete user", err)
	}
	return nil
}
