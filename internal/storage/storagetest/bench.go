package storagetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// benchParallelism times GOMAXPROCS goroutines stand for the concurrent
// requests of a busy token endpoint.
const benchParallelism = 8

// BenchmarkRotateRefreshToken measures RotateRefreshToken on s the way the
// token endpoint uses it: concurrent goroutines, each rotating its own chain
// of tokens of its own grant. ns/op is wall time per rotation, so 1e9/ns/op
// is rotations per second. The caller provides a fresh store.
func BenchmarkRotateRefreshToken(b *testing.B, s storage.Store) {
	ctx := b.Context()
	var chains atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		chain := chains.Add(1)
		g := newGrant(fmt.Sprintf("bench-%d", chain), "app", "u1")
		if err := s.CreateGrant(ctx, g); err != nil {
			b.Error(err)
			return
		}
		cur := newRefreshToken(fmt.Sprintf("bench-%d-0", chain), g)
		if err := s.CreateRefreshToken(ctx, cur); err != nil {
			b.Error(err)
			return
		}
		for n := 1; pb.Next(); n++ {
			next := newRefreshToken(fmt.Sprintf("bench-%d-%d", chain, n), g)
			err := s.RotateRefreshToken(ctx, cur.Hash, func(old *storage.RefreshToken, g *storage.Grant) (*storage.RefreshToken, error) {
				if old.Rotated || old.Revoked || g.Revoked {
					return nil, fmt.Errorf("token %s unusable", old.Hash)
				}
				return next, nil
			})
			if err != nil {
				b.Error(err)
				return
			}
			cur = next
		}
	})
}
