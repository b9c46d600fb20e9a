// Package userreg holds the rules for the OpenID Connect profile an
// administrator gives a local user (email, email_verified, name; OIDC Core
// §5.1) in one place: the admin API and the CLI (on the database or over
// that API) check and apply a change with the same functions, so what one
// refuses the other refuses too.
//
// Errors are plain, user-facing sentences without flag or field names
// beyond "email" and "name"; callers add their own context.
package userreg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// MaxEmailLen is the longest email address in bytes (RFC 5321 §4.5.3.1.3
// limits a path to 256 octets, the address to 254 of them).
const MaxEmailLen = 254

// MaxNameLen is the longest display name in characters.
const MaxNameLen = 200

// ErrEmailTaken marks an email address another user already has
// (regardless of case).
var ErrEmailTaken = errors.New("email address already used")

// EmailTaken is the error for email being another user's: the admin API
// answers it with 409 and the CLI prints it, in the same words. It is
// ErrEmailTaken for errors.Is.
func EmailTaken(email string) error { return &emailTakenError{email} }

type emailTakenError struct{ email string }

func (e *emailTakenError) Error() string {
	return fmt.Sprintf("email %q is already used by another user", e.email)
}

func (e *emailTakenError) Is(target error) bool { return target == ErrEmailTaken }

// CheckEmail accepts an address shaped like an RFC 5322 addr-spec: exactly
// one @ with a non-empty local part and domain, no spaces or control
// characters, at most MaxEmailLen bytes. It does not check that the
// address exists.
func CheckEmail(email string) error {
	if err := clientreg.CheckText("email", email); err != nil {
		return err
	}
	local, domain, _ := strings.Cut(email, "@")
	switch {
	case len(email) > MaxEmailLen:
		return fmt.Errorf("email is longer than %d bytes", MaxEmailLen)
	case strings.ContainsFunc(email, unicode.IsSpace):
		return fmt.Errorf("email %q contains a space", email)
	case strings.Count(email, "@") != 1 || local == "" || domain == "":
		return fmt.Errorf("email %q is not an address like name@example.com", email)
	}
	return nil
}

// CheckName accepts a display name of at most MaxNameLen characters
// without control characters; "" (no name) is accepted too.
func CheckName(name string) error {
	if name == "" {
		return nil
	}
	if utf8.RuneCountInString(name) > MaxNameLen {
		return fmt.Errorf("name is longer than %d characters", MaxNameLen)
	}
	return clientreg.CheckText("name", name)
}

// Profile is a change to a user's profile: a nil member leaves the field
// as it is; "" clears the email or the name. It is also the JSON of those
// members in the admin API's create and update requests.
type Profile struct {
	Email         *string `json:"email,omitempty"`
	EmailVerified *bool   `json:"email_verified,omitempty"`
	Name          *string `json:"name,omitempty"`
}

// IsZero reports whether p changes nothing.
func (p Profile) IsZero() bool { return p.Email == nil && p.EmailVerified == nil && p.Name == nil }

// Check refuses a change with an email or name the rules do not allow.
func (p Profile) Check() error {
	if p.Email != nil && *p.Email != "" {
		if err := CheckEmail(*p.Email); err != nil {
			return err
		}
	}
	if p.Name != nil {
		return CheckName(*p.Name)
	}
	return nil
}

// Apply sets the fields p gives on u. A new email (other than a change of
// case) is unverified unless p sets email_verified too; a user without an
// email is never verified: no address, nothing verified.
func (p Profile) Apply(u *storage.User) {
	if p.Email != nil {
		if !strings.EqualFold(*p.Email, u.Email) {
			u.EmailVerified = false
		}
		u.Email = *p.Email
	}
	if p.EmailVerified != nil {
		u.EmailVerified = *p.EmailVerified
	}
	if p.Name != nil {
		u.Name = *p.Name
	}
	if u.Email == "" {
		u.EmailVerified = false
	}
}

// Changes describes for an audit event how the profile of before differs
// from after: "email", "email_verified" and "name" with their new values
// and "previous_email" and "previous_name"; nil when nothing changed.
func Changes(before, after *storage.User) map[string]string {
	d := map[string]string{}
	if before.Email != after.Email {
		d["email"], d["previous_email"] = after.Email, before.Email
	}
	if before.EmailVerified != after.EmailVerified {
		d["email_verified"] = strconv.FormatBool(after.EmailVerified)
	}
	if before.Name != after.Name {
		d["name"], d["previous_name"] = after.Name, before.Name
	}
	if len(d) == 0 {
		return nil
	}
	return d
}
