package credstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Memory is a Store that lives in the process: for tests, and for programs
// that must not persist credentials. Lock is a per-profile mutex that
// honours ctx; it excludes goroutines, not processes. A Memory is safe for
// concurrent use.
type Memory struct {
	mu       sync.RWMutex
	profiles map[string]Credential
	locks    semaphores
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{profiles: map[string]Credential{}}
}

// Name returns "memory".
func (m *Memory) Name() string { return "memory" }

// Get returns a copy of the profile's credential, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, profile string) (*Credential, error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	m.mu.RLock()
	c, ok := m.profiles[profile]
	m.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	c.Scopes = slices.Clone(c.Scopes)
	return &c, nil
}

// Put stores a copy of c for the profile.
func (m *Memory) Put(ctx context.Context, profile string, c *Credential) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if c == nil {
		return errors.New("credstore: put: nil credential")
	}
	cp := *c
	cp.Scopes = slices.Clone(c.Scopes)
	m.mu.Lock()
	m.profiles[profile] = cp
	m.mu.Unlock()
	return nil
}

// Delete removes the profile's credential; a missing one is not an error.
func (m *Memory) Delete(ctx context.Context, profile string) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.profiles, profile)
	m.mu.Unlock()
	return nil
}

// List returns the profiles that have a credential, sorted.
func (m *Memory) List(ctx context.Context) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.profiles)), nil
}

// Lock takes the profile's mutex, waiting until ctx ends.
func (m *Memory) Lock(ctx context.Context, profile string) (unlock func(), err error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	unlock, err = m.locks.acquire(ctx, profile)
	if err != nil {
		return nil, fmt.Errorf("credstore: lock %q: %w", profile, err)
	}
	return unlock, nil
}
