// Package pgtest gives tests a PostgreSQL schema of their own on the
// server named by GATEHOUSE_TEST_POSTGRES_DSN: created empty, dropped when
// the test ends, never anything else touched.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// EnvDSN names the variable with the test server's DSN.
const EnvDSN = "GATEHOUSE_TEST_POSTGRES_DSN"

// Enabled reports whether PostgreSQL tests can run.
func Enabled() bool { return os.Getenv(EnvDSN) != "" }

// FreshSchema creates an empty schema, drops it when tb ends, and returns a
// DSN whose search_path is that schema; commits through it do not wait for
// the disk (synchronous_commit off), which speeds tests up without changing
// locking. It skips tb without EnvDSN.
func FreshSchema(tb testing.TB) string {
	tb.Helper()
	return WithParams(tb, NewSchema(tb), map[string]string{"synchronous_commit": "off"})
}

// NewSchema is FreshSchema with the server's default durability (for
// benchmarks and for servers the tests start).
//
// It is the one place tests make and drop PostgreSQL schemas: the name is
// random, CREATE SCHEMA (without IF NOT EXISTS) fails rather than adopt a
// schema that exists, the new schema is checked to hold no table, and only
// a schema this call created is dropped.
func NewSchema(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		tb.Skipf("%s not set", EnvDSN)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "gatehouse_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	var tables int
	if err := admin.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables); err != nil || tables != 0 {
		tb.Fatalf("schema %s is not empty (%d tables, %v): not using it", schema, tables, err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParams(tb, dsn, map[string]string{"search_path": schema})
}

// WithParams adds run-time parameters to a URL or key=value DSN.
func WithParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	if !strings.Contains(dsn, "://") {
		for k, v := range params {
			dsn += " " + k + "=" + v
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDSN, err)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
