package ratelimit_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit/ratelimittest"
)

var _ ratelimit.Limiter = (*ratelimit.Memory)(nil)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter {
		return ratelimit.NewMemory(clk, 1000)
	})
}

func TestMemorySmallMaxKeys(t *testing.T) {
	// A small bound is one shard; the suite uses fewer keys than that.
	ratelimittest.Run(t, func(t *testing.T, clk *clocktest.Fake) ratelimit.Limiter {
		return ratelimit.NewMemory(clk, 20)
	})
}

func TestMemoryMaxKeysBound(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	ctx := context.Background()
	for _, maxKeys := range []int{1, 7, 1000, 20_000} {
		m := ratelimit.NewMemory(clk, maxKeys)
		lim := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
		for i := range 100_000 {
			if _, err := m.Allow(ctx, rand.Text(), lim); err != nil {
				t.Fatal(err)
			}
			if i%10_000 == 0 && m.Len() > maxKeys {
				t.Fatalf("maxKeys %d: %d keys after %d random keys", maxKeys, m.Len(), i+1)
			}
		}
		if n := m.Len(); n > maxKeys || n < maxKeys*9/10 {
			t.Errorf("maxKeys %d: %d keys after 100k random keys, want at most %[1]d and nearly full", maxKeys, n)
		}
	}
}

func TestMemoryHotKeySurvivesFlood(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	ctx := context.Background()
	m := ratelimit.NewMemory(clk, 1000)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	m.Allow(ctx, "victim", lim)
	for i := range 20_000 {
		m.Allow(ctx, rand.Text(), lim)
		if i%5 == 0 {
			if r, _ := m.Allow(ctx, "victim", lim); r.Allowed {
				t.Fatalf("victim's limit reset by a flood of random keys after %d keys", i+1)
			}
		}
	}
}

func TestMemoryEvictedKeyStartsFresh(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	ctx := context.Background()
	m := ratelimit.NewMemory(clk, 1) // one shard of one key
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	m.Allow(ctx, "a", lim)
	m.Allow(ctx, "b", lim) // evicts a
	if m.Len() != 1 {
		t.Fatalf("Len %d, want 1", m.Len())
	}
	if r, _ := m.Allow(ctx, "a", lim); !r.Allowed {
		t.Errorf("evicted key still limited: %+v", r)
	}
}

func TestMemoryReset(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	ctx := context.Background()
	m := ratelimit.NewMemory(clk, 100)
	lim := ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 1}
	m.Allow(ctx, "a", lim)
	m.Allow(ctx, "b", lim)
	if r, _ := m.Allow(ctx, "a", lim); r.Allowed {
		t.Fatal("a allowed twice")
	}
	if err := m.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(ctx, "never-seen"); err != nil {
		t.Fatal(err)
	}
	if r, _ := m.Allow(ctx, "a", lim); !r.Allowed {
		t.Errorf("a limited after Reset: %+v", r)
	}
	if r, _ := m.Allow(ctx, "b", lim); r.Allowed {
		t.Error("Reset of a also reset b")
	}
}

func TestMemoryTinyInterval(t *testing.T) {
	// More events per Per than nanoseconds in Per: the interval is clamped
	// to 1ns instead of dividing to zero.
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	m := ratelimit.NewMemory(clk, 10)
	lim := ratelimit.Limit{Rate: 1_000_000, Per: time.Microsecond, Burst: 2}
	ctx := context.Background()
	a, _ := m.Allow(ctx, "k", lim)
	b, _ := m.Allow(ctx, "k", lim)
	c, _ := m.Allow(ctx, "k", lim)
	if !a.Allowed || !b.Allowed || c.Allowed || c.RetryAfter != time.Nanosecond {
		t.Errorf("got %+v %+v %+v", a, b, c)
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := ratelimit.NewMemory(clock.System, ratelimit.DefaultMaxKeys)
	lim := ratelimit.Limit{Rate: 20000, Per: time.Second, Burst: 20000}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("token:client:%d", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Allow(ctx, keys[i%len(keys)], lim); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
