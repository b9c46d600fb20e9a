package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ClientCacheTTL bounds how long a change to a client made elsewhere (a
// `gatehouse clients rotate-secret` or `delete` on the database, another
// replica) can go unnoticed by the token, revocation, introspection and
// device endpoints. Within it, an old secret or a deleted client still
// authenticates.
const ClientCacheTTL = 5 * time.Second

// clientCacheSize bounds the cache; when full it starts over.
const clientCacheSize = 10_000

// ClientCache keeps recently used clients in memory so that client
// authentication, done on every token and introspection request, does not
// cost a database round trip. Only clients that exist are cached, and the
// secret is still checked against the cached hash on every request.
type ClientCache struct {
	store storage.ClientStore
	clock clock.Clock

	mu      sync.RWMutex
	entries map[string]cachedClient
}

type cachedClient struct {
	client  *storage.Client
	fetched time.Time
}

// NewClientCache makes an empty cache of the clients in st.
func NewClientCache(st storage.ClientStore, clk clock.Clock) *ClientCache {
	return &ClientCache{store: st, clock: clk, entries: make(map[string]cachedClient)}
}

// Get returns the client with id, from memory when it was read less than
// ClientCacheTTL ago. The returned client must not be modified.
func (c *ClientCache) Get(ctx context.Context, id string) (*storage.Client, error) {
	now := c.clock.Now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) < ClientCacheTTL && !now.Before(e.fetched) {
		return e.client, nil
	}
	cl, err := c.store.GetClient(ctx, id)
	if err != nil {
		if ok {
			c.Forget(id)
		}
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= clientCacheSize {
		clear(c.entries)
	}
	c.entries[id] = cachedClient{client: cl, fetched: now}
	c.mu.Unlock()
	return cl, nil
}

// Forget drops a client, for changes this process makes itself.
func (c *ClientCache) Forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
