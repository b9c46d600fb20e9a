package session_test

import (
	"github.com/gatehouse-auth/gatehouse/internal/redistest"

	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session/sessiontest"
)

// The conformance suite runs against Redis three ways:
//
//   - miniredis: key TTLs are set but miniredis's clock stands still, so
//     expiry is the store's own check against the fake clock.
//   - miniredis/clock-ttl: miniredis's clock follows the fake clock, so
//     Redis itself forgets expired keys as the suite advances the clock.
//   - real: the Redis at GATEHOUSE_TEST_REDIS_URL with a prefix per test;
//     TestRedisTTL checks there that keys really expire.
func TestRedisConformance(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, clk *clocktest.Fake) session.Store {
			_, client := redistest.Miniredis(t)
			return session.NewRedis(client, "", clk)
		})
	})
	t.Run("miniredis/clock-ttl", func(t *testing.T) {
		sessiontest.Run(t, func(t *testing.T, clk *clocktest.Fake) session.Store {
			mr, client := redistest.Miniredis(t)
			redistest.FollowClock(mr, client, clk)
			return session.NewRedis(client, "", clk)
		})
	})
	t.Run("real", func(t *testing.T) {
		client := redistest.Client(t)
		sessiontest.Run(t, func(t *testing.T, clk *clocktest.Fake) session.Store {
			return session.NewRedis(client, testPrefix(t, client), clk)
		})
	})
}

// testPrefix returns a key prefix of t's own and deletes its keys when t
// ends.
func testPrefix(t *testing.T, client *redis.Client) string {
	t.Helper()
	prefix := "gatehouse-test:ps:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = client.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("clean up %s*: %v", prefix, err)
		}
	})
	return prefix
}

