package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier runs the store's SQL on a pool or inside a transaction, on either database.
// Queries use $1-style placeholders; the SQLite side rebinds them.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (rowsAffected int64, err error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
}

// rows is what both database/sql and pgx result sets offer.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// row is one result row; Scan returns an error matching sql.ErrNoRows when there is none.
type row interface {
	Scan(dest ...any) error
}

// backend is one database: its pool, its transactions and the raw transaction River's
// InsertTx wants.
type backend interface {
	q() querier
	// inTx runs fn in a transaction, committing when it returns nil. rawTx is the
	// driver's own transaction (*sql.Tx or pgx.Tx) for River.
	inTx(ctx context.Context, fn func(q querier, rawTx any) error) error
	ping(ctx context.Context) error
	// lockMigrations serializes migrations between processes; call the func to unlock.
	lockMigrations(ctx context.Context) (unlock func(), err error)
	close()
}

// errNoRows tells whether err means "no row" on either driver (pgx.ErrNoRows matches
// sql.ErrNoRows).
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// --- SQLite through database/sql ---

type sqliteDB struct{ db *sql.DB }

func (d sqliteDB) q() querier { return sqliteQ{r: d.db} }

func (d sqliteDB) inTx(ctx context.Context, fn func(q querier, rawTx any) error) error {
	// The DSN's _txlock=immediate makes this BEGIN IMMEDIATE: the write lock is taken
	// up front, so read-then-write sequences are serialized.
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	if err := fn(sqliteQ{r: tx}, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

func (d sqliteDB) ping(ctx context.Context) error { return d.db.PingContext(ctx) }
func (d sqliteDB) close()                         { _ = d.db.Close() }

// sqlRunner is what *sql.DB and *sql.Tx share.
type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type sqliteQ struct{ r sqlRunner }

func (q sqliteQ) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.r.ExecContext(ctx, rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqliteQ) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := q.r.QueryContext(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (q sqliteQ) queryRow(ctx context.Context, query string, args ...any) row {
	return q.r.QueryRowContext(ctx, rebind(query), args...)
}

// sqlRows adapts *sql.Rows's Close to the rows interface.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// rebind turns $N placeholders into SQLite's positional ?N. (SQLite reads $1 as a named
// parameter, numbered by first appearance, so "$2 … $1" would bind the wrong values.)
// The store's SQL has no '$' inside string literals.
func rebind(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// --- PostgreSQL through pgx ---

type pgDB struct{ pool *pgxpool.Pool }

func (d pgDB) q() querier { return pgQ{r: d.pool} }

func (d pgDB) inTx(ctx context.Context, fn func(q querier, rawTx any) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	if err := fn(pgQ{r: tx}, tx); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = tx.Rollback(rctx)
		cancel()
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

func (d pgDB) ping(ctx context.Context) error { return d.pool.Ping(ctx) }
func (d pgDB) close()                         { d.pool.Close() }

// pgxRunner is what *pgxpool.Pool and pgx.Tx share.
type pgxRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgQ struct{ r pgxRunner }

func (q pgQ) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQ) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := q.r.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (q pgQ) queryRow(ctx context.Context, query string, args ...any) row {
	return q.r.QueryRow(ctx, query, args...)
}

// --- times as stored ---

// ms stores a time as unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS reads a stored time; 0 is the zero time. Times come back in UTC.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
