package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

const dsnEnv = "GATEHOUSE_TEST_POSTGRES_DSN"

// freshSchema creates an empty schema, drops it when tb ends, and returns
// a DSN whose search_path points at it. Commits through that DSN do not
// wait for the disk, which speeds up tests without changing locking.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	return withParams(tb, newSchema(tb), map[string]string{"synchronous_commit": "off"})
}

// newSchema is freshSchema with the server's default durability.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("%s not set", dsnEnv)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "gatehouse_test_" + hex.EncodeToString(b)

	admin, err := sql.Open("pgx", withParams(tb, dsn, map[string]string{"synchronous_commit": "off"}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	return withParams(tb, dsn, map[string]string{"search_path": schema})
}

// withParams adds run-time parameters to a URL or key=value DSN.
func withParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	if !strings.Contains(dsn, "://") {
		for k, v := range params {
			dsn += " " + k + "=" + v
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", dsnEnv, err)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

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
