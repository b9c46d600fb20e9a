package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var passkeyTests = []test{
	{"Passkey/RoundTrip", testPasskeyRoundTrip},
	{"Passkey/Duplicate", testPasskeyDuplicate},
	{"Passkey/NotFound", testPasskeyNotFound},
	{"Passkey/ListUser", testPasskeyList},
	{"Passkey/Update", testPasskeyUpdate},
	{"Passkey/Delete", testPasskeyDelete},
	{"Passkey/DeletedWithUser", testPasskeyDeleteUser},
	{"Concurrent/PasskeyCounterAdvancesOnce", inRounds(testConcurrentPasskeyCounter)},
}

func newPasskey(id, userID string, cred byte) *storage.Passkey {
	return &storage.Passkey{
		ID:                id,
		UserID:            userID,
		CredentialID:      []byte{cred, 0, 1, 2, 255},
		PublicKey:         []byte{0xa5, 1, 2, 3, 0},
		AttestationType:   "none",
		AttestationFormat: "packed",
		AAGUID:            []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SignCount:         7,
		UserVerified:      true,
		BackupEligible:    true,
		BackupState:       false,
		Transports:        []string{"internal", "hybrid"},
		Name:              "Laptop",
		CreatedAt:         base,
	}
}

func testPasskeyRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newPasskey("pk1", "u1", 1)
	want.SignCount = 1<<32 - 1 // the whole uint32 range survives
	must(t, "create", s.CreatePasskey(ctx, want))
	got, err := s.GetPasskey(ctx, "pk1")
	must(t, "get", err)
	diff(t, "passkey", want, got)
	got, err = s.GetPasskeyByCredentialID(ctx, want.CredentialID)
	must(t, "get by credential id", err)
	diff(t, "passkey by credential id", want, got)
	if !got.LastUsedAt.IsZero() {
		t.Errorf("LastUsedAt = %v, want zero before first use", got.LastUsedAt)
	}
}

func testPasskeyDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreatePasskey(ctx, newPasskey("pk1", "u1", 1)))
	wantErr(t, "same id", s.CreatePasskey(ctx, newPasskey("pk1", "u1", 2)), storage.ErrAlreadyExists)
	// A credential id is unique across users: the same authenticator
	// credential cannot be registered to a second account.
	wantErr(t, "same credential id", s.CreatePasskey(ctx, newPasskey("pk2", "u2", 1)), storage.ErrAlreadyExists)
}

func testPasskeyNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetPasskey(ctx, "nope")
	wantErr(t, "get", err, storage.ErrNotFound)
	_, err = s.GetPasskeyByCredentialID(ctx, []byte{9, 9})
	wantErr(t, "get by credential id", err, storage.ErrNotFound)
	_, err = s.GetPasskeyByCredentialID(ctx, nil)
	wantErr(t, "get by empty credential id", err, storage.ErrNotFound)
	wantErr(t, "update", s.UpdatePasskey(ctx, "nope", func(*storage.Passkey) error { return nil }), storage.ErrNotFound)
	wantErr(t, "delete", s.DeletePasskey(ctx, "nope"), storage.ErrNotFound)
	list, err := s.ListUserPasskeys(ctx, "nobody")
	must(t, "list", err)
	if len(list) != 0 {
		t.Errorf("list of a user without passkeys = %d entries", len(list))
	}
}

func testPasskeyList(t *testing.T, s storage.Store) {
	ctx := t.Context()
	b := newPasskey("pk-b", "u1", 1)
	a := newPasskey("pk-a", "u1", 2)
	later := newPasskey("pk-0", "u1", 3)
	later.CreatedAt = base.Add(time.Hour)
	other := newPasskey("pk-x", "u2", 4)
	for _, p := range []*storage.Passkey{later, b, other, a} {
		must(t, "create "+p.ID, s.CreatePasskey(ctx, p))
	}
	list, err := s.ListUserPasskeys(ctx, "u1")
	must(t, "list", err)
	var ids []string
	for _, p := range list {
		ids = append(ids, p.ID)
	}
	diff(t, "order (created, then id)", []string{"pk-a", "pk-b", "pk-0"}, ids)
}

