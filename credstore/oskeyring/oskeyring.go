// Package oskeyring is the OS keyring — macOS Keychain, Windows Credential
// Manager, the freedesktop Secret Service (over D-Bus) on Linux and the
// BSDs — as a credstore.KeyringBackend, through
// github.com/zalando/go-keyring.
//
// It is a package of its own so that only programs that keep credentials
// in the OS keyring link it: credstore, client and a program that uses
// only the file or memory store do not pull in the D-Bus client.
//
//	kr := credstore.NewKeyring(oskeyring.Backend{}, "mycli", dir)
//	st, res, err := credstore.Resolve(ctx, credstore.ResolveInput{Keyring: oskeyring.Backend{}, Dir: dir /* ... */})
//
// Tests can swap the OS keyring for go-keyring's in-memory fake with
// keyring.MockInit; Backend then uses the fake.
package oskeyring

import (
	"errors"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// Backend is the OS keyring. Its zero value is ready to use. An item
// that does not exist is credstore.ErrNotFound, as the KeyringBackend
// contract asks.
type Backend struct{}

var _ credstore.KeyringBackend = Backend{}

// Set stores secret for service and user, replacing any previous one.
func (Backend) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}

// Get returns the secret stored for service and user.
func (Backend) Get(service, user string) (string, error) {
	secret, err := keyring.Get(service, user)
	return secret, notFound(err)
}

// Delete removes the secret stored for service and user.
func (Backend) Delete(service, user string) error {
	return notFound(keyring.Delete(service, user))
}

// notFound turns go-keyring's "not found" into credstore's, which the
// Keyring store tells apart from a keyring that does not work.
func notFound(err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return credstore.ErrNotFound
	}
	return err
}
