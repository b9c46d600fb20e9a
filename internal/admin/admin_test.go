package admin_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newService(t *testing.T) (*admin.Service, storage.Store, *clocktest.Fake) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "admin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clocktest.New(start)
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	return admin.New(st, admin.Options{Hasher: h, Clock: clk, Connectors: []string{"corp"}}), st, clk
}

// wantEvent fails unless ev is of type typ, successful, without an actor
// (the caller sets it), and has the details in want.
func wantEvent(t *testing.T, ev audit.Event, typ, username string, want map[string]string) {
	t.Helper()
	if ev.Type != typ || ev.Outcome != audit.Success || ev.Actor != "" || ev.Username != username {
		t.Errorf("event %+v, want %s of %q, successful, without an actor", ev, typ, username)
	}
	for k, v := range want {
		if ev.Details[k] != v {
			t.Errorf("%s: details[%s] = %q, want %q (all: %v)", typ, k, ev.Details[k], v, ev.Details)
		}
	}
}

// TestUserOperationsReturnTheirEvents: every change to a user returns the
// event that records it, and a refusal returns none.
func TestUserOperationsReturnTheirEvents(t *testing.T) {
	ops, st, _ := newService(t)
	ctx := context.Background()
	email := "Ada@Example.com"
	u, ev, err := ops.CreateUser(ctx, admin.NewUser{Username: " Ada ", Password: "long enough password", Roles: []string{"Admin", "admin"},
		Profile: userreg.Profile{Email: &email}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "ada" || len(u.Roles) != 1 || u.Roles[0] != "admin" || !u.CreatedAt.Equal(start) {
		t.Errorf("created %+v: want ada, roles [admin], created at %v", u, start)
	}
	stored, err := st.GetUserByName(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.NewHasher(password.DefaultParams, 1).Verify(ctx, stored.PasswordHash, "long enough password"); !ok || err != nil {
		t.Errorf("the stored hash does not verify the password: %v %v", ok, err)
	}
	wantEvent(t, ev, audit.UserCreated, "ada", map[string]string{"roles": "admin", "email": email})

	if _, _, err := ops.CreateUser(ctx, admin.NewUser{Username: "bob", Password: "long enough password", Roles: []string{"editor"}}); err != nil {
		t.Fatal(err)
	}
	_, ev, err = ops.UpdateUser(ctx, "bob", admin.UserUpdate{Roles: &[]string{"viewer"}})
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.UserUpdated, "bob", map[string]string{"roles": "viewer", "previous_roles": "editor"})

	ev, err = ops.SetPassword(ctx, "bob", "another long password")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.UserUpdated, "bob", map[string]string{"change": "password set"})

	_, removed, ev, err := ops.ResetMFA(ctx, "bob")
	if err != nil || removed || ev.Type != "" {
		t.Errorf("ResetMFA of a user without MFA: removed %v, event %+v, err %v; want nothing", removed, ev, err)
	}

	_, ev, err = ops.DeleteUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.UserDeleted, "bob", nil)

	// The last admin stays, and the refusal carries no event.
	_, ev, err = ops.DeleteUser(ctx, "ada")
	if admin.KindOf(err) != admin.Conflict || !errors.Is(err, storage.ErrLastRoleHolder) || ev.Type != "" {
		t.Errorf("deleting the last admin: %v (event %+v), want a conflict that is storage.ErrLastRoleHolder and no event", err, ev)
	}
}

// TestRoleAndAPIKeyOperationsReturnTheirEvents: the same for roles and API
// keys.
func TestRoleAndAPIKeyOperationsReturnTheirEvents(t *testing.T) {
	ops, _, clk := newService(t)
	ctx := context.Background()
	_, ev, err := ops.CreateRole(ctx, admin.NewRole{Name: "ops", Permissions: []string{"b", "a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.RoleCreated, "", map[string]string{"role": "ops", "permissions": "a b"})
	_, ev, err = ops.UpdateRole(ctx, "ops", admin.RoleUpdate{Add: []string{"c"}, Remove: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.RoleUpdated, "", map[string]string{"permissions": "b c", "previous_permissions": "a b"})

	k, key, _, ev, err := ops.CreateAPIKey(ctx, admin.NewAPIKey{Name: " ci ", Roles: []string{"ops"}, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "ci" || key == "" || !k.ExpiresAt.Equal(start.Add(time.Hour)) {
		t.Errorf("created key %+v (key %q)", k, key)
	}
	wantEvent(t, ev, audit.APIKeyCreated, "", map[string]string{"apikey_id": k.ID, "roles": "ops", "expires": "2026-01-02T04:04:05Z"})

	// A role an API key holds is not deleted.
	if ev, err := ops.DeleteRole(ctx, "ops"); admin.KindOf(err) != admin.Conflict || ev.Type != "" {
		t.Errorf("deleting a held role: %v, event %+v", err, ev)
	}

	_, newKey, ev, err := ops.RotateAPIKey(ctx, k.ID)
	if err != nil || newKey == key {
		t.Fatalf("rotate: %v (same key: %v)", err, newKey == key)
	}
	wantEvent(t, ev, audit.APIKeyRotated, "", map[string]string{"apikey_id": k.ID})

	_, revoked, ev, err := ops.RevokeAPIKey(ctx, k.ID)
	if err != nil || !revoked {
		t.Fatalf("revoke: %v, revoked %v", err, revoked)
	}
	wantEvent(t, ev, audit.APIKeyRevoked, "", map[string]string{"apikey_id": k.ID})
	if _, revoked, ev, err := ops.RevokeAPIKey(ctx, k.ID); err != nil || revoked || ev.Type != "" {
		t.Errorf("revoking again: %v, revoked %v, event %+v; want no change and no event", err, revoked, ev)
	}
	clk.Advance(2 * time.Hour)
	if _, _, _, err := ops.RotateAPIKey(ctx, k.ID); admin.KindOf(err) != admin.Conflict {
		t.Errorf("rotating a revoked key: %v, want a conflict", err)
	}

	// Nobody holds the role once the key is revoked.
	ev, err = ops.DeleteRole(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, audit.RoleDeleted, "", map[string]string{"role": "ops"})
}

// TestConnectorUsers: a user of a configured connector is created without
// a password; an unknown connector, or a password for a connector user, is
// refused; a connector user gets no password here.
func TestConnectorUsers(t *testing.T) {
	ops, _, _ := newService(t)
	ctx := context.Background()
	if _, _, err := ops.CreateUser(ctx, admin.NewUser{Username: "ada", Connector: "corp"}); err != nil {
		t.Fatal(err)
	}
	for _, nu := range []admin.NewUser{
		{Username: "bob", Connector: "google"},
		{Username: "bob", Connector: "corp", Password: "long enough password"},
		{Username: "bob"},
	} {
		if _, _, err := ops.CreateUser(ctx, nu); admin.KindOf(err) != admin.Invalid {
			t.Errorf("CreateUser(%+v): %v, want invalid", nu, err)
		}
	}
	if _, err := ops.SetPassword(ctx, "ada", "long enough password"); admin.KindOf(err) != admin.Invalid {
		t.Errorf("a password for a connector user: %v, want invalid", err)
	}
}
