package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Limits of a custom role, which keep tokens small.
const (
	MaxRolePermissions    = 64
	MaxPermissionLength   = 128
	MaxRoleDescriptionLen = 256
)

// Errors of role management. Callers test them with errors.Is; the
// messages say what to do.
var (
	// ErrBuiltinRole refuses creating, changing or deleting admin, editor
	// or viewer.
	ErrBuiltinRole = errors.New("built-in role")
	// ErrInvalidRole is wrapped by every validation failure of a role.
	ErrInvalidRole = errors.New("invalid role")
)

// roleName is the syntax of a role name.
var roleName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// ValidRoleName reports whether name is a role name: lower case
// [a-z][a-z0-9_.-]{0,63}.
func ValidRoleName(name string) bool { return roleName.MatchString(name) }

// IsBuiltinRole reports whether name is admin, editor or viewer.
func IsBuiltinRole(name string) bool { return slices.Contains(BuiltinRoles(), name) }

// ValidPermission reports whether p is a permission: an RFC 6749 §3.3
// scope token, "scope-token = 1*( %x21 / %x23-5B / %x5D-7E )", of at most
// MaxPermissionLength bytes.
func ValidPermission(p string) bool {
	if p == "" || len(p) > MaxPermissionLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// UnknownRoleError is assigning a role that is neither built in nor stored.
type UnknownRoleError struct {
	Role  string
	Known []string // every role that exists, built-ins first
}

func (e *UnknownRoleError) Error() string {
	return fmt.Sprintf("unknown role %q; known roles: %s (create one with 'gatehouse roles create')", e.Role, strings.Join(e.Known, ", "))
}

// RoleInUseError refuses deleting a role that users, clients or API keys
// still hold.
type RoleInUseError struct {
	Role    string
	Holders []string // "user alice", "client ci", "API key <id> (<name>)"
}

func (e *RoleInUseError) Error() string {
	return fmt.Sprintf("role %q is still held by %s: take it away from them first", e.Role, strings.Join(e.Holders, ", "))
}

// NormalizeRole checks a custom role before it is stored: a valid name
// that is not built in, a printable description of at most
// MaxRoleDescriptionLen bytes, and valid permissions, which it sorts and
// de-duplicates. Failures wrap ErrInvalidRole or ErrBuiltinRole.
func NormalizeRole(r *storage.Role) error {
	switch {
	case IsBuiltinRole(r.Name):
		return fmt.Errorf("%w: %s is built in and cannot be created, changed or deleted", ErrBuiltinRole, r.Name)
	case !ValidRoleName(r.Name):
		return fmt.Errorf("%w: role name %q must be lower case [a-z][a-z0-9_.-], at most 64 characters", ErrInvalidRole, r.Name)
	case len(r.Description) > MaxRoleDescriptionLen:
		return fmt.Errorf("%w: the description is longer than %d bytes", ErrInvalidRole, MaxRoleDescriptionLen)
	case strings.ContainsFunc(r.Description, unicode.IsControl):
		return fmt.Errorf("%w: the description must not contain control characters", ErrInvalidRole)
	}
	for _, p := range r.Permissions {
		if !ValidPermission(p) {
			return fmt.Errorf("%w: permission %q is not an RFC 6749 §3.3 scope token (printable ASCII, no space, quote or backslash, at most %d bytes)",
				ErrInvalidRole, p, MaxPermissionLength)
		}
	}
	perms := slices.Clone(r.Permissions)
	slices.Sort(perms)
	perms = slices.Compact(perms)
	if len(perms) > MaxRolePermissions {
		return fmt.Errorf("%w: a role has at most %d permissions", ErrInvalidRole, MaxRolePermissions)
	}
	if len(perms) == 0 {
		perms = nil
	}
	r.Permissions = perms
	return nil
}

// KnownRoles returns every role: the built-in ones (without permissions
// or times) followed by the stored custom roles by name.
func KnownRoles(ctx context.Context, st storage.Store) ([]*storage.Role, error) {
	stored, err := st.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	builtin := BuiltinRoles()
	out := make([]*storage.Role, 0, len(builtin)+len(stored))
	for _, name := range builtin {
		out = append(out, &storage.Role{Name: name, Description: builtinRoleDescriptions[name]})
	}
	return append(out, stored...), nil
}

// builtinRoleDescriptions describe the built-in roles in listings.
var builtinRoleDescriptions = map[string]string{
	RoleAdmin:  "built in: the admin API and every admin page",
	RoleEditor: "built in",
	RoleViewer: "built in",
}

// GetRole returns the role called name: a built-in one (without
// permissions) or a stored one. An unknown name is storage.ErrNotFound.
func GetRole(ctx context.Context, st storage.Store, name string) (*storage.Role, error) {
	if IsBuiltinRole(name) {
		return &storage.Role{Name: name, Description: builtinRoleDescriptions[name]}, nil
	}
	if !ValidRoleName(name) {
		return nil, fmt.Errorf("get role %q: %w", name, storage.ErrNotFound)
	}
	return st.GetRole(ctx, name)
}

// CheckRoles returns an *UnknownRoleError for the first of roles that
// is neither built in nor stored. Assigning roles to a user, client or
// API key goes through it.
func CheckRoles(ctx context.Context, st storage.Store, roles []string) error {
	var custom []string
	for _, r := range roles {
		if !IsBuiltinRole(r) {
			custom = append(custom, r)
		}
	}
	if len(custom) == 0 {
		return nil
	}
	known, err := KnownRoles(ctx, st)
	if err != nil {
		return err
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = k.Name
	}
	for _, r := range custom {
		if !slices.Contains(names, r) {
			return &UnknownRoleError{Role: r, Known: names}
		}
	}
	return nil
}

// RoleHolders lists who holds the role name: users (disabled ones too),
// clients and API keys that can still be used (revoked and expired keys
// never work again, so they do not count).
func RoleHolders(ctx context.Context, st storage.Store, clk clock.Clock, name string) ([]string, error) {
	var out []string
	users, err := st.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for _, u := range users {
		if slices.Contains(u.Roles, name) {
			out = append(out, "user "+u.Username)
		}
	}
	clients, err := st.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	for _, c := range clients {
		if slices.Contains(c.Roles, name) {
			out = append(out, "client "+c.ID)
		}
	}
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	now := clk.Now()
	for _, k := range keys {
		usable := k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
		if usable && slices.Contains(k.Roles, name) {
			out = append(out, fmt.Sprintf("API key %s (%s)", k.ID, k.Name))
		}
	}
	return out, nil
}

// DeleteRole deletes the custom role name and returns it. It refuses a
// built-in role (ErrBuiltinRole) and a role still held (*RoleInUseError);
// an unknown one is storage.ErrNotFound.
//
// The holders are checked just before the delete, not in the same
// transaction: a role assigned in between stays named by its holder but
// grants no permissions, and assigning it again is refused.
func DeleteRole(ctx context.Context, st storage.Store, clk clock.Clock, name string) (*storage.Role, error) {
	if IsBuiltinRole(name) {
		return nil, fmt.Errorf("%w: %s is built in and cannot be deleted", ErrBuiltinRole, name)
	}
	r, err := GetRole(ctx, st, name)
	if err != nil {
		return nil, err
	}
	holders, err := RoleHolders(ctx, st, clk, name)
	if err != nil {
		return nil, err
	}
	if len(holders) > 0 {
		return nil, &RoleInUseError{Role: name, Holders: holders}
	}
	if err := st.DeleteRole(ctx, name); err != nil {
		return nil, err
	}
	return r, nil
}

// EditRole applies an update to r: permissions added and removed (add
// wins over remove) and, when description is not nil, a new description.
// It then normalises r (NormalizeRole).
func EditRole(r *storage.Role, add, remove []string, description *string) error {
	var perms []string
	for _, p := range r.Permissions {
		if !slices.Contains(remove, p) {
			perms = append(perms, p)
		}
	}
	r.Permissions = append(perms, add...)
	if description != nil {
		r.Description = *description
	}
	return NormalizeRole(r)
}

// Permissions returns the sorted union of the permissions of roles, nil
// when they have none. Built-in roles have no permissions; a role that no
// longer exists contributes nothing. It reads the roles table only when a
// custom role is among roles, so subjects with built-in roles alone cost
// nothing.
func Permissions(ctx context.Context, st storage.Store, roles []string) ([]string, error) {
	if !slices.ContainsFunc(roles, func(r string) bool { return !IsBuiltinRole(r) }) {
		return nil, nil
	}
	stored, err := st.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	var out []string
	for _, r := range stored {
		if slices.Contains(roles, r.Name) {
			out = append(out, r.Permissions...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
