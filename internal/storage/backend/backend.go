// Package backend chooses and opens the server's storage backend from a
// database URL: postgres:// or postgresql:// for PostgreSQL, sqlite:PATH,
// sqlite://PATH or a plain file path for SQLite, and nothing at all for a
// SQLite file in the data directory.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

// DefaultFile is the SQLite file created in the data directory when no
// database URL is given.
const DefaultFile = "gatehouse.db"

// supported lists the accepted URL forms for error messages.
const supported = "postgres://, postgresql://, sqlite:PATH, sqlite://PATH or a file path"

// Open opens the store named by dbURL and returns it with a description
// fit for logs ("sqlite ./gatehouse-data/gatehouse.db", "postgres
// db.example:5432/gatehouse"), which never contains a password. An empty
// dbURL means the SQLite file DefaultFile in dataDir, which is created
// (mode 0700) if missing.
func Open(ctx context.Context, dbURL, dataDir string) (storage.Store, string, error) {
	switch {
	case dbURL == "":
		if dataDir == "" {
			return nil, "", errors.New("backend: no database URL and no data directory")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("backend: create data directory: %w", err)
		}
		return openSQLite(ctx, displayPath(filepath.Join(dataDir, DefaultFile)))
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		s, err := postgres.Open(ctx, dbURL)
		if err != nil {
			return nil, "", err
		}
		return s, describePostgres(dbURL), nil
	case strings.HasPrefix(dbURL, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(dbURL, "sqlite://"))
	case strings.HasPrefix(dbURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dbURL, "sqlite:"))
	case strings.Contains(dbURL, "://"):
		scheme, _, _ := strings.Cut(dbURL, "://")
		return nil, "", fmt.Errorf("backend: unsupported database URL scheme %q; use %s", scheme, supported)
	default:
		return openSQLite(ctx, dbURL)
	}
}

func openSQLite(ctx context.Context, path string) (storage.Store, string, error) {
	if path == "" {
		return nil, "", fmt.Errorf("backend: sqlite URL without a path; use %s", supported)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", err
	}
	return s, "sqlite " + path, nil
}

// displayPath makes a relative path visibly relative: "./data/x.db".
func displayPath(p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, ".") {
		return p
	}
	return "." + string(filepath.Separator) + p
}

// describePostgres names the server and database of a PostgreSQL URL
// without its user, password or parameters.
func describePostgres(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		return "postgres"
	}
	return "postgres " + u.Host + u.EscapedPath()
}
