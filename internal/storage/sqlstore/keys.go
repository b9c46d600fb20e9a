package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var signingKeys = newTable("signing_keys",
	"id", "algorithm", "public_jwk", "encrypted_private_key", "created_at", "active_at", "retired_at")

func (s *Store) signingKeyArgs(k *storage.SigningKey) []any {
	return []any{
		k.ID, k.Algorithm, k.PublicJWK, blob(k.EncryptedPrivateKey),
		s.time(k.CreatedAt), s.time(k.ActiveAt), s.time(k.RetiredAt),
	}
}

func scanSigningKey(r rowScanner) (*storage.SigningKey, error) {
	var k storage.SigningKey
	err := r.Scan(&k.ID, &k.Algorithm, &k.PublicJWK, bytesCol{&k.EncryptedPrivateKey},
		timeCol{&k.CreatedAt}, timeCol{&k.ActiveAt}, timeCol{&k.RetiredAt})
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateSigningKey stores a new signing key.
func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	return s.insert(ctx, "signing key", signingKeys.insert, s.signingKeyArgs(k)...)
}

// ListSigningKeys returns all signing keys, newest (by CreatedAt) first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*storage.SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, signingKeys.sel+" ORDER BY created_at DESC, id DESC")
	if err != nil {
		return nil, s.wrap("list signing keys", err)
	}
	defer rows.Close()
	var out []*storage.SigningKey
	for rows.Next() {
		k, err := scanSigningKey(rows)
		if err != nil {
			return nil, s.wrap("list signing keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list signing keys", err)
	}
	return out, nil
}

// UpdateSigningKey changes the signing key with id through fn (activation,
// retirement); the ID cannot change.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(*storage.SigningKey) error) error {
	return update(ctx, s, "update signing key", signingKeys, id, scanSigningKey, fn, func(tx *sql.Tx, v *storage.SigningKey) error {
		v.ID = id
		_, err := s.txExec(ctx, tx, signingKeys.update, s.signingKeyArgs(v)...)
		return err
	})
}
