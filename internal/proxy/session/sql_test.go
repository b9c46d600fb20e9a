package session_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session/sessiontest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

var (
	openSQLite   = storagetest.OpenSQLite
	openPostgres = storagetest.OpenPostgres
)

func TestSQLConformance(t *testing.T) {
	for name, open := range map[string]storagetest.Opener{
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
