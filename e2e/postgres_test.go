package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// TestPostgres runs the client credentials and authorization code flows
// against a server on PostgreSQL (--db), in a fresh schema selected with
// search_path. It needs GATEHOUSE_TEST_POSTGRES_DSN.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN is not set")
	}
	t.Parallel()
	db := freshSchemaDSN(t, dsn)
	g := startServer(t, "--db", db)
	t.Run("client credentials", func(t *testing.T) { checkClientCredentials(t, g) })
	t.Run("authorization code", func(t *testing.T) { checkAuthCodeFlow(t, g) })
}

// freshSchemaDSN creates an empty schema, drops it when the test ends
// (after the server, which is started later, has been stopped), and
// returns dsn with search_path set to it.
func freshSchemaDSN(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("GATEHOUSE_TEST_POSTGRES_DSN must be a postgres:// URL, got %q", dsn)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	schema := "gatehouse_e2e_" + strings.ToLower(rand.Text()[:12])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
