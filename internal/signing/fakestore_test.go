package signing

import (
	"context"
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// memStore is an in-memory KeyStore with the copy semantics of the real
// backends.
type memStore struct {
	mu    sync.Mutex
	rows  map[string]storage.SigningKey
	lists int // ListSigningKeys calls
}

func (s *memStore) listCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

func newMemStore() *memStore { return &memStore{rows: make(map[string]storage.SigningKey)} }

func cloneKey(k storage.SigningKey) *storage.SigningKey {
	k.EncryptedPrivateKey = slices.Clone(k.EncryptedPrivateKey)
	return &k
}

func (s *memStore) CreateSigningKey(_ context.Context, k *storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rows[k.ID]; ok {
		return storage.ErrAlreadyExists
	}
	s.rows[k.ID] = *cloneKey(*k)
	return nil
}

func (s *memStore) ListSigningKeys(context.Context) ([]*storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	var out []*storage.SigningKey
	for _, k := range s.rows {
		out = append(out, cloneKey(k))
	}
	return out, nil
}

func (s *memStore) UpdateSigningKey(_ context.Context, id string, fn func(*storage.SigningKey) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.rows[id]
	if !ok {
		return storage.ErrNotFound
	}
	c := cloneKey(k)
	if err := fn(c); err != nil {
		return err
	}
	s.rows[id] = *c
	return nil
}

// row returns a copy of the stored row id.
func (s *memStore) row(id string) storage.SigningKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *cloneKey(s.rows[id])
}

// edit changes a stored row in place (to simulate tampering).
func (s *memStore) edit(id string, fn func(*storage.SigningKey)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.rows[id]
	fn(&k)
	s.rows[id] = k
}
