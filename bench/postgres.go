package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// isPostgresDSN reports whether dsn names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a key=value string with a host.
func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") ||
		strings.Contains(dsn, "host=")
}

// freshSchema creates an empty schema in the database at dsn and returns a
// DSN whose search_path selects it, and a function that drops it again.
// The name is random, the schema is created (never adopted) and checked
// empty, and only that schema is dropped: the benchmark never touches the
// tables of an existing schema.
func freshSchema(ctx context.Context, dsn string) (string, func(context.Context) error, error) {
	schema := "gatehouse_bench_" + strings.ToLower(randomHex(8))
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: open: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	// CREATE SCHEMA without IF NOT EXISTS fails rather than adopt an
	// existing schema; and a schema that holds tables the moment after is
	// not used (nor dropped): only an empty schema this run made is.
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables); err != nil || tables != 0 {
		db.Close()
		return "", nil, fmt.Errorf("postgres: schema %s is not empty (%d tables, %v): not using it", schema, tables, err)
	}
	drop := func(ctx context.Context) error {
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("postgres: drop schema %s: %w", schema, err)
		}
		return nil
	}
	withPath, err := withSearchPath(dsn, schema)
	if err != nil {
		drop(ctx)
		return "", nil, err
	}
	return withPath, drop, nil
}

// withSearchPath adds search_path=schema to a URL or key=value DSN.
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("postgres: parse DSN: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
