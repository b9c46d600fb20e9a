// Package sqlite is the embedded storage backend: a single SQLite file in
// WAL mode through the pure-Go modernc.org/sqlite driver.
//
// All writes go through one connection whose transactions start with BEGIN
// IMMEDIATE, so writers queue in the connection pool instead of failing
// with SQLITE_BUSY, and an updater holds the write lock from the moment it
// reads the row. Reads use a separate pool and never wait for writers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for another process's lock.
const busyTimeout = 10 * time.Second

// Store is a storage.Store on a SQLite database file.
type Store struct {
	*sqlstore.Store
}

// dialect is how SQLite differs from the shared queries.
var dialect = sqlstore.Dialect{
	Name: "sqlite",
	// BEGIN IMMEDIATE already holds the database's write lock.
	ForUpdate:         "",
	PrepareStatements: true,
	Checkpoint:        "PRAGMA wal_checkpoint(PASSIVE)",
	Time:              func(t time.Time) any { return t.UnixMicro() },
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

// Open opens (creating if needed) the SQLite database at path and brings
// its schema up to date. The path ":memory:" gives a private in-memory
// database served by a single connection.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if path == ":memory:" {
		db, err := sql.Open("sqlite", dsn("file::memory:", true, false))
		if err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return open(ctx, db, db)
	}
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	name := "file:" + escapePath(path)
	w, err := sql.Open("sqlite", dsn(name, true, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One writer: transactions queue for the connection instead of
	// fighting over the database lock.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", dsn(name, false, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, w, r)
}

// open migrates through w and wraps both pools.
func open(ctx context.Context, w, r *sql.DB) (*Store, error) {
	closeAll := func() {
		w.Close()
		if r != w {
			r.Close()
		}
	}
	if err := migrate(ctx, w); err != nil {
		closeAll()
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	s, err := sqlstore.New(ctx, dialect, w, r)
	if err != nil {
		closeAll()
		return nil, err
	}
	return &Store{s}, nil
}

func migrate(ctx context.Context, w *sql.DB) error {
	conn, err := firstConn(ctx, w)
	if err != nil {
		return err
	}
	defer conn.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Each migration runs in a BEGIN IMMEDIATE transaction, which
	// serialises processes migrating the same file.
	return sqlstore.Migrate(ctx, conn, sub)
}

// firstConn opens the first connection to the database. On a new file the
// connection's "PRAGMA journal_mode=WAL" needs a lock that SQLite does not
// wait for through busy_timeout, so processes opening a new database at the
// same moment (a server and an admin command, two replicas) can get
// SQLITE_BUSY here: retry for up to busyTimeout.
func firstConn(ctx context.Context, w *sql.DB) (*sql.Conn, error) {
	deadline := time.Now().Add(busyTimeout)
	for {
		conn, err := w.Conn(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY (primary result code 5).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == 5
}

// dsn builds a modernc.org/sqlite data source name for the URI name.
func dsn(name string, write, readOnly bool) string {
	params := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
	}
	if write {
		params = append(params, "_txlock=immediate")
	}
	if readOnly {
		params = append(params, "_pragma=query_only(1)")
	}
	return name + "?" + strings.Join(params, "&")
}

// escapePath quotes the characters that have a meaning in a SQLite URI
// filename.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// privateFiles makes sure the database at path is readable by its owner
// only, wherever it is: the directory is created 0700 if missing, the file
// is created 0600 before SQLite opens it, and an existing file, WAL or
// shared-memory file with group or other permissions is narrowed to 0600.
// SQLite creates the -wal and -shm files with the database file's mode, so
// they follow. The database holds password hashes, sealed keys and the
// hashes of live tokens.
func privateFiles(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("sqlite: create directory: %w", err)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700|0o600); err != nil {
				return fmt.Errorf("sqlite: make %s private: %w", p, err)
			}
		}
	}
	return nil
}
