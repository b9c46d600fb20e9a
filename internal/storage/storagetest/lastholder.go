package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// lastHolderTests check the guard that keeps at least one admin
// (SECURITY-CASES 34).
var lastHolderTests = []test{
	{"Users/KeepingRole", testKeepingRole},
	{"Concurrent/LastRoleHolder", testConcurrentLastRoleHolder},
}

// holders counts the enabled users with role.
func holders(t *testing.T, s storage.Store, role string) int {
	t.Helper()
	us, err := s.ListUsers(context.Background())
	must(t, "list users", err)
	n := 0
	for _, u := range us {
		if !u.Disabled && slices.Contains(u.Roles, role) {
			n++
		}
	}
	return n
}

func addRoleUser(t *testing.T, s storage.Store, id, role string) {
	t.Helper()
	must(t, "create "+id, s.CreateUser(context.Background(), &storage.User{ID: id, Username: id, Roles: []string{role, "viewer"}, CreatedAt: base, UpdatedAt: base}))
}

// testKeepingRole: the guarded updates refuse to take a role from its last
// enabled holder by demotion, disabling or deletion, and allow everything
// else.
func testKeepingRole(t *testing.T, s storage.Store) {
	ctx := context.Background()
	addRoleUser(t, s, "a", "boss")
	addRoleUser(t, s, "b", "boss")
	must(t, "create c", s.CreateUser(ctx, &storage.User{ID: "c", Username: "c", Roles: []string{"viewer"}, CreatedAt: base, UpdatedAt: base}))

	demote := func(u *storage.User) error { u.Roles = []string{"viewer"}; return nil }
	disable := func(u *storage.User) error { u.Disabled = true; return nil }
	must(t, "demote a with b left", s.UpdateUserKeepingRole(ctx, "a", "boss", demote))
	wantErr(t, "demote b, the last", s.UpdateUserKeepingRole(ctx, "b", "boss", demote), storage.ErrLastRoleHolder)
	wantErr(t, "disable b, the last", s.UpdateUserKeepingRole(ctx, "b", "boss", disable), storage.ErrLastRoleHolder)
	wantErr(t, "delete b, the last", s.DeleteUserKeepingRole(ctx, "b", "boss"), storage.ErrLastRoleHolder)
	if n := holders(t, s, "boss"); n != 1 {
		t.Fatalf("holders = %d after refused changes, want 1", n)
	}
	// Changes that keep the role, or concern others, go through.
	must(t, "rename b", s.UpdateUserKeepingRole(ctx, "b", "boss", func(u *storage.User) error { u.Roles = []string{"boss"}; return nil }))
	must(t, "disable c", s.UpdateUserKeepingRole(ctx, "c", "boss", disable))
	must(t, "delete c", s.DeleteUserKeepingRole(ctx, "c", "boss"))
	wantErr(t, "unknown user", s.UpdateUserKeepingRole(ctx, "nobody", "boss", demote), storage.ErrNotFound)
	wantErr(t, "delete unknown user", s.DeleteUserKeepingRole(ctx, "nobody", "boss"), storage.ErrNotFound)
	wantErr(t, "fn's error", s.UpdateUserKeepingRole(ctx, "b", "boss", func(*storage.User) error { return errStop }), errStop)
	// A disabled holder does not count: with a disabled second one, b is
	// still the last.
	must(t, "create d", s.CreateUser(ctx, &storage.User{ID: "d", Username: "d", Roles: []string{"boss"}, Disabled: true, CreatedAt: base, UpdatedAt: base}))
	wantErr(t, "delete b with only a disabled holder left", s.DeleteUserKeepingRole(ctx, "b", "boss"), storage.ErrLastRoleHolder)
}

// testConcurrentLastRoleHolder: two holders removed at the same moment
// (demoted, disabled or deleted, in every pairing) never leave none:
// exactly one change wins, the other gets ErrLastRoleHolder.
func testConcurrentLastRoleHolder(t *testing.T, s storage.Store) {
	ctx := context.Background()
	type change func(id, role string) error
	demote := func(id, role string) error {
		return s.UpdateUserKeepingRole(ctx, id, role, func(u *storage.User) error { u.Roles = []string{"viewer"}; return nil })
	}
	disable := func(id, role string) error {
		return s.UpdateUserKeepingRole(ctx, id, role, func(u *storage.User) error { u.Disabled = true; return nil })
	}
	del := func(id, role string) error { return s.DeleteUserKeepingRole(ctx, id, role) }
	pairs := []struct {
		name string
		a, b change
	}{
		{"demote+demote", demote, demote}, {"delete+delete", del, del}, {"demote+delete", demote, del},
		{"disable+demote", disable, demote}, {"disable+delete", disable, del},
	}
	for _, p := range pairs {
		for round := range 4 {
			role := fmt.Sprintf("r-%s-%d", p.name, round)
			a, b := role+"-a", role+"-b"
			addRoleUser(t, s, a, role)
			addRoleUser(t, s, b, role)
			errs := race(2, func(i int) error {
				if i == 0 {
					return p.a(a, role)
				}
				return p.b(b, role)
			})
			oneWinner(t, errs, storage.ErrLastRoleHolder)
			if n := holders(t, s, role); n != 1 {
				t.Fatalf("%s round %d: %d holders left, want 1", p.name, round, n)
			}
		}
	}
}
