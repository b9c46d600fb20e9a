package dpop

import (
	"context"
	"crypto/sha256"
	"math"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// ReplayCache remembers the proofs a verifier has accepted, so that each
// is accepted once (RFC 9449 §11.1: "the server MUST ensure that the same
// DPoP proof is not used more than once"). Verifiers that share a cache
// (through Redis, say) refuse a proof replayed to any of them.
type ReplayCache interface {
	// Seen records key until expires and reports whether it was already
	// recorded (and not expired): true means a replay. An error means the
	// cache could not answer; the verifier then refuses the proof.
	Seen(ctx context.Context, key string, expires time.Time) (bool, error)
}

// DefaultReplayCapacity is the number of proofs a MemoryReplayCache
// remembers when given no capacity: with the default 60 s window, room
// for about 800 proofs a second.
const DefaultReplayCapacity = 100_000

// MemoryReplayCache is a ReplayCache in memory, for one process: a map
// and a heap ordered by expiry, bounded to a capacity. When it is full of
// unexpired entries, the one closest to expiry is dropped, so a flood of
// proofs cannot grow it without bound; size the capacity for the peak
// rate times the iat window (a dropped proof could be replayed until its
// iat leaves the window). Replicas need a shared cache instead.
//
// It remembers the SHA-256 of each key, not the key: its map and heap
// hold no pointers, so the garbage collector does not walk the 100,000
// entries of a busy cache at every cycle, and remembering a proof
// allocates nothing. A Verifier hands it the replay hash of a proof
// directly (see Verifier.Verify).
type MemoryReplayCache struct {
	mu    sync.Mutex
	cap   int
	clock clock.Clock
	seen  map[replayKey]int64 // → expiry, Unix nanoseconds
	order expiryHeap
}

// replayKey is the SHA-256 of a key given to Seen, or a proof's replay
// hash given by a Verifier.
type replayKey [sha256.Size]byte

// NewMemoryReplayCache returns a cache of capacity entries (zero:
// DefaultReplayCapacity); clk nil means clock.System.
func NewMemoryReplayCache(capacity int, clk clock.Clock) *MemoryReplayCache {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	if clk == nil {
		clk = clock.System
	}
	return &MemoryReplayCache{cap: capacity, clock: clk, seen: make(map[replayKey]int64)}
}

// Seen implements ReplayCache.
func (c *MemoryReplayCache) Seen(_ context.Context, key string, expires time.Time) (bool, error) {
	return c.seenKey(sha256.Sum256([]byte(key)), expires), nil
}

// seenKey is Seen for a key already hashed.
func (c *MemoryReplayCache) seenKey(k replayKey, expires time.Time) bool {
	now, exp := unixNanos(c.clock.Now()), unixNanos(expires)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.seen[k]; ok && now < e {
		return true
	}
	for len(c.order) > 0 && (c.order[0].exp <= now || len(c.order) >= c.cap) {
		e := c.order.pop()
		// A key recorded again after it expired has a newer entry; the
		// older one, popped here, must not forget it.
		if c.seen[e.key] == e.exp {
			delete(c.seen, e.key)
		}
	}
	c.seen[k] = exp
	c.order.push(entry{k, exp})
	return false
}

// unixNanos is t in Unix nanoseconds, saturated outside the years
// 1678–2262 that an int64 of nanoseconds can hold.
func unixNanos(t time.Time) int64 {
	switch s := t.Unix(); {
	case s >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case s <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return t.UnixNano()
}

// Len returns the number of proofs remembered.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

type entry struct {
	key replayKey
	exp int64 // Unix nanoseconds
}

// expiryHeap is a binary min-heap of entries by exp. It is written out
// rather than used through container/heap, whose interface boxes every
// entry pushed: one allocation per accepted proof.
type expiryHeap []entry

func (h *expiryHeap) push(e entry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if q[i].exp >= q[parent].exp {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *expiryHeap) pop() entry {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].exp < q[small].exp {
			small = l
		}
		if r < len(q) && q[r].exp < q[small].exp {
			small = r
		}
		if small == i {
			break
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
	*h = q
	return top
}
