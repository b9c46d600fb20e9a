package storagetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

// Opener opens an empty store for a test, closed when it ends.
type Opener func(t testing.TB) storage.Store

// OpenSQLite opens a new SQLite database in the test's temporary
// directory.
func OpenSQLite(t testing.TB) storage.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenPostgres opens a store in a schema of the test's own on the
// PostgreSQL of GATEHOUSE_TEST_POSTGRES_DSN, dropped when the test ends,
// or skips.
func OpenPostgres(t testing.TB) storage.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OnEachBackend runs test on SQLite, and on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES_DSN is set (skipped otherwise).
func OnEachBackend(t *testing.T, test func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) { test(t, OpenSQLite) })
	t.Run("postgres", func(t *testing.T) {
		if !pgtest.Enabled() {
			t.Skip(pgtest.EnvDSN + " not set")
		}
		test(t, OpenPostgres)
	})
}
