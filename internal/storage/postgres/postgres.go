// Package postgres is the storage backend for deployments that outgrow one
// machine: PostgreSQL through database/sql and the pgx driver.
//
// Updaters run in READ COMMITTED transactions that read the row with
// SELECT ... FOR UPDATE; a deadlock or serialisation failure reruns the
// transaction. The schema is migrated on Open under an advisory lock, so
// several replicas may start together.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the first key of the advisory lock held while
// migrating; the second is a hash of the current schema, so replicas of
// one deployment serialise while separate schemas do not wait on each
// other. 0x67617465 is "gate".
const migrationLock = 0x67617465

// Pool sizes for a small (2-core) server: enough connections to overlap
// network and commit latency, few enough not to thrash PostgreSQL.
const (
	maxOpenConns    = 16
	maxIdleConns    = 16
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// Store is a storage.Store on a PostgreSQL database.
type Store struct {
	*sqlstore.Store
}

// PostgreSQL error codes (SQLSTATE) the store reacts to.
const (
	uniqueViolation      = "23505"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var dialect = sqlstore.Dialect{
	Name:      "postgres",
	ForUpdate: " FOR UPDATE",
	Time:      func(t time.Time) any { return t },
	IsUniqueViolation: func(err error) bool {
		return sqlState(err) == uniqueViolation
	},
	IsRetryable: func(err error) bool {
		c := sqlState(err)
		return c == serializationFailure || c == deadlockDetected
	},
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string; a search_path parameter selects the schema) and brings
// its schema up to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s, err := sqlstore.New(ctx, dialect, db, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{s}, nil
}

// migrate applies the embedded migrations while holding the advisory lock
// on one connection.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	const key2 = "hashtext(coalesce(current_schema(), ''))"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1, "+key2+")", migrationLock); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() {
		// Unlock with a fresh context so a cancelled ctx cannot leave the
		// lock held on a pooled connection.
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, "+key2+")", migrationLock); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unlock: %w", uerr))
			// Drop the connection: closing the session releases the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, conn, sub)
}
