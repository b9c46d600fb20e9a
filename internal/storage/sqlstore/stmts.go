package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps one prepared *sql.Stmt per pool and query, for drivers
// that do not cache prepared statements themselves (modernc.org/sqlite
// parses every query again otherwise). database/sql prepares a Stmt on
// each connection the first time it runs there and reuses it afterwards,
// also inside transactions on that connection.
//
// Preparing a Stmt on a pool needs a free connection, which a transaction
// on the one-connection SQLite write pool never has; so statements used in
// transactions are prepared up front (see txQueries) and a transaction
// that meets an unprepared query runs it unprepared.
type stmtCache struct {
	mu sync.Mutex
	m  sync.Map // stmtKey → *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	if st, ok := c.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m.Store(k, st)
	return st, nil
}

// lookup returns the statement if it was prepared already.
func (c *stmtCache) lookup(db *sql.DB, query string) (*sql.Stmt, bool) {
	st, ok := c.m.Load(stmtKey{db, query})
	if !ok {
		return nil, false
	}
	return st.(*sql.Stmt), true
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	c.m.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		c.m.Delete(k)
		return true
	})
	return errors.Join(errs...)
}

// errRow is a row that fails to scan with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// readRow runs a single-row query on the read pool.
func (s *Store) readRow(ctx context.Context, query string, args ...any) rowScanner {
	if !s.d.PrepareStatements {
		return s.r.QueryRowContext(ctx, query, args...)
	}
	st, err := s.stmts.get(ctx, s.r, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// exec runs a single write statement outside a transaction.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if !s.d.PrepareStatements {
		return s.w.ExecContext(ctx, query, args...)
	}
	st, err := s.stmts.get(ctx, s.w, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// txRow runs a single-row query in tx, prepared if it was prepared up front.
func (s *Store) txRow(ctx context.Context, tx *sql.Tx, query string, args ...any) rowScanner {
	if st, ok := s.stmts.lookup(s.w, query); ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// txExec runs a write statement in tx, prepared if it was prepared up front.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.stmts.lookup(s.w, query); ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// prepareTxQueries prepares the statements the updaters run inside
// transactions.
func (s *Store) prepareTxQueries(ctx context.Context) error {
	for _, t := range []table{clients, users, authCodes, deviceCodes, pushedRequests, grants, refreshTokens, signingKeys} {
		for _, q := range []string{t.byKey + s.d.ForUpdate, t.update} {
			if _, err := s.stmts.get(ctx, s.w, q); err != nil {
				return err
			}
		}
	}
	for _, q := range []string{
		selectTokenAndGrant + s.d.ForUpdate, markRotated, refreshTokens.insert,
		revokeGrant, revokeGrantTokens,
	} {
		if _, err := s.stmts.get(ctx, s.w, q); err != nil {
			return err
		}
	}
	return nil
}
