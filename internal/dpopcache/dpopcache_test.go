package dpopcache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/dpopcache"
	"github.com/gatehouse-auth/gatehouse/internal/redistest"
)

func uniquePrefix(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "gatehouse-test-" + hex.EncodeToString(b) + ":"
}

// TestRedisReplicas: two verifiers on one Redis (two replicas) refuse a
// proof the other accepted; an expired entry is forgotten.
func TestRedisReplicas(t *testing.T) {
	client := redistest.Client(t)
	prefix := uniquePrefix(t)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := client.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	clk := clocktest.New(time.Now())
	a := dpopcache.NewRedis(client, prefix, 0, clk)
	b := dpopcache.NewRedis(client, prefix, 0, clk)
	ctx := t.Context()
	if seen, err := a.Seen(ctx, "k1", clk.Now().Add(time.Minute)); err != nil || seen {
		t.Fatalf("first Seen = %v, %v", seen, err)
	}
	if seen, err := b.Seen(ctx, "k1", clk.Now().Add(time.Minute)); err != nil || !seen {
		t.Fatalf("replica Seen = %v, %v; want a replay", seen, err)
	}
	ttl, err := client.PTTL(ctx, prefix+"k1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v, %v", ttl, err)
	}
	// Through dpop.Verifier, on two "replicas".
	s := newSigner(t, clk)
	va, _ := dpop.NewVerifier(dpop.Config{Clock: clk, Replay: a})
	vb, _ := dpop.NewVerifier(dpop.Config{Clock: clk, Replay: b})
	p, _ := s.Proof("GET", "https://api.example/x", "", "")
	req := dpop.Request{Method: "GET", URL: "https://api.example/x"}
	if _, err := va.Verify(ctx, p, req); err != nil {
		t.Fatal(err)
	}
	if _, err := vb.Verify(ctx, p, req); err == nil {
		t.Fatal("the second replica accepted a replayed proof")
	}
}

func TestMiniredisExpiry(t *testing.T) {
	mr, client := redistest.Miniredis(t)
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	redistest.FollowClock(mr, client, clk)
	c := dpopcache.NewRedis(client, "p:", 0, clk)
	ctx := t.Context()
	if seen, _ := c.Seen(ctx, "k", clk.Now().Add(10*time.Second)); seen {
		t.Fatal("seen")
	}
	if seen, _ := c.Seen(ctx, "k", clk.Now().Add(10*time.Second)); !seen {
		t.Fatal("not seen")
	}
	clk.Advance(11 * time.Second)
	mr.FastForward(11 * time.Second)
	if seen, _ := c.Seen(ctx, "k", clk.Now().Add(10*time.Second)); seen {
		t.Fatal("expired key still seen")
	}
	// Redis down: an error, which the verifier turns into a refusal.
	mr.Close()
	if _, err := c.Seen(ctx, "k2", clk.Now().Add(time.Second)); err == nil {
		t.Fatal("no error with Redis down")
	}
}

func TestOpen(t *testing.T) {
	c, closeFn, err := dpopcache.Open(t.Context(), "", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if _, ok := c.(*dpop.MemoryReplayCache); !ok {
		t.Fatalf("Open(\"\") = %T", c)
	}
	if _, _, err := dpopcache.Open(t.Context(), "http://x", nil, 0); err == nil {
		t.Fatal("bad scheme accepted")
	}
	if u := os.Getenv(redistest.EnvURL); u != "" {
		c, closeFn, err := dpopcache.Open(t.Context(), u, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		if _, ok := c.(*dpopcache.Redis); !ok {
			t.Fatalf("Open(redis) = %T", c)
		}
	}
}

func newSigner(t *testing.T, clk *clocktest.Fake) *dpop.Signer {
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(k, dpop.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
