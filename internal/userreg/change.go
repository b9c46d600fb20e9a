package userreg

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Creator is what Create needs of a store.
type Creator interface {
	CreateUser(ctx context.Context, u *storage.User) error
	GetUserByName(ctx context.Context, username string) (*storage.User, error)
}

// Updater is what Update needs of a store.
type Updater interface {
	UpdateUserKeepingRole(ctx context.Context, id, role string, fn func(*storage.User) error) error
}

// Create stores the new user u for the admin layer and the server's
// connectors. A taken username is storage.ErrAlreadyExists; an email
// another user has, regardless of case, is ErrEmailTaken. It returns the
// user.created audit event, without an actor.
func Create(ctx context.Context, st Creator, u *storage.User) (audit.Event, error) {
	err := st.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// The store says only that something unique is taken: the
		// username, or the email when the username is free.
		if u.Email != "" {
			if _, gerr := st.GetUserByName(ctx, u.Username); errors.Is(gerr, storage.ErrNotFound) {
				return audit.Event{}, EmailTaken(u.Email)
			}
		}
		return audit.Event{}, storage.ErrAlreadyExists
	}
	if err != nil {
		return audit.Event{}, err
	}
	details := map[string]string{"roles": strings.Join(u.Roles, " ")}
	maps.Copy(details, Changes(&storage.User{}, u))
	delete(details, "previous_email")
	delete(details, "previous_name")
	return audit.Event{Type: audit.UserCreated, Outcome: audit.Success, UserID: u.ID, Username: u.Username, Details: details}, nil
}

// Change is an administrator's change to a user: nil members, and
// the nil members of Profile, are left as they are. Callers check Roles
// (rolereg.Check) and Profile (Profile.Check) first.
type Change struct {
	Roles    *[]string
	Disabled *bool
	Profile  Profile
	// Groups and ConnectorSubject are set by sign-ins through a
	// connector (internal/server/linking).
	Groups           *[]string
	ConnectorSubject *string
}

// Apply makes the change on u (without UpdatedAt).
func (ch Change) Apply(u *storage.User) {
	if ch.Roles != nil {
		u.Roles = *ch.Roles
	}
	if ch.Disabled != nil {
		u.Disabled = *ch.Disabled
	}
	if ch.Groups != nil {
		u.Groups = *ch.Groups
	}
	if ch.ConnectorSubject != nil {
		u.ConnectorSubject = *ch.ConnectorSubject
	}
	ch.Profile.Apply(u)
}

// Update applies ch to the user id at now, in one transaction that
// keeps an enabled admin, and returns the user as stored and the
// user.updated audit event (without an actor): the roles and disabled
// flag, and what changed of the profile. Errors: storage.ErrNotFound,
// storage.ErrLastRoleHolder, and ErrEmailTaken when another user
// has the new email.
func Update(ctx context.Context, st Updater, id string, now time.Time, ch Change) (*storage.User, audit.Event, error) {
	var before, after storage.User
	// The store checks for another enabled admin in the same transaction
	// that changes the user, so two concurrent demotions cannot leave none
	// (SECURITY-CASES 34).
	err := st.UpdateUserKeepingRole(ctx, id, rolereg.Admin, func(cur *storage.User) error {
		before = *cur
		ch.Apply(cur)
		cur.UpdatedAt = now
		after = *cur
		return nil
	})
	if errors.Is(err, storage.ErrAlreadyExists) && ch.Profile.Email != nil {
		return nil, audit.Event{}, EmailTaken(*ch.Profile.Email)
	}
	if err != nil {
		return nil, audit.Event{}, err
	}
	details := map[string]string{"roles": strings.Join(after.Roles, " "), "previous_roles": strings.Join(before.Roles, " "),
		"disabled": fmt.Sprint(after.Disabled)}
	maps.Copy(details, Changes(&before, &after))
	return &after, audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, UserID: after.ID, Username: after.Username, Details: details}, nil
}

// CheckPrecreated checks that an administrator may pre-create a user of
// the connector id: it is one of the configured connectors (ids) and no
// password is given (the connector checks it).
func CheckPrecreated(ids []string, id, password string) error {
	if password != "" {
		return fmt.Errorf("a user of connector %q signs in there and has no password here; leave the password out", id)
	}
	if slices.Contains(ids, id) {
		return nil
	}
	if len(ids) == 0 {
		return fmt.Errorf("unknown connector %q: this server has no connectors (see connectors: in the server configuration)", id)
	}
	return fmt.Errorf("unknown connector %q; configured connectors: %s", id, strings.Join(ids, ", "))
}

// CheckLocalPassword refuses setting a password on a user who signs in
// through a connector: the directory or provider holds their password,
// and a local one would let them in without it (past a disabled account
// upstream).
func CheckLocalPassword(u *storage.User) error {
	if u.ConnectorID == "" {
		return nil
	}
	return fmt.Errorf("user %q signs in through connector %s, which manages the password; change it there", u.Username, u.ConnectorID)
}
