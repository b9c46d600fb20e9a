package session

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

// TestMemoryIndexesBounded: eviction, expiry, Delete and DeleteUser leave
// nothing behind in the store's indexes, so a flood of distinct users
// cannot grow them either (SECURITY-CASES 53).
func TestMemoryIndexesBounded(t *testing.T) {
	const max = 50
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	m := NewMemory(clk, max)
	ctx := t.Context()
	for i := range 5000 {
		s := &Session{
			ID: fmt.Sprint("s", i), UserID: fmt.Sprint("user", i),
			ExpiresAt: clk.Now().Add(time.Duration(1+i%7) * time.Minute),
		}
		if err := m.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		switch i % 5 {
		case 1:
			_ = m.Delete(ctx, s.ID)
		case 2:
			_, _ = m.DeleteUser(ctx, s.UserID)
		case 3:
			clk.Advance(10 * time.Second)
		}
		m.check(t, max)
	}
	clk.Advance(time.Hour)
	for i := range 3 {
		_, _ = m.Get(ctx, fmt.Sprint("s", 4999-i))
	}
	_ = m.Create(ctx, &Session{ID: "last", UserID: "u", ExpiresAt: clk.Now().Add(time.Hour)})
	m.check(t, 1)
	if len(m.byID) != 1 {
		t.Errorf("%d sessions after all others expired, want 1", len(m.byID))
	}
}

// check fails t unless the indexes agree and hold at most max sessions.
func (m *Memory) check(t *testing.T, max int) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byID) > max || m.order.Len() != len(m.byID) || len(m.expiry) != len(m.byID) {
		t.Fatalf("indexes: %d by id, %d in order, %d in heap; max %d",
			len(m.byID), m.order.Len(), len(m.expiry), max)
	}
	users := 0
	for u, ids := range m.byUser {
		if len(ids) == 0 {
			t.Fatalf("empty index of user %s kept", u)
		}
		users += len(ids)
	}
	if users != len(m.byID) {
		t.Fatalf("%d sessions by user, %d by id", users, len(m.byID))
	}
	for i, e := range m.expiry {
		if e.index != i || m.byID[e.s.ID] != e {
			t.Fatalf("heap entry %d out of place", i)
		}
	}
}
