package e2e

import (
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"os"
	"testing"

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
	db := freshSchemaDSN(t)
	g := startServer(t, "--db", db)
	t.Run("client credentials", func(t *testing.T) { checkClientCredentials(t, g) })
	t.Run("authorization code", func(t *testing.T) { checkAuthCodeFlow(t, g) })
}

// freshSchemaDSN is a DSN whose search_path is a new, empty schema of the
// test's own (pgtest.NewSchema), dropped when the test ends — after the
// servers started later have been stopped.
func freshSchemaDSN(t *testing.T) string {
	t.Helper()
	return pgtest.NewSchema(t)
}
