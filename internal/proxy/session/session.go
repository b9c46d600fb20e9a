// Package session keeps the gateway's browser sessions server-side. The
// browser holds only an opaque random value in a cookie; a Store holds the
// session under the SHA-256 (hex) of that value, so whoever reads the
// store learns no cookie.
//
// Three backends implement Store: Memory (one process, bounded), SQL (the
// gateway's database, through storage.Store) and Redis (shared by
// replicas). Open picks one by name or URL; sessiontest.Run is the
// conformance suite they all pass.
package session

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Sentinel errors every Store returns; the conformance suite asserts them.
var (
	ErrNotFound      = errors.New("session: not found")
	ErrAlreadyExists = errors.New("session: already exists")
)

// Session is one browser session at the gateway.
type Session struct {
	ID       string // SHA-256 hex of the cookie value (the store never sees the cookie value)
	UserID   string // subject at the issuer
	Username string
	Email    string
	// EmailVerified says the issuer vouched for Email (its email_verified
	// was not false); false for sessions stored before it was kept.
	EmailVerified bool
	Roles         []string  // roles at login (the gateway may re-read them per request)
	Groups        []string  // groups the issuer vouched for at login
	AuthTime      time.Time // when the user authenticated at the issuer
	CreatedAt     time.Time
	LastSeen      time.Time // moved on by Touch (idle timeout)
	ExpiresAt     time.Time // absolute end; stores may forget the session after it
	// Data is opaque extra state the gateway keeps (e.g. an encrypted
	// refresh token, the ID token for logout); may be nil.
	Data []byte
}

// Store holds sessions by ID. A session whose ExpiresAt has come (by the
// store's clock) no longer exists for Get and Touch; stores forget it on
// their own. Times round-trip at least to the millisecond.
type Store interface {
	// Create stores a copy of s. It returns ErrAlreadyExists when a live
	// session has the same ID. s.ID and s.ExpiresAt must be set.
	Create(ctx context.Context, s *Session) error
	// Get returns a copy of the session with id: changing it changes
	// nothing in the store. An unknown or expired session is ErrNotFound.
	Get(ctx context.Context, id string) (*Session, error)
	// Touch sets the LastSeen of the session with id; it never moves
	// ExpiresAt. An unknown or expired session is ErrNotFound.
	Touch(ctx context.Context, id string, lastSeen time.Time) error
	// Delete removes the session with id; it is nil when it is already
	// gone.
	Delete(ctx context.Context, id string) error
	// DeleteUser removes every session of userID and returns how many
	// went: all live ones, and perhaps expired ones the backend had not
	// forgotten yet.
	DeleteUser(ctx context.Context, userID string) (int, error)
	// Ping checks that the backend answers (readiness).
	Ping(ctx context.Context) error
}

// clone returns a deep copy of s.
func (s *Session) clone() *Session {
	c := *s
	c.Roles = slices.Clone(s.Roles)
	c.Groups = slices.Clone(s.Groups)
	c.Data = slices.Clone(s.Data)
	return &c
}

// check rejects a session no store can keep: one without an ID or without
// an absolute expiry.
func check(s *Session) error {
	switch {
	case s.ID == "":
		return errors.New("session: create: empty id")
	case s.ExpiresAt.IsZero():
		return errors.New("session: create: no expiry")
	}
	return nil
}

// expired reports whether a session ending at expiresAt is gone at now.
func expired(expiresAt, now time.Time) bool {
	return !now.Before(expiresAt)
}
