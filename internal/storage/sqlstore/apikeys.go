package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var apiKeys = newTable("api_keys",
	"id", "name", "secret_hash", "user_id", "scopes", "roles",
	"created_at", "expires_at", "revoked_at", "last_used_at")

func (s *Store) apiKeyArgs(k *storage.APIKey) []any {
	return []any{
		k.ID, k.Name, k.SecretHash, k.UserID, list(k.Scopes), list(k.Roles),
		s.time(k.CreatedAt), s.time(k.ExpiresAt), s.time(k.RevokedAt), s.time(k.LastUsedAt),
	}
}

func scanAPIKey(r rowScanner) (*storage.APIKey, error) {
	var k storage.APIKey
	err := r.Scan(&k.ID, &k.Name, &k.SecretHash, &k.UserID, listCol{&k.Scopes}, listCol{&k.Roles},
		timeCol{&k.CreatedAt}, timeCol{&k.ExpiresAt}, timeCol{&k.RevokedAt}, timeCol{&k.LastUsedAt})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateAPIKey stores a new API key; a duplicate ID is
// storage.ErrAlreadyExists.
func (s *Store) CreateAPIKey(ctx context.Context, k *storage.APIKey) error {
	return s.insert(ctx, "api key", apiKeys.insert, s.apiKeyArgs(k)...)
}

// GetAPIKey returns the API key with id.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*storage.APIKey, error) {
	k, err := scanAPIKey(s.readRow(ctx, apiKeys.byKey, id))
	if err != nil {
		return nil, s.wrap("get api key", s.mapErr(err))
	}
	return k, nil
}

// ListAPIKeys returns all API keys, oldest first (by CreatedAt, then ID).
func (s *Store) ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, apiKeys.sel+" ORDER BY created_at, id")
	if err != nil {
		return nil, s.wrap("list api keys", err)
	}
	defer rows.Close()
	var out []*storage.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.wrap("list api keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list api keys", err)
	}
	return out, nil
}

// UpdateAPIKey changes an API key through fn (revocation, rotation, last
// use); the ID cannot change.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, fn func(*storage.APIKey) error) error {
	return update(ctx, s, "update api key", apiKeys, id, scanAPIKey, fn, func(tx *sql.Tx, v *storage.APIKey) error {
		v.ID = id
		_, err := s.txExec(ctx, tx, apiKeys.update, s.apiKeyArgs(v)...)
		return err
	})
}
