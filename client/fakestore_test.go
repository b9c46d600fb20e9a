package client

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// memStore is a credstore.Store in memory for tests. Its per-profile lock
// excludes every TokenSource sharing the store, as the file store's lock
// file excludes processes. afterLock, when set, runs right after a lock is
// taken: tests use it to play a peer process that refreshed meanwhile.
type memStore struct {
	mu        sync.Mutex
	creds     map[string]credstore.Credential
	locks     map[string]chan struct{}
	afterLock func(profile string)
	puts      atomic.Int32
	lockCalls atomic.Int32
}

func newMemStore() *memStore {
	return &memStore{creds: map[string]credstore.Credential{}, locks: map[string]chan struct{}{}}
}

func (m *memStore) Name() string { return "memory" }

func (m *memStore) Get(_ context.Context, profile string) (*credstore.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[profile]
	if !ok {
		return nil, credstore.ErrNotFound
	}
	c.Scopes = slices.Clone(c.Scopes)
	return &c, nil
}

func (m *memStore) Put(_ context.Context, profile string, c *credstore.Credential) error {
	m.puts.Add(1)
	m.set(profile, c)
	return nil
}

// set writes without counting as a Put (a peer's write, a test's setup).
func (m *memStore) set(profile string, c *credstore.Credential) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *c
	cp.Scopes = slices.Clone(c.Scopes)
	m.creds[profile] = cp
}

func (m *memStore) Delete(_ context.Context, profile string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.creds, profile)
	return nil
}

func (m *memStore) List(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for k := range m.creds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

func (m *memStore) Lock(ctx context.Context, profile string) (func(), error) {
	m.lockCalls.Add(1)
	m.mu.Lock()
	ch, ok := m.locks[profile]
	if !ok {
		ch = make(chan struct{}, 1)
		m.locks[profile] = ch
	}
	hook := m.afterLock
	m.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if hook != nil {
		hook(profile)
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, nil
}

// cred returns the stored credential, or nil.
func (m *memStore) cred(profile string) *credstore.Credential {
	c, err := m.Get(context.Background(), profile)
	if err != nil {
		return nil
	}
	return c
}
