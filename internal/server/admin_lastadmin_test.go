package server

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// TestAdminConcurrentRemovalsKeepAnAdmin: two admins removed through the
// admin API at the same moment (each demoting or deleting the other, with
// an admin API key that stays valid either way) never leave no admin.
// The store's transaction checks and changes together; the storage
// conformance suite runs the same race on SQLite and PostgreSQL.
// SECURITY-CASES 34.
func TestAdminConcurrentRemovalsKeepAnAdmin(t *testing.T) {
	f := newAdminFixture(t)
	// An admin API key not bound to a user, so it keeps working whoever
	// loses the admin role.
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	if err := f.store.CreateAPIKey(context.Background(), &storage.APIKey{ID: id, Name: "ops", SecretHash: secret.Hash(sec),
		Roles: []string{RoleAdmin}, CreatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	for round, ops := range [][2]string{{"PATCH", "PATCH"}, {"DELETE", "DELETE"}, {"PATCH", "DELETE"}} {
		a := f.addUser("a"+string(rune('0'+round)), "correct horse battery", RoleAdmin)
		b := f.addUser("b"+string(rune('0'+round)), "correct horse battery", RoleAdmin)
		// Only a and b are admins from here on.
		if round == 0 {
			if err := f.store.UpdateUser(context.Background(), f.admin.ID, func(u *storage.User) error { u.Roles = []string{"viewer"}; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		status := make([]int, 2)
		for i, u := range []*storage.User{a, b} {
			wg.Go(func() {
				var body any
				if ops[i] == "PATCH" {
					body = map[string]any{"roles": []string{"viewer"}}
				}
				status[i], _, _ = f.adminCall(ops[i], "/users/"+u.ID, key, body)
			})
		}
		wg.Wait()
		admins := 0
		users, err := f.store.ListUsers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if userIsAdmin(u) {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%v: %d admins left (statuses %v), want 1", ops, admins, status)
		}
		ok := 0
		for _, st := range status {
			switch st {
			case http.StatusOK, http.StatusNoContent:
				ok++
			case http.StatusConflict:
			default:
				t.Errorf("%v: status %d", ops, st)
			}
		}
		if ok != 1 {
			t.Errorf("%v: %d removals succeeded (statuses %v), want 1", ops, ok, status)
		}
		// Leave one admin for the next round: the survivor is demoted
		// by hand.
		for _, u := range users {
			if userIsAdmin(u) {
				if err := f.store.UpdateUser(context.Background(), u.ID, func(u *storage.User) error { u.Roles = nil; return nil }); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
