package session_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session/sessiontest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

func openSQLite(t *testing.T) storage.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens a store in a fresh schema of the database at
// GATEHOUSE_TEST_POSTGRES_DSN (a URL) and drops the schema when t ends,
// or skips t.
func openPostgres(t *testing.T) storage.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSQLConformance(t *testing.T) {
	for name, open := range map[string]func(*testing.T) storage.Store{
		"sqlite": openSQLite, "postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			sessiontest.Run(t, func(t *testing.T, clk *clocktest.Fake) session.Store {
				return session.NewSQL(open(t), clk)
			})
		})
	}
}

// TestSQLSharedAndSwept: two gateway processes on one database see each
// other's sessions, and the database's DeleteExpired removes expired
// ones.
func TestSQLSharedAndSwept(t *testing.T) {
	ctx := t.Context()
	clk := start()
	st := openSQLite(t)
	a, b := session.NewSQL(st, clk), session.NewSQL(st, clk)
	short := newSession(clk, "short", "alice", time.Hour)
	long := newSession(clk, "long", "alice", 2*time.Hour)
	for _, s := range []*session.Session{short, long} {
		if err := a.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Get(ctx, short.ID); err != nil {
		t.Fatalf("other process: %v", err)
	}
	clk.Advance(90 * time.Minute)
	n, err := st.DeleteExpired(ctx, clk.Now())
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1 row", n, err)
	}
	if _, err := st.GetProxySession(ctx, short.ID); err == nil {
		t.Error("expired session still in the database")
	}
	if _, err := b.Get(ctx, long.ID); err != nil {
		t.Errorf("live session: %v", err)
	}
}
