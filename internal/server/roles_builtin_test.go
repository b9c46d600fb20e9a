package server

import (
	"slices"
	"testing"
)

// TestBuiltinRolesIsACopy: a caller changing the list it got changes
// nothing for the next caller or for IsBuiltinRole.
func TestBuiltinRolesIsACopy(t *testing.T) {
	got := BuiltinRoles()
	want := []string{RoleAdmin, RoleEditor, RoleViewer}
	if !slices.Equal(got, want) {
		t.Fatalf("BuiltinRoles() = %v, want %v", got, want)
	}
	got[0] = "intruder"
	if again := BuiltinRoles(); !slices.Equal(again, want) {
		t.Fatalf("after a caller changed its copy, BuiltinRoles() = %v", again)
	}
	if IsBuiltinRole("intruder") || !IsBuiltinRole(RoleAdmin) {
		t.Fatal("IsBuiltinRole follows a caller's copy")
	}
}
