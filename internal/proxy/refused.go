package proxy

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// refusedTTL is how long a refused bearer credential is refused again
// without asking the issuer: an unknown, expired or revoked credential does
// not become valid later.
const refusedTTL = time.Minute

// refusedEntries bounds each memory of refusedCredentials.
const refusedEntries = 10000

// refusedCredentials remembers bearer credentials that were just refused
// and client addresses that are over their limit of refused credentials,
// so that a flood of bad tokens is not a flood of introspection requests
// to the issuer (120 bad tokens make at most the limiter's burst of them).
type refusedCredentials struct {
	clock clock.Clock
	mu    sync.Mutex
	creds *lru.Cache[string, time.Time] // credential hash → refused until
	addrs *lru.Cache[string, time.Time] // client address → limited until
}

func newRefusedCredentials(c clock.Clock) *refusedCredentials {
	creds, _ := lru.New[string, time.Time](refusedEntries)
	addrs, _ := lru.New[string, time.Time](refusedEntries)
	return &refusedCredentials{clock: c, creds: creds, addrs: addrs}
}

func (r *refusedCredentials) active(c *lru.Cache[string, time.Time], key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := c.Get(key)
	if !ok {
		return false
	}
	if !r.clock.Now().Before(until) {
		c.Remove(key)
		return false
	}
	return true
}

// refused reports whether the credential with this hash was refused within
// refusedTTL.
func (r *refusedCredentials) refused(hash string) bool { return r.active(r.creds, hash) }

// remember records a refused credential.
func (r *refusedCredentials) remember(hash string) {
	r.mu.Lock()
	r.creds.Add(hash, r.clock.Now().Add(refusedTTL))
	r.mu.Unlock()
}

// limited reports whether addr is over its limit of refused credentials.
func (r *refusedCredentials) limited(addr string) bool { return r.active(r.addrs, addr) }

// limit records that addr is over its limit for d.
func (r *refusedCredentials) limit(addr string, d time.Duration) {
	r.mu.Lock()
	r.addrs.Add(addr, r.clock.Now().Add(max(d, time.Second)))
	r.mu.Unlock()
}
