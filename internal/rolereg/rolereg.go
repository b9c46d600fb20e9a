// Package rolereg holds the rules for roles in one place: the built-in
// roles, the syntax of role names and permissions, the checks a custom
// role passes before it is stored, and the permissions a set of roles
// grants. The admin layer (internal/admin), the server's token issuance
// and its connectors use the same functions, so what one refuses the
// others refuse too.
package rolereg

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

// Built-in roles carried in the roles claim.
const (
	Admin  = "admin"
	Editor = "editor"
	Viewer = "viewer"
)

// Builtin returns the roles every server knows, in a new slice the
// caller may change.
func Builtin() []string { return []string{Admin, Editor, Viewer} }

// Lister is what Known, Check and Permissions need of a store.
type Lister interface {
	ListRoles(ctx context.Context) ([]*storage.Role, error)
}

// Getter is what Get needs of a store.
type Getter interface {
	GetRole(ctx context.Context, name string) (*storage.Role, error)
}

// HolderLister is what Holders needs of a store: everything that can hold
// a role.
type HolderLister interface {
	ListUsers(ctx context.Context) ([]*storage.User, error)
	ListClients(ctx context.Context) ([]*storage.Client, error)
	ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error)
}

// Deleter is what Delete needs of a store.
type Deleter interface {
	Getter
	HolderLister
	DeleteRole(ctx context.Context, name string) error
}

// Limits of a custom role, which keep tokens small.
const (
	MaxRolePermissions    = 64
	MaxPermissionLength   = 128
	MaxRoleDescriptionLen = 256
)

// Errors of role management. Callers test them with errors.Is; the
// messages say what to do.
var (
	// ErrBuiltin refuses creating, changing or deleting admin, editor
	// or viewer.
	ErrBuiltin = errors.New("built-in role")
	// ErrInvalid is wrapped by every validation failure of a role.
	ErrInvalid = errors.New("invalid role")
)

// roleName is the syntax of a role name.
var roleName = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// ValidName reports whether name is a role name: lower case
// [a-z][a-z0-9_.-]{0,63}.
func ValidName(name string) bool { return roleName.MatchString(name) }

// IsBuiltin reports whether name is admin, editor or viewer.
func IsBuiltin(name string) bool { return slices.Contains(Builtin(), name) }

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

// UnknownError is assigning a role that is neither built in nor stored.
type UnknownError struct {
	Role  string
	Known []string // every role that exists, built-ins first
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown role %q; known roles: %s (create one with 'gatehouse roles create')", e.Role, strings.Join(e.Known, ", "))
}

// InUseError refuses deleting a role that users, clients or API keys
// still hold.
type InUseError struct {
	Role    string
	Holders []string // "user alice", "client ci", "API key <id> (<name>)"
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("role %q is still held by %s: take it away from them first", e.Role, strings.Join(e.Holders, ", "))
}

// Normalize checks a custom role before it is stored: a valid name
// that is not built in, a printable description of at most
// MaxRoleDescriptionLen bytes, and valid permissions, which it sorts and
// de-duplicates. Failures wrap ErrInvalid or ErrBuiltin.
func Normalize(r *storage.Role) error {
	switch {
	case IsBuiltin(r.Name):
		return fmt.Errorf("%w: %s is built in and cannot be created, changed or deleted", ErrBuiltin, r.Name)
	case !ValidName(r.Name):
		return fmt.Errorf("%w: role name %q must be lower case [a-z][a-z0-9_.-], at most 64 characters", ErrInvalid, r.Name)
	case len(r.Description) > MaxRoleDescriptionLen:
		return fmt.Errorf("%w: the description is longer than %d bytes", ErrInvalid, MaxRoleDescriptionLen)
	case strings.ContainsFunc(r.Description, unicode.IsControl):
		return fmt.Errorf("%w: the description must not contain control characters", ErrInvalid)
	}
	for _, p := range r.Permissions {
		if !ValidPermission(p) {
			return fmt.Errorf("%w: permission %q is not an RFC 6749 §3.3 scope token (printable ASCII, no space, quote or backslash, at most %d bytes)",
				ErrInvalid, p, MaxPermissionLength)
		}
	}
	perms := slices.Clone(r.Permissions)
	slices.Sort(perms)
	perms = slices.Compact(perms)
	if len(perms) > MaxRolePermissions {
		return fmt.Errorf("%w: a role has at most %d permissions", ErrInvalid, MaxRolePermissions)
	}
	if len(perms) == 0 {
		perms = nil
	}
	r.Permissions = perms
	return nil
}

