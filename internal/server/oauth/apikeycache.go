package oauth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// APIKeyCacheTTL bounds how long a change made elsewhere — `gatehouse
// apikeys revoke` or `rotate` on the database, another replica, a change to
// the roles of the user a key acts as, or that user's deletion — can go
// unnoticed by this server. Within it a revoked key or an old secret still
// works. Revocation through this server (Endpoints.ForgetAPIKey) is immediate.
const APIKeyCacheTTL = 5 * time.Second

// apiKeyCacheSize bounds the cache; when full it starts over.
const apiKeyCacheSize = 10_000

// apiKeyUseInterval is how often at most the last use of one key is
// recorded.
const apiKeyUseInterval = time.Minute

// apiKeyCache keeps recently used API keys in memory, with the user each
// acts as, so that verifying a key costs a SHA-256 and a map lookup instead
// of database reads. Only keys that exist are cached; the secret hash and
// the expiry are checked on every request.
//
// It also collects when keys were used, at most once per apiKeyUseInterval
// per key, for Endpoints.FlushAPIKeyUse to write in the background.
type apiKeyCache struct {
	store apiKeyLookup
	clock clock.Clock
	group singleflight.Group

	mu      sync.RWMutex
	entries map[string]*APIKey
	// gen counts forget calls; a load that started before one does not
	// store its (possibly stale) result.
	gen uint64

	useMu   sync.Mutex
	noted   map[string]time.Time // when each key's use was last noted
	pending map[string]time.Time // noted uses not yet written
}

// APIKey is an API key as loaded, with what verification and the
// responses need computed once.
type APIKey struct {
	key     *storage.APIKey
	fetched time.Time
	// usable is false for a revoked key and for a key whose user is gone
	// or disabled.
	usable   bool
	subject  string // user id, or "apikey:<id>"
	username string
	roles    []string // effective roles
	scope    string
}

// ID is the key's id.
func (k *APIKey) ID() string { return k.key.ID }

// Roles are the key's effective roles: its own, or, for a key acting as a
// user, the user's current roles limited to the key's.
func (k *APIKey) Roles() []string { return k.roles }

// apiKeyLookup is what the cache reads: the key and the user it acts as.
type apiKeyLookup interface {
	GetAPIKey(ctx context.Context, id string) (*storage.APIKey, error)
	GetUser(ctx context.Context, id string) (*storage.User, error)
}

func newAPIKeyCache(st apiKeyLookup, clk clock.Clock) *apiKeyCache {
	return &apiKeyCache{
		store:   st,
		clock:   clk,
		entries: make(map[string]*APIKey),
		noted:   make(map[string]time.Time),
		pending: make(map[string]time.Time),
	}
}

// get returns the key with id, from memory when it was read less than
// APIKeyCacheTTL ago. It returns storage.ErrNotFound for an unknown key.
func (c *apiKeyCache) get(ctx context.Context, id string) (*APIKey, error) {
	now := c.clock.Now()
	c.mu.RLock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) < APIKeyCacheTTL && !now.Before(e.fetched) {
		return e, nil
	}
	// Concurrent misses for one key share one load. The generation is part
	// of the flight's name, so a request that starts after a forget never
	// joins a load that started before it.
	v, err, _ := c.group.Do(id+"@"+strconv.FormatUint(gen, 10), func() (any, error) {
		e, err := c.load(context.WithoutCancel(ctx), id, now)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == gen {
			if len(c.entries) >= apiKeyCacheSize {
				clear(c.entries)
			}
			c.entries[id] = e
		}
		c.mu.Unlock()
		return e, nil
	})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) && ok {
			c.forget(id)
		}
		return nil, err
	}
	return v.(*APIKey), nil
}

// load reads the key and the user it acts as.
func (c *apiKeyCache) load(ctx context.Context, id string, now time.Time) (*APIKey, error) {
	k, err := c.store.GetAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	e := &APIKey{key: k, fetched: now, usable: k.RevokedAt.IsZero(), scope: JoinScope(k.Scopes)}
	if k.UserID == "" {
		e.subject, e.roles = "apikey:"+k.ID, k.Roles
		return e, nil
	}
	e.subject = k.UserID
	u, err := c.store.GetUser(ctx, k.UserID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		e.usable = false
		return e, nil
	case err != nil:
		return nil, err
	}
	if u.Disabled {
		e.usable = false
	}
	e.username, e.roles = u.Username, effectiveRoles(k.Roles, u.Roles)
	return e, nil
}

// effectiveRoles are the roles of a key acting as a user: the user's
// current roles, limited to the key's roles when it lists any.
func effectiveRoles(keyRoles, userRoles []string) []string {
	if len(keyRoles) == 0 {
		return userRoles
	}
	var out []string
	for _, r := range keyRoles {
		if slices.Contains(userRoles, r) {
			out = append(out, r)
		}
	}
	return out
}

// forget drops a key, for changes this process makes itself.
func (c *apiKeyCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.gen++
	c.mu.Unlock()
}

// noteUse records that key id was used at now, unless its use was noted
// less than apiKeyUseInterval ago.
func (c *apiKeyCache) noteUse(id string, now time.Time) {
	c.useMu.Lock()
	defer c.useMu.Unlock()
	if last, ok := c.noted[id]; ok && now.Sub(last) < apiKeyUseInterval && !now.Before(last) {
		return
	}
	if len(c.noted) >= apiKeyCacheSize {
		clear(c.noted)
	}
	c.noted[id] = now
	c.pending[id] = now
}

// takeUses returns the uses noted since the last call and forgets them.
func (c *apiKeyCache) takeUses() map[string]time.Time {
	c.useMu.Lock()
	defer c.useMu.Unlock()
	if len(c.pending) == 0 {
		return nil
	}
	p := c.pending
	c.pending = make(map[string]time.Time)
	return p
}
