package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// roleError gives an error of the role rules (package rolereg) or of the
// store its Kind: invalid input, an unknown role, or a conflict.
func roleError(name string, err error) error {
	var (
		unknown *rolereg.UnknownError
		inUse   *rolereg.InUseError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unknown), errors.Is(err, rolereg.ErrInvalid):
		return invalid(err)
	case errors.As(err, &inUse), errors.Is(err, rolereg.ErrBuiltin):
		return conflict(err)
	case errors.Is(err, storage.ErrAlreadyExists):
		return conflictf("role %q already exists", name)
	case errors.Is(err, storage.ErrNotFound):
		return notFoundf("role %q not found", name)
	}
	return err
}

// ListRoles returns every role, the built-in ones first.
func (s *Service) ListRoles(ctx context.Context) ([]*storage.Role, error) {
	return rolereg.Known(ctx, s.store)
}

// GetRole returns the role name, built in or custom.
func (s *Service) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	r, err := rolereg.Get(ctx, s.store, name)
	return r, roleError(name, err)
}

// NewRole is a custom role to create.
type NewRole struct {
	Name        string
	Description string
	Permissions []string
}

// Check applies the rules of a custom role (rolereg.Normalize) and returns
// the role as it would be stored, permissions sorted and de-duplicated.
func (nr NewRole) Check() (*storage.Role, error) {
	r := &storage.Role{Name: nr.Name, Description: nr.Description, Permissions: nr.Permissions}
	return r, roleError(nr.Name, rolereg.Normalize(r))
}

// CreateRole checks and stores a custom role.
func (s *Service) CreateRole(ctx context.Context, nr NewRole) (*storage.Role, audit.Event, error) {
	r, err := nr.Check()
	if err != nil {
		return nil, audit.Event{}, err
	}
	r.CreatedAt = s.clock.Now().UTC()
	r.UpdatedAt = r.CreatedAt
	if err := s.store.CreateRole(ctx, r); err != nil {
		return nil, audit.Event{}, roleError(r.Name, err)
	}
	return r, audit.Event{Type: audit.RoleCreated, Outcome: audit.Success,
		Details: map[string]string{"role": r.Name, "permissions": strings.Join(r.Permissions, " ")}}, nil
}

// RoleUpdate is a change to a custom role.
type RoleUpdate struct {
	Description *string
	// Permissions, when not nil, replaces the permissions before Add and
	// Remove apply.
	Permissions *[]string
	// Add and Remove add and remove permissions; Add wins over Remove.
	Add, Remove []string
}

// Check applies the rules that need no store to up: the description and
// the permissions it adds must be allowed.
func (up RoleUpdate) Check(name string) error {
	probe := &storage.Role{Name: name}
	if up.Permissions != nil {
		probe.Permissions = *up.Permissions
	}
	if rolereg.IsBuiltin(name) {
		return roleError(name, fmt.Errorf("%w: %s is built in and cannot be changed; create a custom role instead", rolereg.ErrBuiltin, name))
	}
	return roleError(name, rolereg.Edit(probe, up.Add, nil, up.Description))
}

// UpdateRole changes the custom role name.
func (s *Service) UpdateRole(ctx context.Context, name string, up RoleUpdate) (*storage.Role, audit.Event, error) {
	if err := up.Check(name); err != nil {
		return nil, audit.Event{}, err
	}
	now := s.clock.Now().UTC()
	var before, after storage.Role
	err := s.store.UpdateRole(ctx, name, func(cur *storage.Role) error {
		before = *cur
		if up.Permissions != nil {
			cur.Permissions = *up.Permissions
		}
		if err := rolereg.Edit(cur, up.Add, up.Remove, up.Description); err != nil {
			return err
		}
		cur.UpdatedAt = now
		after = *cur
		return nil
	})
	if err != nil {
		return nil, audit.Event{}, roleError(name, err)
	}
	return &after, audit.Event{Type: audit.RoleUpdated, Outcome: audit.Success,
		Details: map[string]string{"role": name, "permissions": strings.Join(after.Permissions, " "),
			"previous_permissions": strings.Join(before.Permissions, " ")}}, nil
}

// DeleteRole deletes the custom role name, which nobody may hold.
func (s *Service) DeleteRole(ctx context.Context, name string) (audit.Event, error) {
	r, err := rolereg.Delete(ctx, s.store, s.clock, name)
	if err != nil {
		return audit.Event{}, roleError(name, err)
	}
	return audit.Event{Type: audit.RoleDeleted, Outcome: audit.Success,
		Details: map[string]string{"role": name, "permissions": strings.Join(r.Permissions, " ")}}, nil
}