// Known returns every role: the built-in ones (without permissions
// or times) followed by the stored custom roles by name.
func Known(ctx context.Context, st Lister) ([]*storage.Role, error) {
	stored, err := st.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	builtin := Builtin()
	out := make([]*storage.Role, 0, len(builtin)+len(stored))
	for _, name := range builtin {
		out = append(out, &storage.Role{Name: name, Description: builtinRoleDescriptions[name]})
	}
	return append(out, stored...), nil
}

// builtinRoleDescriptions describe the built-in roles in listings.
var builtinRoleDescriptions = map[string]string{
	Admin:  "built in: the admin API and every admin page",
	Editor: "built in",
	Viewer: "built in",
}

// GetRole returns the role called name: a built-in one (without
// permissions) or a stored one. An unknown name is storage.ErrNotFound.
func Get(ctx context.Context, st Getter, name string) (*storage.Role, error) {
	if IsBuiltin(name) {
		return &storage.Role{Name: name, Description: builtinRoleDescriptions[name]}, nil
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("get role %q: %w", name, storage.ErrNotFound)
	}
	return st.GetRole(ctx, name)
}

// Check returns an *UnknownError for the first of roles that
// is neither built in nor stored. Assigning roles to a user, client or
// API key goes through it.
func Check(ctx context.Context, st Lister, roles []string) error {
	var custom []string
	for _, r := range roles {
		if !IsBuiltin(r) {
			custom = append(custom, r)
		}
	}
	if len(custom) == 0 {
		return nil
	}
	known, err := Known(ctx, st)
	if err != nil {
		return err
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = k.Name
	}
	for _, r := range custom {
		if !slices.Contains(names, r) {
			return &UnknownError{Role: r, Known: names}
		}
	}
	return nil
}

// Holders lists who holds the role name: users (disabled ones too),
// clients and API keys that can still be used (revoked and expired keys
// never work again, so they do not count).
func Holders(ctx context.Context, st HolderLister, clk clock.Clock, name string) ([]string, error) {
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
// built-in role (ErrBuiltin) and a role still held (*InUseError);
// an unknown one is storage.ErrNotFound.
//
// The holders are checked just before the delete, not in the same
// transaction: a role assigned in between stays named by its holder but
// grants no permissions, and assigning it again is refused.
func Delete(ctx context.Context, st Deleter, clk clock.Clock, name string) (*storage.Role, error) {
	if IsBuiltin(name) {
		return nil, fmt.Errorf("%w: %s is built in and cannot be deleted", ErrBuiltin, name)
	}
	r, err := Get(ctx, st, name)
	if err != nil {
		return nil, err
	}
	holders, err := Holders(ctx, st, clk, name)
	if err != nil {
		return nil, err
	}
	if len(holders) > 0 {
		return nil, &InUseError{Role: name, Holders: holders}
	}
	if err := st.DeleteRole(ctx, name); err != nil {
		return nil, err
	}
	return r, nil
}

// Edit applies an update to r: permissions added and removed (add
// wins over remove) and, when description is not nil, a new description.
// It then normalises r (Normalize).
func Edit(r *storage.Role, add, remove []string, description *string) error {
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
	return Normalize(r)
}

// Permissions returns the sorted union of the permissions of roles, nil
// when they have none. Built-in roles have no permissions; a role that no
// longer exists contributes nothing. It reads the roles table only when a
// custom role is among roles, so subjects with built-in roles alone cost
// nothing.
func Permissions(ctx context.Context, st Lister, roles []string) ([]string, error) {
	if !slices.ContainsFunc(roles, func(r string) bool { return !IsBuiltin(r) }) {
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
