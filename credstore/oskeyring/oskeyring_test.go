package oskeyring_test

import (
	"errors"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

// TestBackend checks the KeyringBackend contract on go-keyring's in-memory
// fake: a missing item is credstore.ErrNotFound, so the Keyring store can
// tell "no key yet" from "the keyring is broken".
func TestBackend(t *testing.T) {
	keyring.MockInit()
	var b oskeyring.Backend
	if _, err := b.Get("svc", "alice"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get of a missing item: error = %v, want credstore.ErrNotFound", err)
	}
	if err := b.Delete("svc", "alice"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Delete of a missing item: error = %v, want credstore.ErrNotFound", err)
	}
	if err := b.Set("svc", "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get("svc", "alice"); err != nil || got != "s3cret" {
		t.Errorf("Get = %q, %v; want s3cret", got, err)
	}
	if err := b.Delete("svc", "alice"); err != nil {
		t.Errorf("Delete: %v", err)
	}

	broken := errors.New("dbus: no session bus")
	keyring.MockInitWithError(broken)
	defer keyring.MockInit()
	if _, err := b.Get("svc", "alice"); !errors.Is(err, broken) || errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get on a broken keyring: error = %v, want the keyring's error (not a miss)", err)
	}
	if err := b.Set("svc", "alice", "x"); !errors.Is(err, broken) {
		t.Errorf("Set on a broken keyring: error = %v, want the keyring's error", err)
	}
}
