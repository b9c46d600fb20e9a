package clock

import (
	"reflect"
	"testing"
	"time"
)

// TestSystemCannotBeReplaced: System's type has no state, so assigning to
// it (the only assignable value is of its own unexported type) cannot
// change which clock it is.
func TestSystemCannotBeReplaced(t *testing.T) {
	typ := reflect.TypeOf(System)
	if typ.Kind() != reflect.Struct || typ.NumField() != 0 || typ.Name() == "" || typ.Name()[0] < 'a' || typ.Name()[0] > 'z' {
		t.Fatalf("System is a %v; want a stateless value of an unexported type", typ)
	}
	var c Clock = System
	if c != System {
		t.Fatal("System does not compare equal to itself as a Clock")
	}
	before := time.Now()
	if now := System.Now(); now.Before(before) {
		t.Fatalf("System.Now() = %v, before %v", now, before)
	}
}
