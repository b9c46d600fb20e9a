package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var apiKeyTests = []test{
	{"APIKey/RoundTrip", testAPIKeyRoundTrip},
	{"APIKey/EmptyListsAndZeroTimes", testAPIKeyEmpty},
	{"APIKey/Duplicate", testAPIKeyDuplicate},
	{"APIKey/NotFound", testAPIKeyNotFound},
	{"APIKey/List", testAPIKeyList},
	{"APIKey/Update", testAPIKeyUpdate},
	{"APIKey/UpdaterError", testAPIKeyUpdaterError},
	{"APIKey/DeleteUserDeletesKeys", testAPIKeyDeleteUser},
	{"APIKey/KeptByDeleteExpired", testAPIKeyNotExpiredAway},
	{"Concurrent/RevokeAPIKeyOnce", testConcurrentAPIKeyRevoke},
	{"Concurrent/APIKeyUseDoesNotUndoRevoke", testConcurrentAPIKeyUseAndRevoke},
}

func newAPIKey(id, userID string) *storage.APIKey {
	return &storage.APIKey{
		ID:         id,
		Name:       "Key " + id,
		SecretHash: hash("secret-" + id),
		UserID:     userID,
		Scopes:     []string{"read", "write"},
		Roles:      []string{"viewer"},
		CreatedAt:  base,
		ExpiresAt:  base.Add(90 * 24 * time.Hour),
		LastUsedAt: base.Add(time.Minute),
	}
}

func testAPIKeyRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newAPIKey("k1aaaaaaaaaaaaaa", "u1")
	want.RevokedAt = base.Add(time.Hour)
	must(t, "create", s.CreateAPIKey(ctx, want))
	got, err := s.GetAPIKey(ctx, want.ID)
	must(t, "get", err)
	diff(t, "api key", want, got)

	svc := newAPIKey("k2aaaaaaaaaaaaaa", "")
	svc.Roles = []string{"admin", "editor"}
	must(t, "create service key", s.CreateAPIKey(ctx, svc))
	got, err = s.GetAPIKey(ctx, svc.ID)
	must(t, "get service key", err)
	diff(t, "service api key", svc, got)
	for name, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "ExpiresAt": got.ExpiresAt, "LastUsedAt": got.LastUsedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", name, tm.Location())
		}
	}
}

func testAPIKeyEmpty(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k := &storage.APIKey{ID: "bare", SecretHash: hash("bare")}
	must(t, "create nil lists", s.CreateAPIKey(ctx, k))
	got, err := s.GetAPIKey(ctx, "bare")
	must(t, "get", err)
	diff(t, "nil lists, zero times", k, got)
	if !got.ExpiresAt.IsZero() || !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Errorf("zero times came back as %v, %v, %v", got.ExpiresAt, got.RevokedAt, got.LastUsedAt)
	}

	e := &storage.APIKey{ID: "empty", Scopes: []string{}, Roles: []string{}}
	must(t, "create empty lists", s.CreateAPIKey(ctx, e))
	got, err = s.GetAPIKey(ctx, "empty")
	must(t, "get", err)
	if got.Scopes != nil || got.Roles != nil {
		t.Errorf("empty lists came back non-nil: %#v", got)
	}
}

func testAPIKeyDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAPIKey(ctx, newAPIKey("dup", "")))
	other := newAPIKey("dup", "u9")
	other.Name, other.SecretHash = "Another", hash("another")
	wantErr(t, "create duplicate", s.CreateAPIKey(ctx, other), storage.ErrAlreadyExists)
	got, err := s.GetAPIKey(ctx, "dup")
	must(t, "get", err)
	diff(t, "api key after duplicate create", newAPIKey("dup", ""), got)
}

func testAPIKeyNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetAPIKey(ctx, "nope")
	wantErr(t, "get", err, storage.ErrNotFound)
	called := false
	err = s.UpdateAPIKey(ctx, "nope", func(*storage.APIKey) error { called = true; return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
	if called {
		t.Error("update called fn for a missing api key")
	}
}

func testAPIKeyList(t *testing.T, s storage.Store) {
	ctx := t.Context()
	got, err := s.ListAPIKeys(ctx)
	must(t, "list empty", err)
	if len(got) != 0 {
		t.Fatalf("empty store lists %d api keys", len(got))
	}
	// Created out of order; two share a creation time and sort by ID.
	mk := func(id string, at time.Duration) *storage.APIKey {
		k := newAPIKey(id, "")
		k.CreatedAt = base.Add(at)
		return k
	}
	for _, k := range []*storage.APIKey{mk("c", time.Hour), mk("b", 0), mk("a", 2*time.Hour), mk("d", 0)} {
		must(t, "create", s.CreateAPIKey(ctx, k))
	}
	got, err = s.ListAPIKeys(ctx)
	must(t, "list", err)
	want := []*storage.APIKey{mk("b", 0), mk("d", 0), mk("c", time.Hour), mk("a", 2*time.Hour)}
	diff(t, "api keys by creation time, then id", want, got)
}

func testAPIKeyUpdate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAPIKey(ctx, newAPIKey("k1", "u1")))
	want := newAPIKey("k1", "u1")
	err := s.UpdateAPIKey(ctx, "k1", func(k *storage.APIKey) error {
		diff(t, "api key seen by fn", want, k)
		k.ID = "changed" // ignored: the ID cannot change
		k.SecretHash = hash("rotated")
		k.RevokedAt = base.Add(2 * time.Hour)
		k.LastUsedAt = base.Add(time.Hour)
		k.Scopes = nil
		return nil
	})
	must(t, "update", err)
	want.SecretHash, want.RevokedAt, want.LastUsedAt, want.Scopes = hash("rotated"), base.Add(2*time.Hour), base.Add(time.Hour), nil
	got, err := s.GetAPIKey(ctx, "k1")
	must(t, "get", err)
	diff(t, "updated api key", want, got)
	_, err = s.GetAPIKey(ctx, "changed")
	wantErr(t, "get by the changed id", err, storage.ErrNotFound)
}

func testAPIKeyUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAPIKey(ctx, newAPIKey("k1", "")))
	err := s.UpdateAPIKey(ctx, "k1", func(k *storage.APIKey) error {
		k.RevokedAt = base.Add(time.Hour)
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	wrapped := fmt.Errorf("wrapped: %w", errStop)
	err = s.UpdateAPIKey(ctx, "k1", func(*storage.APIKey) error { return wrapped })
	if !errors.Is(err, errStop) {
		t.Errorf("update error = %v, want one that wraps errStop", err)
	}
	got, err := s.GetAPIKey(ctx, "k1")
	must(t, "get", err)
	diff(t, "api key after failed update", newAPIKey("k1", ""), got)
}

func testAPIKeyDeleteUser(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create user", s.CreateUser(ctx, newUser("u1", "alice")))
	must(t, "create user", s.CreateUser(ctx, newUser("u2", "bob")))
	must(t, "create key of u1", s.CreateAPIKey(ctx, newAPIKey("ka", "u1")))
	must(t, "create another key of u1", s.CreateAPIKey(ctx, newAPIKey("kb", "u1")))
	must(t, "create key of u2", s.CreateAPIKey(ctx, newAPIKey("kc", "u2")))
	must(t, "create service key", s.CreateAPIKey(ctx, newAPIKey("kd", "")))

	must(t, "delete user", s.DeleteUser(ctx, "u1"))
	for _, id := range []string{"ka", "kb"} {
		_, err := s.GetAPIKey(ctx, id)
		wantErr(t, "get key of the deleted user", err, storage.ErrNotFound)
	}
	for _, id := range []string{"kc", "kd"} {
		if _, err := s.GetAPIKey(ctx, id); err != nil {
			t.Errorf("key %s of another user or of no user: %v", id, err)
		}
	}
	got, err := s.ListAPIKeys(ctx)
	must(t, "list", err)
	if len(got) != 2 {
		t.Errorf("%d keys left after deleting the user, want 2", len(got))
	}
}

// testAPIKeyNotExpiredAway checks that DeleteExpired keeps expired keys:
// they stay listed (as expired) until an admin removes them.
func testAPIKeyNotExpiredAway(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k := newAPIKey("old", "")
	k.ExpiresAt = base.Add(-time.Hour)
	must(t, "create", s.CreateAPIKey(ctx, k))
	_, err := s.DeleteExpired(ctx, base)
	must(t, "delete expired", err)
	if _, err := s.GetAPIKey(ctx, "old"); err != nil {
		t.Errorf("expired key after DeleteExpired: %v", err)
	}
}

var errAlreadyRevoked = errors.New("storagetest: already revoked")

// testConcurrentAPIKeyRevoke races revocations of one key: each updater
// revokes only a key it sees active, so exactly one may succeed.
func testConcurrentAPIKeyRevoke(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAPIKey(ctx, newAPIKey("k1", "")))
	errs := race(racers, func(i int) error {
		return s.UpdateAPIKey(ctx, "k1", func(k *storage.APIKey) error {
			if !k.RevokedAt.IsZero() {
				return errAlreadyRevoked
			}
			k.RevokedAt = base.Add(time.Duration(i+1) * time.Second)
			return nil
		})
	})
	winner := oneWinner(t, errs, errAlreadyRevoked)
	got, err := s.GetAPIKey(ctx, "k1")
	must(t, "get", err)
	if want := base.Add(time.Duration(winner+1) * time.Second); !got.RevokedAt.Equal(want) {
		t.Errorf("RevokedAt = %v, want the winner's %v", got.RevokedAt, want)
	}
}

// testConcurrentAPIKeyUseAndRevoke races last-use updates (as the server
// makes them) with one revocation: the revocation must survive, since each
// updater writes back the row it read under the lock.
func testConcurrentAPIKeyUseAndRevoke(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAPIKey(ctx, newAPIKey("k1", "")))
	revokedAt := base.Add(time.Hour)
	errs := race(racers, func(i int) error {
		if i == racers/2 {
			return s.UpdateAPIKey(ctx, "k1", func(k *storage.APIKey) error {
				k.RevokedAt = revokedAt
				return nil
			})
		}
		used := base.Add(time.Duration(i) * time.Minute)
		return s.UpdateAPIKey(ctx, "k1", func(k *storage.APIKey) error {
			if used.After(k.LastUsedAt) {
				k.LastUsedAt = used
			}
			return nil
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("updater %d: %v", i, err)
		}
	}
	got, err := s.GetAPIKey(ctx, "k1")
	must(t, "get", err)
	if !got.RevokedAt.Equal(revokedAt) {
		t.Errorf("RevokedAt = %v after concurrent last-use updates, want %v", got.RevokedAt, revokedAt)
	}
	if want := base.Add(time.Duration(racers-1) * time.Minute); !got.LastUsedAt.Equal(want) {
		t.Errorf("LastUsedAt = %v, want the latest use %v", got.LastUsedAt, want)
	}
}