func testPasskeyUpdate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := newPasskey("pk1", "u1", 1)
	must(t, "create", s.CreatePasskey(ctx, p))

	err := s.UpdatePasskey(ctx, "pk1", func(v *storage.Passkey) error {
		v.Name = "changed"
		return errStop
	})
	if err != errStop {
		t.Errorf("updater error = %v, want errStop unchanged", err)
	}
	wrapped := fmt.Errorf("wrapped: %w", errStop)
	if err := s.UpdatePasskey(ctx, "pk1", func(*storage.Passkey) error { return wrapped }); !errors.Is(err, errStop) {
		t.Errorf("update error = %v, want one that wraps errStop", err)
	}
	got, err := s.GetPasskey(ctx, "pk1")
	must(t, "get", err)
	diff(t, "after failed update", p, got)

	used := base.Add(time.Minute)
	must(t, "update", s.UpdatePasskey(ctx, "pk1", func(v *storage.Passkey) error {
		v.Name = "Phone"
		v.SignCount = 8
		v.BackupState = true
		v.LastUsedAt = used
		v.Transports = nil
		// The keys of the record cannot be changed through an update.
		v.UserID, v.CredentialID = "u2", []byte{7}
		return nil
	}))
	got, err = s.GetPasskey(ctx, "pk1")
	must(t, "get", err)
	want := *p
	want.Name, want.SignCount, want.BackupState, want.LastUsedAt, want.Transports = "Phone", 8, true, used, nil
	diff(t, "after update", &want, got)
}

func testPasskeyDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := newPasskey("pk1", "u1", 1)
	must(t, "create", s.CreatePasskey(ctx, p))
	must(t, "create other", s.CreatePasskey(ctx, newPasskey("pk2", "u1", 2)))
	must(t, "delete", s.DeletePasskey(ctx, "pk1"))
	_, err := s.GetPasskeyByCredentialID(ctx, p.CredentialID)
	wantErr(t, "get deleted by credential id", err, storage.ErrNotFound)
	wantErr(t, "delete again", s.DeletePasskey(ctx, "pk1"), storage.ErrNotFound)
	list, err := s.ListUserPasskeys(ctx, "u1")
	must(t, "list", err)
	if len(list) != 1 || list[0].ID != "pk2" {
		t.Errorf("after delete the list is %v, want only pk2", list)
	}
	// The credential id is free again: it can be registered anew.
	must(t, "create again", s.CreatePasskey(ctx, newPasskey("pk3", "u1", 1)))
}

func testPasskeyDeleteUser(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create user", s.CreateUser(ctx, newUser("u1", "alice")))
	must(t, "create user 2", s.CreateUser(ctx, newUser("u2", "bob")))
	must(t, "create passkey", s.CreatePasskey(ctx, newPasskey("pk1", "u1", 1)))
	must(t, "create other's passkey", s.CreatePasskey(ctx, newPasskey("pk2", "u2", 2)))
	must(t, "delete user", s.DeleteUser(ctx, "u1"))
	_, err := s.GetPasskey(ctx, "pk1")
	wantErr(t, "get after user deleted", err, storage.ErrNotFound)
	_, err = s.GetPasskey(ctx, "pk2")
	must(t, "other user's passkey stays", err)
}

// testConcurrentPasskeyCounter has racers report the same signature
// counter at once, as a cloned authenticator used in parallel would: the
// counter may advance to it only once.
func testConcurrentPasskeyCounter(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	id := fmt.Sprintf("pk%d", round)
	must(t, "create", s.CreatePasskey(ctx, newPasskey(id, "u1", byte(round))))
	const count = 100
	errs := race(racers, func(int) error {
		return s.UpdatePasskey(ctx, id, func(v *storage.Passkey) error {
			if v.SignCount >= count {
				return errStop
			}
			v.SignCount = count
			return nil
		})
	})
	oneWinner(t, errs, errStop)
}
