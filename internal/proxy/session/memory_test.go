package session_test

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session/sessiontest"
)

func TestMemoryConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T, clk *clocktest.Fake) session.Store {
		return session.NewMemory(clk, 1000)
	})
}

func start() *clocktest.Fake {
	return clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func newSession(clk *clocktest.Fake, cookie, userID string, ttl time.Duration) *session.Session {
	now := clk.Now()
	return &session.Session{
		ID: sessiontest.ID(cookie), UserID: userID, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(ttl),
	}
}

// TestMemoryBoundedUnderFlood: a flood of logins (random users, long-lived
// sessions) never holds more than the bound; the newest sessions stay and
// the oldest go (SECURITY-CASES 53).
func TestMemoryBoundedUnderFlood(t *testing.T) {
	const max, flood = 100, 20_000
	clk := start()
	m := session.NewMemory(clk, max)
	ctx := t.Context()
	for i := range flood {
		if err := m.Create(ctx, newSession(clk, fmt.Sprint(i), rand.Text(), 24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n > max {
			t.Fatalf("after %d sessions the store holds %d, more than %d", i+1, n, max)
		}
	}
	if n := m.Len(); n != max {
		t.Errorf("store holds %d sessions, want %d", n, max)
	}
	for i := range flood {
		_, err := m.Get(ctx, sessiontest.ID(fmt.Sprint(i)))
		if kept := i >= flood-max; kept != (err == nil) {
			t.Fatalf("session %d: Get error %v, want kept = %v", i, err, kept)
		}
	}
}

// TestMemorySweepsBeforeEvicting: expired sessions are forgotten without
// being read, and make room before any live session is evicted.
func TestMemorySweepsBeforeEvicting(t *testing.T) {
	clk := start()
	m := session.NewMemory(clk, 10)
	ctx := t.Context()
	var live []*session.Session
	for i := range 10 {
		ttl := time.Minute // the even ones expire soon
		if i%2 == 1 {
			ttl = time.Hour
		}
		s := newSession(clk, fmt.Sprint("old", i), "u", ttl)
		if err := m.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			live = append(live, s)
		}
	}
	clk.Advance(time.Minute)
	for i := range 5 {
		if err := m.Create(ctx, newSession(clk, fmt.Sprint("new", i), "v", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 10 {
		t.Errorf("store holds %d sessions, want 10", n)
	}
	for _, s := range live {
		if _, err := m.Get(ctx, s.ID); err != nil {
			t.Errorf("live session evicted while expired ones made room: %v", err)
		}
	}
	clk.Advance(time.Hour)
	if err := m.Create(ctx, newSession(clk, "last", "w", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 1 {
		t.Errorf("store holds %d sessions after all but one expired, want 1", n)
	}
}

func TestMemoryDefaultBound(t *testing.T) {
	m := session.NewMemory(start(), 0)
	clk := start()
	for i := range session.DefaultMaxSessions + 10 {
		if err := m.Create(t.Context(), newSession(clk, fmt.Sprint(i), "u", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != session.DefaultMaxSessions {
		t.Errorf("store holds %d sessions, want DefaultMaxSessions = %d", n, session.DefaultMaxSessions)
	}
}
