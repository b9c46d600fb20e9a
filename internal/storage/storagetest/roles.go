package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var roleTests = []test{
	{"Role/RoundTripUpdateDelete", testRole},
	{"Role/ListByName", testListRoles},
}

func newRole(name string) *storage.Role {
	return &storage.Role{
		Name:        name,
		Description: "Role " + name,
		Permissions: []string{"runs:launch", "assets:materialize"},
		CreatedAt:   base,
		UpdatedAt:   base,
	}
}

func testRole(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetRole(ctx, "operator")
	wantErr(t, "get before create", err, storage.ErrNotFound)
	wantErr(t, "update missing", s.UpdateRole(ctx, "operator", func(*storage.Role) error { return nil }), storage.ErrNotFound)
	wantErr(t, "delete missing", s.DeleteRole(ctx, "operator"), storage.ErrNotFound)

	want := newRole("operator")
	must(t, "create", s.CreateRole(ctx, want))
	wantErr(t, "create duplicate", s.CreateRole(ctx, newRole("operator")), storage.ErrAlreadyExists)
	got, err := s.GetRole(ctx, "operator")
	must(t, "get", err)
	diff(t, "role", want, got)

	// An updater error leaves the row unchanged and comes back as is.
	err = s.UpdateRole(ctx, "operator", func(r *storage.Role) error {
		r.Permissions = nil
		return errStop
	})
	wantErr(t, "aborted update", err, errStop)
	got, err = s.GetRole(ctx, "operator")
	must(t, "get after abort", err)
	diff(t, "role after abort", want, got)

	must(t, "update", s.UpdateRole(ctx, "operator", func(r *storage.Role) error {
		r.Name = "renamed" // ignored: the name is the key
		r.Description = "Runs jobs"
		r.Permissions = []string{"read"}
		r.UpdatedAt = base.Add(time.Minute)
		return nil
	}))
	want.Description, want.Permissions, want.UpdatedAt = "Runs jobs", []string{"read"}, base.Add(time.Minute)
	got, err = s.GetRole(ctx, "operator")
	must(t, "get updated", err)
	diff(t, "updated role", want, got)
	_, err = s.GetRole(ctx, "renamed")
	wantErr(t, "get by the name the updater set", err, storage.ErrNotFound)

	// No permissions round-trip as nil.
	must(t, "update to none", s.UpdateRole(ctx, "operator", func(r *storage.Role) error {
		r.Permissions = []string{}
		return nil
	}))
	got, err = s.GetRole(ctx, "operator")
	must(t, "get without permissions", err)
	if got.Permissions != nil {
		t.Errorf("permissions = %#v, want nil", got.Permissions)
	}

	must(t, "delete", s.DeleteRole(ctx, "operator"))
	_, err = s.GetRole(ctx, "operator")
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	wantErr(t, "delete twice", s.DeleteRole(ctx, "operator"), storage.ErrNotFound)
}

func testListRoles(t *testing.T, s storage.Store) {
	ctx := t.Context()
	got, err := s.ListRoles(ctx)
	must(t, "list empty", err)
	if len(got) != 0 {
		t.Errorf("empty store lists %d roles", len(got))
	}
	b, a, c := newRole("ops.b"), newRole("deploy-a"), newRole("qa_c")
	c.Permissions = nil
	for _, r := range []*storage.Role{b, a, c} {
		must(t, "create "+r.Name, s.CreateRole(ctx, r))
	}
	got, err = s.ListRoles(ctx)
	must(t, "list", err)
	diff(t, "roles", []*storage.Role{a, b, c}, got)
}
