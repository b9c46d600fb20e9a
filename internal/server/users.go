package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// CreateUser stores the new user u for the admin API and the CLI. A taken
// username is storage.ErrAlreadyExists; an
// email another user has, regardless of case, is userreg.ErrEmailTaken.
// It returns the user.created audit event, without an actor.
func CreateUser(ctx context.Context, st storage.Store, u *storage.User) (audit.Event, error) {
	err := st.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// The store says only that something unique is taken: the
		// username, or the email when the username is free.
		if u.Email != "" {
			if _, gerr := st.GetUserByName(ctx, u.Username); errors.Is(gerr, storage.ErrNotFound) {
				return audit.Event{}, userreg.EmailTaken(u.Email)
			}
		}
		return audit.Event{}, storage.ErrAlreadyExists
	}
	if err != nil {
		return audit.Event{}, err
	}
	details := map[string]string{"roles": strings.Join(u.Roles, " ")}
	maps.Copy(details, userreg.Changes(&storage.User{}, u))
	delete(details, "previous_email")
	delete(details, "previous_name")
	return audit.Event{Type: audit.UserCreated, Outcome: audit.Success, UserID: u.ID, Username: u.Username, Details: details}, nil
}

// UserChange is an administrator's change to a user: nil members, and
// the nil members of Profile, are left as they are. Callers check Roles
// (CheckRoles) and Profile (Profile.Check) first.
type UserChange struct {
	Roles    *[]string
	Disabled *bool
	Profile  userreg.Profile
	// Groups and ConnectorSubject are set by sign-ins through a
	// connector (connectors.go).
	Groups           *[]string
	ConnectorSubject *string
}

// apply makes the change on u (without UpdatedAt).
func (ch UserChange) apply(u *storage.User) {
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

// UpdateUser applies ch to the user id at now, in one transaction that
// keeps an enabled admin, and returns the user as stored and the
// user.updated audit event (without an actor): the roles and disabled
// flag, and what changed of the profile. Errors: storage.ErrNotFound,
// storage.ErrLastRoleHolder, and userreg.ErrEmailTaken when another user
// has the new email.
func UpdateUser(ctx context.Context, st storage.Store, id string, now time.Time, ch UserChange) (*storage.User, audit.Event, error) {
	var before, after storage.User
	// The store checks for another enabled admin in the same transaction
	// that changes the user, so two concurrent demotions cannot leave none
	// (SECURITY-CASES 34).
	err := st.UpdateUserKeepingRole(ctx, id, RoleAdmin, func(cur *storage.User) error {
		before = *cur
		ch.apply(cur)
		cur.UpdatedAt = now
		after = *cur
		return nil
	})
	if errors.Is(err, storage.ErrAlreadyExists) && ch.Profile.Email != nil {
		return nil, audit.Event{}, userreg.EmailTaken(*ch.Profile.Email)
	}
	if err != nil {
		return nil, audit.Event{}, err
	}
	details := map[string]string{"roles": strings.Join(after.Roles, " "), "previous_roles": strings.Join(before.Roles, " "),
		"disabled": fmt.Sprint(after.Disabled)}
	maps.Copy(details, userreg.Changes(&before, &after))
	return &after, audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, UserID: after.ID, Username: after.Username, Details: details}, nil
}
