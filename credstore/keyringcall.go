package credstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/zalando/go-keyring"
)

// keyringBackend is the part of go-keyring the Keyring store uses; tests
// inside the package replace it with one that hangs.
type keyringBackend interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// systemKeyring is go-keyring's package-level keyring: the OS keyring, or
// its in-memory fake after keyring.MockInit.
type systemKeyring struct{}

func (systemKeyring) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}

func (systemKeyring) Get(service, user string) (string, error) {
	return keyring.Get(service, user)
}

func (systemKeyring) Delete(service, user string) error {
	return keyring.Delete(service, user)
}

// keyringMu serialises calls into the keyring within the process: each
// call opens its own D-Bus session (or XPC/Win32 call) and gains nothing
// from running beside another, and go-keyring's in-memory fake is not safe
// for concurrent use. A call that hangs holds it, so the calls queued
// behind it time out too — which is right: the keyring is not answering.
var keyringMu sync.Mutex

// call runs fn against the keyring in its own goroutine and waits for it
// until the store's timeout or ctx ends; then the call is abandoned (its
// goroutine finishes, or not, on its own). op names the call in errors. keyring.ErrNotFound comes back wrapped, for errors.Is.
func (k *Keyring) call(ctx context.Context, op string, fn func(b keyringBackend) error) error {
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
	err := k.call(ctx, "get", func(b keyringBackend) error {
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
	return k.call(ctx, "set", func(b keyringBackend) error {
		return b.Set(k.service, user, secret)
	})
}

func (k *Keyring) del(ctx context.Context, user string) error {
	return k.call(ctx, "delete", func(b keyringBackend) error {
		return b.Delete(k.service, user)
	})
}
