package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultMaxKeys is the key bound NewMemory uses when given maxKeys <= 0.
const DefaultMaxKeys = 100_000

// Keys are spread over shards so that callers on different shards never
// wait for each other. Each shard keeps at least minShardKeys keys, so that
// a small maxKeys is not cut into LRUs so small that two busy keys evict
// each other.
const (
	maxShards    = 32
	minShardKeys = 256
)

// Memory is a Limiter that keeps each key's state in this process. It
// holds at most maxKeys keys: past that the least recently used key is
// forgotten, which gives it a fresh burst. A key that is being hit stays
// recent, so flooding random keys (usernames, IPs) keeps memory bounded
// without resetting the limits of the keys under attack.
//
// Keys are spread over up to 32 shards (at least 256 keys each), each with
// its own lock and its own LRU holding an equal part of maxKeys; the bound
// is exact, the LRU order is per shard.
type Memory struct {
	clk    clock.Clock
	epoch  time.Time
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, int64] // key -> TAT, ns since epoch
	_   [48]byte                      // keep shards' locks on separate cache lines
}

// NewMemory returns an in-memory GCRA limiter that reads time from clk
// (clock.System when nil) and remembers at most maxKeys keys
// (DefaultMaxKeys when maxKeys <= 0).
func NewMemory(clk clock.Clock, maxKeys int) *Memory {
	if clk == nil {
		clk = clock.System
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	n := min(maxShards, max(1, maxKeys/minShardKeys))
	m := &Memory{clk: clk, epoch: clk.Now(), seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range m.shards {
		size := maxKeys / n
		if i < maxKeys%n {
			size++
		}
		lru, err := simplelru.NewLRU[string, int64](size, nil)
		if err != nil {
			panic("ratelimit: " + err.Error()) // size >= 1 by construction
		}
		m.shards[i].lru = lru
	}
	return m
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
}

// Allow implements Limiter. It does not use ctx.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if err := l.check(); err != nil {
		return Result{}, err
	}
	now := int64(m.clk.Now().Sub(m.epoch))
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, ok := s.lru.Get(key)
	if !ok {
		tat = now
	}
	tat, res := gcra(now, tat, l)
	if res.Allowed {
		s.lru.Add(key, tat)
	}
	return res, nil
}

// Reset forgets key, giving it a full burst again (after a successful
// login, for example).
func (m *Memory) Reset(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	s.lru.Remove(key)
	s.mu.Unlock()
	return nil
}

// Len reports how many keys are remembered; never more than maxKeys.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.lru.Len()
		s.mu.Unlock()
	}
	return n
}
