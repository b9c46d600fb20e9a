package session

import (
	"container/heap"
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultMaxSessions is how many sessions Open's memory store holds.
const DefaultMaxSessions = 100_000

// Memory is a Store in process memory, for a single gateway process.
//
// It is bounded: it holds at most maxSessions sessions, and when it is
// full a new session evicts the oldest one (by creation), so a flood of
// logins cannot grow memory without limit (SECURITY-CASES 53). Every
// Create first forgets the sessions that have expired, from a heap
// ordered by ExpiresAt, so live sessions are only evicted when the store
// is full of live ones. Every operation is O(log n) or better.
type Memory struct {
	clk clock.Clock
	max int

	mu     sync.Mutex
	byID   map[string]*memEntry
	byUser map[string]map[string]*memEntry
	order  list.List  // *memEntry, oldest created first
	expiry expiryHeap // soonest ExpiresAt first
}

type memEntry struct {
	s     *Session
	elem  *list.Element // in Memory.order
	index int           // in Memory.expiry
}

// NewMemory returns an empty Memory store that holds at most maxSessions
// sessions (DefaultMaxSessions when maxSessions <= 0) and reads the time
// from clk.
func NewMemory(clk clock.Clock, maxSessions int) *Memory {
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	return &Memory{
		clk:    clk,
		max:    maxSessions,
		byID:   map[string]*memEntry{},
		byUser: map[string]map[string]*memEntry{},
	}
}

// Create stores a copy of s, evicting the oldest session when the store is
// full.
func (m *Memory) Create(_ context.Context, s *Session) error {
	if err := check(s); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(m.clk.Now())
	if _, ok := m.byID[s.ID]; ok {
		return ErrAlreadyExists
	}
	for len(m.byID) >= m.max {
		m.remove(m.order.Front().Value.(*memEntry))
	}
	e := &memEntry{s: s.clone()}
	e.elem = m.order.PushBack(e)
	heap.Push(&m.expiry, e)
	m.byID[s.ID] = e
	ids := m.byUser[s.UserID]
	if ids == nil {
		ids = map[string]*memEntry{}
		m.byUser[s.UserID] = ids
	}
	ids[s.ID] = e
	return nil
}

// Get returns a copy of the session with id.
func (m *Memory) Get(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.live(id)
	if err != nil {
		return nil, err
	}
	return e.s.clone(), nil
}

// Touch sets the LastSeen of the session with id.
func (m *Memory) Touch(_ context.Context, id string, lastSeen time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.live(id)
	if err != nil {
		return err
	}
	e.s.LastSeen = lastSeen
	return nil
}

// Delete removes the session with id.
func (m *Memory) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.byID[id]; ok {
		m.remove(e)
	}
	return nil
}

// DeleteUser removes every session of userID.
func (m *Memory) DeleteUser(_ context.Context, userID string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	n := 0
	for _, e := range m.byUser[userID] {
		if !expired(e.s.ExpiresAt, now) {
			n++
		}
		m.remove(e)
	}
	return n, nil
}

// Ping always succeeds.
func (m *Memory) Ping(context.Context) error { return nil }

// Len returns how many sessions the store holds, expired ones it has not
// forgotten yet included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

// live returns the entry of id unless it is missing or expired; an
// expired one is removed.
func (m *Memory) live(id string) (*memEntry, error) {
	e, ok := m.byID[id]
	if !ok {
		return nil, ErrNotFound
	}
	if expired(e.s.ExpiresAt, m.clk.Now()) {
		m.remove(e)
		return nil, ErrNotFound
	}
	return e, nil
}

// sweep removes the sessions expired at now.
func (m *Memory) sweep(now time.Time) {
	for len(m.expiry) > 0 && expired(m.expiry[0].s.ExpiresAt, now) {
		m.remove(m.expiry[0])
	}
}

// remove drops e from every index.
func (m *Memory) remove(e *memEntry) {
	delete(m.byID, e.s.ID)
	if ids := m.byUser[e.s.UserID]; ids != nil {
		delete(ids, e.s.ID)
		if len(ids) == 0 {
			delete(m.byUser, e.s.UserID)
		}
	}
	m.order.Remove(e.elem)
	heap.Remove(&m.expiry, e.index)
}

// expiryHeap is a min-heap of entries by ExpiresAt (container/heap).
type expiryHeap []*memEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].s.ExpiresAt.Before(h[j].s.ExpiresAt) }

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

var _ Store = (*Memory)(nil)
