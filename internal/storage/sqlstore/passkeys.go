package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var passkeys = newTable("passkeys",
	"id", "user_id", "credential_id", "public_key", "attestation_type", "attestation_format", "aaguid",
	"sign_count", "user_verified", "backup_eligible", "backup_state", "transports", "name",
	"created_at", "last_used_at")

func (s *Store) passkeyArgs(p *storage.Passkey) []any {
	return []any{p.ID, p.UserID, blob(p.CredentialID), blob(p.PublicKey), p.AttestationType, p.AttestationFormat,
		blob(p.AAGUID), int64(p.SignCount), p.UserVerified, p.BackupEligible, p.BackupState, list(p.Transports),
		p.Name, s.time(p.CreatedAt), s.time(p.LastUsedAt)}
}

func scanPasskey(r rowScanner) (*storage.Passkey, error) {
	var p storage.Passkey
	var count int64
	err := r.Scan(&p.ID, &p.UserID, bytesCol{&p.CredentialID}, bytesCol{&p.PublicKey}, &p.AttestationType,
		&p.AttestationFormat, bytesCol{&p.AAGUID}, &count, &p.UserVerified, &p.BackupEligible, &p.BackupState,
		listCol{&p.Transports}, &p.Name, timeCol{&p.CreatedAt}, timeCol{&p.LastUsedAt})
	if err != nil {
		return nil, err
	}
	p.SignCount = uint32(count)
	return &p, nil
}

// CreatePasskey stores a new passkey; a duplicate ID or credential id is
// storage.ErrAlreadyExists.
func (s *Store) CreatePasskey(ctx context.Context, p *storage.Passkey) error {
	return s.insert(ctx, "passkey", passkeys.insert, s.passkeyArgs(p)...)
}

// GetPasskey returns the passkey with the server's id.
func (s *Store) GetPasskey(ctx context.Context, id string) (*storage.Passkey, error) {
	p, err := scanPasskey(s.readRow(ctx, passkeys.byKey, id))
	if err != nil {
		return nil, s.wrap("get passkey", s.mapErr(err))
	}
	return p, nil
}

// GetPasskeyByCredentialID returns the passkey with the authenticator's
// credential id.
func (s *Store) GetPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*storage.Passkey, error) {
	if len(credentialID) == 0 {
		return nil, s.wrap("get passkey", storage.ErrNotFound)
	}
	p, err := scanPasskey(s.readRow(ctx, passkeys.sel+" WHERE credential_id = $1", credentialID))
	if err != nil {
		return nil, s.wrap("get passkey", s.mapErr(err))
	}
	return p, nil
}

// ListUserPasskeys returns userID's passkeys by created_at then id.
func (s *Store) ListUserPasskeys(ctx context.Context, userID string) ([]*storage.Passkey, error) {
	rows, err := s.r.QueryContext(ctx, passkeys.sel+" WHERE user_id = $1 ORDER BY created_at, id", userID)
	if err != nil {
		return nil, s.wrap("list passkeys", err)
	}
	defer rows.Close()
	var out []*storage.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, s.wrap("list passkeys", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list passkeys", err)
	}
	return out, nil
}

// UpdatePasskey changes a passkey through fn under a row lock, so two
// sign-ins with the same passkey see each other's signature counter. The
// ID, user and credential id do not change.
func (s *Store) UpdatePasskey(ctx context.Context, id string, fn func(*storage.Passkey) error) error {
	var orig *storage.Passkey
	return update(ctx, s, "update passkey", passkeys, id, func(r rowScanner) (*storage.Passkey, error) {
		p, err := scanPasskey(r)
		if err == nil {
			c := *p
			orig = &c
		}
		return p, err
	}, fn, func(tx *sql.Tx, v *storage.Passkey) error {
		v.ID, v.UserID, v.CredentialID = orig.ID, orig.UserID, orig.CredentialID
		_, err := s.txExec(ctx, tx, passkeys.update, s.passkeyArgs(v)...)
		return err
	})
}

// DeletePasskey removes a passkey; an unknown id is storage.ErrNotFound.
func (s *Store) DeletePasskey(ctx context.Context, id string) error {
	res, err := s.exec(ctx, "DELETE FROM passkeys WHERE id = $1", id)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("delete passkey", err)
	}
	return nil
}
