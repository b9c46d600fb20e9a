package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// MaxUsernameLen is the longest username in bytes.
const MaxUsernameLen = 128

// NormalizeUsername trims and lower-cases a username, as storage compares
// them, and refuses an empty one, one longer than MaxUsernameLen bytes,
// and one with spaces, control characters or invalid UTF-8. A control
// character is refused before trimming too: "eve\n" is a mistake (or a
// forged log line), not eve.
func NormalizeUsername(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case strings.ContainsFunc(name, isControl):
		return "", invalidf("username %q contains a control character (such as CR or LF)", name)
	case n == "":
		return "", invalidf("the username must not be empty")
	case len(n) > MaxUsernameLen:
		return "", invalidf("the username must be at most %d bytes long", MaxUsernameLen)
	case !utf8.ValidString(n):
		return "", invalidf("username %q is not valid UTF-8", name)
	case strings.ContainsFunc(n, unicode.IsSpace):
		return "", invalidf("username %q must not contain spaces or control characters", name)
	}
	return n, nil
}

// isControl is a C0 or C1 control character, or a Unicode line or
// paragraph separator.
func isControl(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }

// NormalizeRoles trims and lower-cases role names, drops duplicates and
// refuses a name that is not a role name. Whether the roles exist is
// checked by the operations that assign them.
func NormalizeRoles(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		r = strings.ToLower(strings.TrimSpace(r))
		if !rolereg.ValidName(r) {
			return nil, invalidf("unknown role %q: role names are [a-z][a-z0-9_.-]; the built-in ones are %s", r, strings.Join(rolereg.Builtin(), ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// NewUser is a user to create.
type NewUser struct {
	Username string
	// Password is the new user's password; empty for a user of a
	// connector, who signs in there.
	Password string
	Roles    []string
	// Connector pre-creates a user of that connector, without a
	// password: the first sign-in through it links the user.
	Connector string
	Profile   userreg.Profile
}

// Check applies the rules that need neither a store nor the server's
// configuration: the username, the role names, the profile, no password
// for a connector user and the password policy for a given password. It
// returns nu normalised. CreateUser calls it and then checks the rest (the
// roles exist, the connector is configured, a local user has a password);
// a front end may call it first to fail before asking for a password.
func (nu NewUser) Check() (NewUser, error) {
	name, err := NormalizeUsername(nu.Username)
	if err != nil {
		return nu, err
	}
	nu.Username = name
	if nu.Roles, err = NormalizeRoles(nu.Roles); err != nil {
		return nu, err
	}
	if err := nu.Profile.Check(); err != nil {
		return nu, invalid(err)
	}
	switch {
	case nu.Connector != "" && nu.Password != "":
		return nu, invalidf("a user of connector %q signs in there and has no password here; leave the password out", nu.Connector)
	case nu.Connector == "" && nu.Password != "":
		if err := password.CheckPolicy(nu.Password); err != nil {
			return nu, invalid(err)
		}
	}
	return nu, nil
}

// CheckRolesExist refuses roles that are neither built in nor stored
// (Invalid, with the roles that exist).
func (s *Service) CheckRolesExist(ctx context.Context, roles []string) error {
	err := rolereg.Check(ctx, s.store, roles)
	var unknown *rolereg.UnknownError
	if errors.As(err, &unknown) {
		return invalid(err)
	}
	return err
}

// ListUsers returns every user.
func (s *Service) ListUsers(ctx context.Context) ([]*storage.User, error) {
	return s.store.ListUsers(ctx)
}

// GetUser returns the user whose id or username is ref.
func (s *Service) GetUser(ctx context.Context, ref string) (*storage.User, error) {
	u, err := s.store.GetUser(ctx, ref)
	if errors.Is(err, storage.ErrNotFound) {
		name, nerr := NormalizeUsername(ref)
		if nerr != nil {
			return nil, notFoundf("user %q not found", ref)
		}
		u, err = s.store.GetUserByName(ctx, name)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFoundf("user %q not found", ref)
	}
	return u, err
}

// CreateUser checks nu (NewUser.Check, then that its roles exist), hashes
// its password and stores the user.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*storage.User, audit.Event, error) {
	nu, err := nu.Check()
	if err != nil {
		return nil, audit.Event{}, err
	}
	if nu.Connector != "" {
		err = userreg.CheckPrecreated(s.connectors, nu.Connector, nu.Password)
	} else {
		err = password.CheckPolicy(nu.Password)
	}
	if err != nil {
		return nil, audit.Event{}, invalid(err)
	}
	if err := s.CheckRolesExist(ctx, nu.Roles); err != nil {
		return nil, audit.Event{}, err
	}
	var hash string
	if nu.Connector == "" {
		if hash, err = s.hasher.Hash(ctx, nu.Password); err != nil {
			return nil, audit.Event{}, fmt.Errorf("hash password: %w", err)
		}
	}
	now := s.clock.Now().UTC()
	u := &storage.User{ID: secret.NewID(), Username: nu.Username, PasswordHash: hash, Roles: nu.Roles, ConnectorID: nu.Connector,
		CreatedAt: now, UpdatedAt: now}
	nu.Profile.Apply(u)
	ev, err := userreg.Create(ctx, s.store, u)
	switch {
	case errors.Is(err, userreg.ErrEmailTaken):
		return nil, audit.Event{}, conflict(err)
	case errors.Is(err, storage.ErrAlreadyExists):
		return nil, audit.Event{}, conflictf("user %q already exists", nu.Username)
	case err != nil:
		return nil, audit.Event{}, err
	}
	return u, ev, nil
}

// UserUpdate is a change to a user: nil members, and the nil members of
// Profile, are left as they are.
type UserUpdate struct {
	Roles    *[]string
	Disabled *bool
	Profile  userreg.Profile
}

// UpdateUser applies up to the user ref (id or username). The last
// enabled admin keeps the admin role and stays enabled.
func (s *Service) UpdateUser(ctx context.Context, ref string, up UserUpdate) (*storage.User, audit.Event, error) {
	if up.Roles != nil {
		roles, err := NormalizeRoles(*up.Roles)
		if err != nil {
			return nil, audit.Event{}, err
		}
		if err := s.CheckRolesExist(ctx, roles); err != nil {
			return nil, audit.Event{}, err
		}
		up.Roles = &roles
	}
	if err := up.Profile.Check(); err != nil {
		return nil, audit.Event{}, invalid(err)
	}
	u, err := s.GetUser(ctx, ref)
	if err != nil {
		return nil, audit.Event{}, err
	}
	after, ev, err := userreg.Update(ctx, s.store, u.ID, s.clock.Now().UTC(),
		userreg.Change{Roles: up.Roles, Disabled: up.Disabled, Profile: up.Profile})
	switch {
	case errors.Is(err, storage.ErrLastRoleHolder) && up.Disabled != nil && *up.Disabled:
		return nil, audit.Event{}, &Error{Kind: Conflict, cause: err,
			Err: fmt.Errorf("cannot disable %q: it is the last admin, and the last enabled admin stays enabled; give another user the admin role first", u.Username)}
	case errors.Is(err, storage.ErrLastRoleHolder):
		return nil, audit.Event{}, &Error{Kind: Conflict, cause: err,
			Err: fmt.Errorf("cannot remove the admin role from %q: it is the last admin; give another user the admin role first", u.Username)}
	case errors.Is(err, userreg.ErrEmailTaken):
		return nil, audit.Event{}, conflict(err)
	case errors.Is(err, storage.ErrNotFound):
		return nil, audit.Event{}, notFoundf("user %q not found", ref)
	case err != nil:
		return nil, audit.Event{}, err
	}
	return after, ev, nil
}

// SetPassword gives the local user ref a new password; a user of a
// connector has none here.
func (s *Service) SetPassword(ctx context.Context, ref, pw string) (audit.Event, error) {
	if err := password.CheckPolicy(pw); err != nil {
		return audit.Event{}, invalid(err)
	}
	u, err := s.GetUser(ctx, ref)
	if err != nil {
		return audit.Event{}, err
	}
	if err := userreg.CheckLocalPassword(u); err != nil {
		return audit.Event{}, invalid(err)
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return audit.Event{}, fmt.Errorf("hash password: %w", err)
	}
	now := s.clock.Now().UTC()
	err = s.store.UpdateUser(ctx, u.ID, func(cur *storage.User) error {
		cur.PasswordHash, cur.UpdatedAt = hash, now
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return audit.Event{}, notFoundf("user %q not found", ref)
	}
	if err != nil {
		return audit.Event{}, err
	}
	return audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "password set"}}, nil
}

// DeleteUser deletes the user ref with their sessions, grants, consents
// and API keys. The last enabled admin is not deleted.
func (s *Service) DeleteUser(ctx context.Context, ref string) (*storage.User, audit.Event, error) {
	u, err := s.GetUser(ctx, ref)
	if err != nil {
		return nil, audit.Event{}, err
	}
	// The store checks for another admin in the deleting transaction
	// (SECURITY-CASES 34).
	err = s.store.DeleteUserKeepingRole(ctx, u.ID, rolereg.Admin)
	switch {
	case errors.Is(err, storage.ErrLastRoleHolder):
		return nil, audit.Event{}, &Error{Kind: Conflict, cause: err,
			Err: fmt.Errorf("cannot delete %q: it is the last admin; give another user the admin role first ('gatehouse users set-role NAME admin')", u.Username)}
	case errors.Is(err, storage.ErrNotFound):
		return nil, audit.Event{}, notFoundf("user %q not found", ref)
	case err != nil:
		return nil, audit.Event{}, err
	}
	return u, audit.Event{Type: audit.UserDeleted, Outcome: audit.Success, UserID: u.ID, Username: u.Username}, nil
}

// ResetMFA removes the TOTP state and passkeys of the user ref, for a user
// who lost their authenticator. removed is false (and the event empty)
// when the user had none.
func (s *Service) ResetMFA(ctx context.Context, ref string) (u *storage.User, removed bool, ev audit.Event, err error) {
	if u, err = s.GetUser(ctx, ref); err != nil {
		return nil, false, audit.Event{}, err
	}
	totp, passkeys, err := storage.ResetMFA(ctx, s.store, u.ID)
	if err != nil {
		return nil, false, audit.Event{}, err
	}
	if !totp && passkeys == 0 {
		return u, false, audit.Event{}, nil
	}
	return u, true, audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, UserID: u.ID, Username: u.Username,
		Details: map[string]string{"change": "mfa reset", "passkeys_removed": strconv.Itoa(passkeys)}}, nil
}
