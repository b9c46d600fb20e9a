package audit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

// BenchmarkRecordSQLite measures group commit: 32 callers each waiting for
// their event's commit on SQLite.
func BenchmarkRecordSQLite(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "gatehouse.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l := NewWithStore(nil, st, clock.System)
	defer l.Close()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Record(context.Background(), Event{Type: TokenIssued, ClientID: "bench"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
