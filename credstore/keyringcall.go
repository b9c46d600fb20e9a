package credstore

import (
	"context"
	"fmt"
	"sync"
)

// KeyringBackend is a keyring that keeps small secrets by service and
// user: the OS keyring (oskeyring.Backend, in package
// github.com/gatehouse-auth/gatehouse/credstore/oskeyring), or a fake in
// tests. The Keyring store keeps only a data key per profile in it.
//
// Get and Delete of an item that does not exist return ErrNotFound (or an
// error wrapping it). The Keyring store calls a backend from one goroutine
// at a time, with a timeout, so a backend need not be safe for concurrent
// use and may block.
//
// The OS keyring is a separate package so that a program that never keeps
// credentials there (one that only uses client credentials, say) does not
// link the keyring libraries (on Linux, a D-Bus client).
type KeyringBackend interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// keyringMu serialises calls into the keyring within the process: each
// call opens its own D-Bus session (or XPC/Win32 call) and gains nothing
// from running beside another, and a backend (go-keyring's in-memory fake,
// for one) need not be safe for concurrent use. A call that hangs holds it, so the calls queued
// behind it time out too — which is right: the keyring is not answering.
var keyringMu sync.Mutex

// call runs fn against the keyring in its own goroutine and waits for it
// until the store's timeout or ctx ends; then the call is abandoned (its
// goroutine finishes, or not, on its own). op names the call in errors.
// The backend's ErrNotFound comes back wrapped, for errors.Is.
func (k *Keyring) call(ctx context.Context, op string, fn func(b KeyringBackend) error) error {
	timer := k.opts.clock.NewTimer(k.opts.timeout)
	defer timer.Stop()
	done := make(chan error, 1)
	go func() {
		keyringMu.Lock()
		defer keyringMu.Unlock()
		done <- fn(k.backend)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("keyring %s: %w", op, err)
		}
		return nil
	case <-timer.C():
		return fmt.Errorf("keyring %s: no answer within %s: %w", op, k.opts.timeout, ErrKeyringTimeout)
	case <-ctx.Done():
		return fmt.Errorf("keyring %s: %w", op, ctx.Err())
	}
}

func (k *Keyring) get(ctx context.Context, user string) (string, error) {
	var secret string
	err := k.call(ctx, "get", func(b KeyringBackend) error {
		var err error
		secret, err = b.Get(k.service, user)
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

func (k *Keyring) set(ctx context.Context, user, secret string) error {
	return k.call(ctx, "set", func(b KeyringBackend) error {
		return b.Set(k.service, user, secret)
	})
}

func (k *Keyring) del(ctx context.Context, user string) error {
	return k.call(ctx, "delete", func(b KeyringBackend) error {
		return b.Delete(k.service, user)
	})
}
