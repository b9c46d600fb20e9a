package rolereg

import (
	"slices"
	"testing"
)

// TestBuiltinIsACopy: a caller changing the list it got changes
// nothing for the next caller or for IsBuiltin.
func TestBuiltinIsACopy(t *testing.T) {
	got := Builtin()
	want := []string{Admin, Editor, Viewer}
	if !slices.Equal(got, want) {
		t.Fatalf("Builtin() = %v, want %v", got, want)
	}
	got[0] = "intruder"
	if again := Builtin(); !slices.Equal(again, want) {
		t.Fatalf("after a caller changed its copy, Builtin() = %v", again)
	}
	if IsBuiltin("intruder") || !IsBuiltin(Admin) {
		t.Fatal("IsBuiltin follows a caller's copy")
	}
}
