package sqlstore

import (
	"context"
	"database/sql"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var roles = newTable("roles", "name", "description", "permissions", "created_at", "updated_at")

func (s *Store) roleArgs(r *storage.Role) []any {
	return []any{r.Name, r.Description, list(r.Permissions), s.time(r.CreatedAt), s.time(r.UpdatedAt)}
}

func scanRole(r rowScanner) (*storage.Role, error) {
	var v storage.Role
	err := r.Scan(&v.Name, &v.Description, listCol{&v.Permissions}, timeCol{&v.CreatedAt}, timeCol{&v.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateRole stores a new role; a taken name is storage.ErrAlreadyExists.
func (s *Store) CreateRole(ctx context.Context, r *storage.Role) error {
	return s.insert(ctx, "role", roles.insert, s.roleArgs(r)...)
}

// GetRole returns the role called name.
func (s *Store) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	r, err := scanRole(s.readRow(ctx, roles.byKey, name))
	if err != nil {
		return nil, s.wrap("get role", s.mapErr(err))
	}
	return r, nil
}

// ListRoles returns all roles ordered by name.
func (s *Store) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	rows, err := s.r.QueryContext(ctx, roles.sel+" ORDER BY name")
	if err != nil {
		return nil, s.wrap("list roles", err)
	}
	defer rows.Close()
	var out []*storage.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, s.wrap("list roles", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list roles", err)
	}
	return out, nil
}

// UpdateRole changes a role through fn; the name cannot change.
func (s *Store) UpdateRole(ctx context.Context, name string, fn func(*storage.Role) error) error {
	return update(ctx, s, "update role", roles, name, scanRole, fn, func(tx *sql.Tx, v *storage.Role) error {
		v.Name = name
		_, err := s.txExec(ctx, tx, roles.update, s.roleArgs(v)...)
		return err
	})
}

// DeleteRole removes the role called name; none is storage.ErrNotFound.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	res, err := s.exec(ctx, "DELETE FROM roles WHERE name = $1", name)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.wrap("delete role", err)
	}
	return nil
}
