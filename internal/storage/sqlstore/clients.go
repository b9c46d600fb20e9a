package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var clients = newTable("clients",
	"id", "name", "secret_hash", "is_public", "auth_method", "jwks",
	"redirect_uris", "grant_types", "scopes", "roles", "first_party",
	"created_at", "updated_at", "audiences", "post_logout_redirect_uris", "dpop_required")

func (s *Store) clientArgs(c *storage.Client) []any {
	return []any{
		c.ID, c.Name, c.SecretHash, c.Public, c.AuthMethod, c.JWKS,
		list(c.RedirectURIs), list(c.GrantTypes), list(c.Scopes), list(c.Roles), c.FirstParty,
		s.time(c.CreatedAt), s.time(c.UpdatedAt), list(c.Audiences), list(c.PostLogoutRedirectURIs), c.DPoPRequired,
	}
}

func scanClient(r rowScanner) (*storage.Client, error) {
	var c storage.Client
	err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.AuthMethod, &c.JWKS,
		listCol{&c.RedirectURIs}, listCol{&c.GrantTypes}, listCol{&c.Scopes}, listCol{&c.Roles}, &c.FirstParty,
		timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, listCol{&c.Audiences}, listCol{&c.PostLogoutRedirectURIs}, &c.DPoPRequired)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateClient stores a new client; a duplicate ID is storage.ErrAlreadyExists.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	return s.insert(ctx, "client", clients.insert, s.clientArgs(c)...)
}

// GetClient returns the client with id.
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := scanClient(s.readRow(ctx, clients.byKey, id))
	if err != nil {
		return nil, s.wrap("get client", s.mapErr(err))
	}
	return c, nil
}

// ListClients returns all clients ordered by ID.
func (s *Store) ListClients(ctx context.Context) ([]*storage.Client, error) {
	rows, err := s.r.QueryContext(ctx, clients.sel+" ORDER BY id")
	if err != nil {
		return nil, s.wrap("list clients", err)
	}
	defer rows.Close()
	var out []*storage.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, s.wrap("list clients", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list clients", err)
	}
	return out, nil
}

// UpdateClient changes a client through fn; the ID cannot change.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*storage.Client) error) error {
	return update(ctx, s, "update client", clients, id, scanClient, fn, func(tx *sql.Tx, v *storage.Client) error {
		v.ID = id
		_, err := s.txExec(ctx, tx, clients.update, s.clientArgs(v)...)
		return err
	})
}

// DeleteClient removes the client and everything issued to it: codes,
// device codes, grants with their refresh tokens, and consents.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, "DELETE FROM clients WHERE id = $1", id)
		if err != nil {
			return err
		}
		if err := affected(res); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM refresh_tokens WHERE grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
			"DELETE FROM grants WHERE client_id = $1",
			"DELETE FROM auth_codes WHERE client_id = $1",
			"DELETE FROM device_codes WHERE client_id = $1",
			"DELETE FROM consents WHERE client_id = $1",
		} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("delete client", err)
	}
	return nil
}