// TestRedisKeys: a session is one hash under the prefix whose TTL ends at
// ExpiresAt, plus its user's set; nothing else is written.
func TestRedisKeys(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := start()
	s := session.NewRedis(client, "", clk)
	sess := newSession(clk, "c1", "alice", 2*time.Hour)
	if err := s.Create(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	want := []string{"gatehouse:ps:s:" + sess.ID, "gatehouse:ps:u:alice"}
	if got := mr.Keys(); !slices.Equal(got, want) {
		t.Fatalf("keys %q, want %q", got, want)
	}
	for _, k := range want {
		if ttl := mr.TTL(k); ttl != 2*time.Hour {
			t.Errorf("TTL of %s = %s, want 2h", k, ttl)
		}
	}
}

// TestRedisForgets: Redis itself drops an expired session and its user
// set, and each Create prunes the expired members of the user's set, so
// it does not grow with every login of a user.
func TestRedisForgets(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := start()
	s := session.NewRedis(client, "", clk)
	ctx := t.Context()
	for i := range 50 {
		if err := s.Create(ctx, newSession(clk, "c"+string(rune('A'+i)), "alice", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	userSet := "gatehouse:ps:u:alice"
	if n, _ := client.ZCard(ctx, userSet).Result(); n != 50 {
		t.Fatalf("user set holds %d, want 50", n)
	}
	mr.FastForward(time.Hour - time.Millisecond)
	clk.Advance(time.Hour - time.Millisecond)
	if n := len(mr.Keys()); n != 51 {
		t.Fatalf("%d keys before expiry, want 51", n)
	}
	mr.FastForward(time.Millisecond)
	clk.Advance(time.Millisecond)
	if keys := mr.Keys(); len(keys) != 0 {
		t.Fatalf("keys %q left after every session expired", keys)
	}

	// With sessions of different lifetimes, the set outlives the longest
	// and each Create prunes the expired members.
	for i := range 20 {
		if err := s.Create(ctx, newSession(clk, "d"+string(rune('A'+i)), "alice", time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	long := newSession(clk, "long", "alice", 24*time.Hour)
	if err := s.Create(ctx, long); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL(userSet); ttl != 24*time.Hour {
		t.Errorf("user set TTL %s, want that of the longest session (24h)", ttl)
	}
	clk.Advance(time.Minute)
	mr.FastForward(time.Minute)
	if err := s.Create(ctx, newSession(clk, "next", "alice", time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL(userSet); ttl != 24*time.Hour-time.Minute {
		t.Errorf("user set TTL %s after a shorter session, want 23h59m", ttl)
	}
	if n, _ := client.ZCard(ctx, userSet).Result(); n != 2 {
		t.Errorf("user set holds %d after expired members were pruned, want 2", n)
	}
	if n, err := s.DeleteUser(ctx, "alice"); n != 2 || err != nil {
		t.Errorf("DeleteUser = %d, %v; want 2", n, err)
	}
	if keys := mr.Keys(); len(keys) != 0 {
		t.Errorf("keys %q left after DeleteUser", keys)
	}
}

// TestRedisTTL checks on the real Redis that a session's keys carry the
// TTL to its ExpiresAt and that Redis really drops them then: the session
// is created 300ms before its expiry by the fake clock and polled for.
func TestRedisTTL(t *testing.T) {
	client := redistest.Client(t)
	prefix := testPrefix(t, client)
	clk := start()
	s := session.NewRedis(client, prefix, clk)
	ctx := t.Context()
	long := newSession(clk, "long", "alice", 8*time.Hour)
	short := newSession(clk, "short", "bob", 300*time.Millisecond)
	for _, sess := range []*session.Session{long, short} {
		if err := s.Create(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{prefix + "s:" + long.ID, prefix + "u:alice"} {
		ttl, err := client.PTTL(ctx, k).Result()
		if err != nil || ttl > 8*time.Hour || ttl < 8*time.Hour-time.Minute {
			t.Errorf("TTL of %s = %s, %v; want about 8h", k, ttl, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := client.Exists(ctx, prefix+"s:"+short.ID, prefix+"u:bob").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("real Redis kept a session 5s after its TTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.Get(ctx, short.ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get after Redis expired the key: %v", err)
	}
	if _, err := s.Get(ctx, long.ID); err != nil {
		t.Errorf("long session: %v", err)
	}
}

// TestRedisDown: with Redis gone every operation fails with an error that
// is not ErrNotFound, so an outage is never mistaken for a logout.
func TestRedisDown(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := start()
	s := session.NewRedis(client, "", clk)
	ctx := t.Context()
	sess := newSession(clk, "c1", "alice", time.Hour)
	if err := s.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	_, getErr := s.Get(ctx, sess.ID)
	_, delUserErr := s.DeleteUser(ctx, "alice")
	for name, err := range map[string]error{
		"Ping":       s.Ping(ctx),
		"Create":     s.Create(ctx, newSession(clk, "c2", "bob", time.Hour)),
		"Get":        getErr,
		"Touch":      s.Touch(ctx, sess.ID, clk.Now()),
		"Delete":     s.Delete(ctx, sess.ID),
		"DeleteUser": delUserErr,
	} {
		if err == nil || errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s with Redis down: %v, want an error other than ErrNotFound", name, err)
		}
	}
}

// TestRedisOldRecord: a session stored before groups and email_verified
// were kept still decodes, with no groups and an unverified address (so it
// matches no groups, emails or email_domains rule).
func TestRedisOldRecord(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := start()
	s := session.NewRedis(client, "", clk)
	sess := newSession(clk, "old", "alice", time.Hour)
	sess.Email, sess.Groups, sess.EmailVerified = "alice@example.com", []string{"ops"}, true
	if err := s.Create(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	key := "gatehouse:ps:s:" + sess.ID
	old := `{"user":"alice","name":"alice","email":"alice@example.com","roles":["viewer"],` +
		`"auth":"` + clk.Now().Format(time.RFC3339Nano) + `","created":"` + clk.Now().Format(time.RFC3339Nano) +
		`","expires":"` + sess.ExpiresAt.Format(time.RFC3339Nano) + `"}`
	mr.HSet(key, "v", old)
	got, err := s.Get(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "alice@example.com" || got.EmailVerified || got.Groups != nil || !slices.Equal(got.Roles, []string{"viewer"}) {
		t.Fatalf("old record decoded as %+v", got)
	}
}
