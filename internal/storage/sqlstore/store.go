// Package sqlstore implements storage.Store on database/sql. It holds the
// queries both SQL backends share; the sqlite and postgres packages open
// the connections, own the schema migrations and describe their dialect.
//
// Queries use $N placeholders, which PostgreSQL and SQLite both accept.
// Updaters run in a transaction: on PostgreSQL the row is read with SELECT
// ... FOR UPDATE, on SQLite the transaction starts with BEGIN IMMEDIATE on
// the one write connection, so two callers never both see the same unused
// code or token.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// maxAttempts bounds how often a transaction is retried after a
// serialisation failure or deadlock that Dialect.IsRetryable reports.
const maxAttempts = 5

// Dialect describes how a database differs from the shared queries.
type Dialect struct {
	// Name prefixes error messages ("sqlite", "postgres").
	Name string
	// ForUpdate is appended to the SELECT of an updater: " FOR UPDATE" on
	// PostgreSQL, empty on SQLite where BEGIN IMMEDIATE already holds the
	// write lock.
	ForUpdate string
	// Time encodes a non-zero UTC time truncated to microseconds as a query
	// argument. Zero times are stored as NULL without calling it.
	Time func(t time.Time) any
	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint failure.
	IsUniqueViolation func(err error) bool
	// PrepareStatements makes the store keep prepared statements for
	// drivers that do not cache them (modernc.org/sqlite; pgx does).
	PrepareStatements bool
	// IsRetryable reports whether a transaction that failed with err may
	// simply be run again (serialisation failure, deadlock). May be nil.
	IsRetryable func(err error) bool
	// Checkpoint, when set, is run after a bulk delete to fold the
	// write-ahead log back into the database (SQLite:
	// "PRAGMA wal_checkpoint(PASSIVE)"), so the WAL does not grow.
	Checkpoint string
}

// Store implements storage.Store with the queries of this package.
type Store struct {
	d Dialect
	w *sql.DB // writes and transactions
	r *sql.DB // reads; may equal w

	stmts stmtCache
}

// New returns a Store that writes through w and reads through r, which may
// be the same pool; Close closes both. Call it on a migrated database: with
// Dialect.PrepareStatements it prepares statements right away.
func New(ctx context.Context, d Dialect, w, r *sql.DB) (*Store, error) {
	s := &Store{d: d, w: w, r: r}
	if d.PrepareStatements {
		if err := s.prepareTxQueries(ctx); err != nil {
			_ = s.stmts.close()
			return nil, fmt.Errorf("%s: prepare: %w", d.Name, err)
		}
	}
	return s, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	if s.w != s.r {
		if err := s.w.PingContext(ctx); err != nil {
			return fmt.Errorf("%s: ping: %w", s.d.Name, err)
		}
	}
	return nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	err := errors.Join(s.stmts.close(), s.w.Close())
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if err != nil {
		return fmt.Errorf("%s: close: %w", s.d.Name, err)
	}
	return nil
}

// inTx runs f in a write transaction and commits if f returns nil. It
// returns f's error unchanged and retries the whole transaction when the
// dialect calls the failure retryable.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, f)
		if err == nil || s.d.IsRetryable == nil || attempt == maxAttempts || !s.d.IsRetryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
	}
}

func (s *Store) tryTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback() // the error from f is what matters
		return err
	}
	return tx.Commit()
}

// insert runs an INSERT and maps a duplicate key to storage.ErrAlreadyExists.
func (s *Store) insert(ctx context.Context, what, query string, args ...any) error {
	if _, err := s.exec(ctx, query, args...); err != nil {
		return s.wrap("create "+what, s.mapErr(err))
	}
	return nil
}

// mapErr turns driver errors into the storage sentinels where one applies.
func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case s.d.IsUniqueViolation(err):
		return fmt.Errorf("%w: %w", storage.ErrAlreadyExists, err)
	}
	return err
}

// wrap adds the backend name and operation to err.
func (s *Store) wrap(op string, err error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name, op, err)
}

// time encodes t for a query argument: NULL for the zero time, else the
// dialect's encoding of t in UTC truncated to microseconds.
func (s *Store) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.Time(t.UTC().Truncate(time.Microsecond))
}

// affected returns storage.ErrNotFound when a statement changed no row.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// update is the updater shared by the Update* methods: in one write
// transaction it loads the row of t whose key column equals key (locked
// for update), calls fn with it and, if fn returns nil, writes it back with
// save. fn's error is returned unchanged; others are wrapped with op.
func update[T any](ctx context.Context, s *Store, op string, t table, key string,
	scan func(rowScanner) (*T, error), fn func(*T) error, save func(tx *sql.Tx, v *T) error,
) error {
	fnFailed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		fnFailed = false
		v, err := scan(s.txRow(ctx, tx, t.byKey+s.d.ForUpdate, key))
		if err != nil {
			return s.mapErr(err)
		}
		if err := fn(v); err != nil {
			fnFailed = true
			return err
		}
		return s.mapErr(save(tx, v))
	})
	if err != nil && !fnFailed {
		return s.wrap(op, err)
	}
	return err
}

var _ storage.Store = (*Store)(nil)
