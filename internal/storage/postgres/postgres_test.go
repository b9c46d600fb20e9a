package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// freshSchema and newSchema are pgtest's: a schema of the test's own on
// the server of GATEHOUSE_TEST_POSTGRES_DSN, dropped at the end.
var (
	freshSchema = pgtest.FreshSchema
	newSchema   = pgtest.NewSchema
)

func openFresh(tb testing.TB) *postgres.Store {
	tb.Helper()
	return openDSN(tb, freshSchema(tb))
}

func openDSN(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after the schema's cleanup, so it runs before the drop.
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openFresh(t) })
}

// TestMigrationsInSchema checks that the tables land in the schema named by
// search_path.
func TestMigrationsInSchema(t *testing.T) {
	dsn := freshSchema(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT COUNT(*) FROM information_schema.tables
WHERE table_schema = current_schema() AND table_name IN ('schema_migrations', 'refresh_tokens')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("found %d of 2 tables in the test schema", n)
	}
}

// TestConcurrentOpen starts several stores on one fresh schema at once, as
// replicas do: the advisory lock must let every Open succeed.
func TestConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t)
	const replicas = 4
	errs := make(chan error, replicas)
	start := make(chan struct{})
	for range replicas {
		go func() {
			<-start
			s, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	close(start)
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
	}
	// And the schema works afterwards.
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateClient(t.Context(), &storage.Client{ID: "app"}); err != nil {
		t.Error(err)
	}
}

// BenchmarkRotateRefreshToken runs with durable commits, as in production.
func BenchmarkRotateRefreshToken(b *testing.B) {
	storagetest.BenchmarkRotateRefreshToken(b, openDSN(b, newSchema(b)))
}
