package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// NewAPIKey is an API key to create.
type NewAPIKey struct {
	Name string
	// User is the id or username of the user the key acts as; "" for a
	// key with roles of its own.
	User string
	// Scopes are what introspection reports for the key, one scope token
	// each.
	Scopes []string
	Roles  []string
	// Lifetime is how long the key works; 0 is for ever.
	Lifetime time.Duration
}

// Check applies the rules that need no store: a name, scope tokens, role
// names and a lifetime that is not negative. It returns nk normalised.
func (nk NewAPIKey) Check() (NewAPIKey, error) {
	nk.Name = strings.TrimSpace(nk.Name)
	switch {
	case nk.Name == "":
		return nk, invalidf("the API key name must not be empty")
	case len(nk.Name) > clientreg.MaxNameLen:
		return nk, invalidf("the API key name must be at most %d bytes long", clientreg.MaxNameLen)
	case !utf8.ValidString(nk.Name):
		return nk, invalidf("the API key name is not valid UTF-8")
	case strings.ContainsFunc(nk.Name, isControl):
		return nk, invalidf("the API key name must not contain control characters")
	case nk.Lifetime < 0:
		return nk, invalidf("the lifetime of an API key must not be negative")
	}
	scopes, err := clientreg.CheckScopeList(nk.Scopes)
	if err != nil {
		return nk, invalid(err)
	}
	nk.Scopes = scopes
	if nk.Roles, err = NormalizeRoles(nk.Roles); err != nil {
		return nk, err
	}
	return nk, nil
}

// ListAPIKeys returns every API key.
func (s *Service) ListAPIKeys(ctx context.Context) ([]*storage.APIKey, error) {
	return s.store.ListAPIKeys(ctx)
}

// CreateAPIKey checks and stores a new API key and returns it with the
// key itself, which is shown only this once, and the user it acts as (nil
// for none). A key cannot act as a disabled user.
func (s *Service) CreateAPIKey(ctx context.Context, nk NewAPIKey) (k *storage.APIKey, key string, user *storage.User, ev audit.Event, err error) {
	if nk, err = nk.Check(); err != nil {
		return nil, "", nil, audit.Event{}, err
	}
	if err := s.CheckRolesExist(ctx, nk.Roles); err != nil {
		return nil, "", nil, audit.Event{}, err
	}
	if nk.User != "" {
		if user, err = s.GetUser(ctx, nk.User); err != nil {
			return nil, "", nil, audit.Event{}, err
		}
		if user.Disabled {
			return nil, "", nil, audit.Event{}, conflictf("user %q is disabled: a key acting as it would not work", user.Username)
		}
	}
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	now := s.clock.Now().UTC()
	k = &storage.APIKey{ID: id, Name: nk.Name, SecretHash: secret.Hash(sec), Scopes: nk.Scopes, Roles: nk.Roles, CreatedAt: now}
	if nk.Lifetime > 0 {
		k.ExpiresAt = now.Add(nk.Lifetime)
	}
	ev = audit.Event{Type: audit.APIKeyCreated, Outcome: audit.Success, Details: map[string]string{
		"apikey_id": id, "name": k.Name, "scopes": strings.Join(k.Scopes, " "), "roles": strings.Join(k.Roles, " "), "expires": rfc3339(k.ExpiresAt)}}
	if user != nil {
		k.UserID = user.ID
		ev.UserID, ev.Username = user.ID, user.Username
	}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		// 36^16 ids: only a broken random source makes one collide.
		return nil, "", nil, audit.Event{}, err
	}
	return k, key, user, ev, nil
}

// rfc3339 formats t in UTC; the zero time is "".
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// MissingRoles are the roles of k that its user does not have now: the
// key gets them only while the user has them.
func MissingRoles(k *storage.APIKey, u *storage.User) []string {
	var out []string
	for _, r := range k.Roles {
		if !slices.Contains(u.Roles, r) {
			out = append(out, r)
		}
	}
	return out
}

// RevokeAPIKey revokes the API key id for good. Revoking a revoked key
// changes nothing: revoked is false and the event empty. Whoever caches
// keys forgets this one.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) (k *storage.APIKey, revoked bool, ev audit.Event, err error) {
	now := s.clock.Now().UTC()
	var cur storage.APIKey
	err = s.store.UpdateAPIKey(ctx, id, func(c *storage.APIKey) error {
		revoked = c.RevokedAt.IsZero()
		if revoked {
			c.RevokedAt = now
		}
		cur = *c
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, audit.Event{}, notFoundf("API key %q not found", id)
	}
	if err != nil {
		return nil, false, audit.Event{}, err
	}
	if revoked {
		ev = audit.Event{Type: audit.APIKeyRevoked, Outcome: audit.Success, UserID: cur.UserID,
			Details: map[string]string{"apikey_id": cur.ID, "name": cur.Name}}
	}
	return &cur, revoked, ev, nil
}

// errNotRotatable stops rotating a revoked or expired key.
var errNotRotatable = errors.New("not rotatable")

// RotateAPIKey gives the API key id a new secret and returns the key with
// the new secret. The id, and so the key's subject, stays. A revoked or
// expired key is not rotated.
func (s *Service) RotateAPIKey(ctx context.Context, id string) (*storage.APIKey, string, audit.Event, error) {
	if !apikey.ValidID(id) {
		return nil, "", audit.Event{}, notFoundf("API key %q not found", id)
	}
	key := apikey.ForID(id)
	_, sec, _ := apikey.Parse(key)
	now := s.clock.Now()
	var k storage.APIKey
	err := s.store.UpdateAPIKey(ctx, id, func(cur *storage.APIKey) error {
		k = *cur
		if !cur.RevokedAt.IsZero() || (!cur.ExpiresAt.IsZero() && !now.Before(cur.ExpiresAt)) {
			return errNotRotatable
		}
		cur.SecretHash = secret.Hash(sec)
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, "", audit.Event{}, notFoundf("API key %q not found", id)
	case errors.Is(err, errNotRotatable) && !k.RevokedAt.IsZero():
		return nil, "", audit.Event{}, conflictf("API key %s was revoked at %s and cannot be rotated; create a new one", id, rfc3339(k.RevokedAt))
	case errors.Is(err, errNotRotatable):
		return nil, "", audit.Event{}, conflictf("API key %s expired at %s and cannot be rotated; create a new one", id, rfc3339(k.ExpiresAt))
	case err != nil:
		return nil, "", audit.Event{}, err
	}
	return &k, key, audit.Event{Type: audit.APIKeyRotated, Outcome: audit.Success, UserID: k.UserID,
		Details: map[string]string{"apikey_id": id, "name": k.Name}}, nil
}
