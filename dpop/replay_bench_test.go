package dpop_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/cputime"
)

// fullReplayCache returns a MemoryReplayCache of the default capacity,
// full of unexpired proofs: the state of a server that takes more than
// DefaultReplayCapacity proofs per iat window.
func fullReplayCache(b *testing.B) (*dpop.MemoryReplayCache, *clocktest.Fake) {
	clk := clocktest.New(t0)
	c := dpop.NewMemoryReplayCache(0, clk)
	for i := range dpop.DefaultReplayCapacity {
		if seen, _ := c.Seen(ctx, "fill-"+strconv.Itoa(i), t0.Add(time.Minute+time.Duration(i))); seen {
			b.Fatal("seen")
		}
	}
	return c, clk
}

// BenchmarkReplayCacheFull records new proofs in a full cache: each
// drops the entry closest to expiry.
func BenchmarkReplayCacheFull(b *testing.B) {
	c, _ := fullReplayCache(b)
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "new-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := range b.N {
		if seen, _ := c.Seen(ctx, keys[i], t0.Add(2*time.Minute)); seen {
			b.Fatal("seen")
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkReplayCacheGC is one garbage collection with a full cache
// live: what the cache adds to every collection cycle of a busy server.
func BenchmarkReplayCacheGC(b *testing.B) {
	c, _ := fullReplayCache(b)
	runtime.GC()
	b.ResetTimer()
	cpu := cputime.Process()
	for range b.N {
		runtime.GC()
	}
	cputime.Report(b, cpu)
	runtime.KeepAlive(c)
}
