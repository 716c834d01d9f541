package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pubdoc/pubdoc/diagnose/learn"
)

// Reader reads what the store learned — cases, unknown groups, rule precision — from
// the database a running pubdoc serve uses, without taking it over: it neither takes the
// data directory's lock (a SQLite file is opened read-only beside the server, which WAL
// mode allows) nor runs jobs or migrations. The kb commands of the CLI use it.
type Reader struct {
	cfg    Config
	driver string
	db     backend
}

// OpenReader opens the database cfg names for reading. It fails when there is no
// database there, or one from before the learning tables (store schema 3).
func OpenReader(ctx context.Context, cfg Config) (*Reader, error) {
	cfg = cfg.withDefaults()
	r := &Reader{cfg: cfg}
	if cfg.DatabaseURL != "" {
		pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
		where := describeURL(cfg.DatabaseURL)
		if err != nil {
			return nil, scrub(fmt.Errorf("parsing the database URL %s: %w", where, err), cfg.DatabaseURL)
		}
		pcfg.MaxConns = 2
		// Every transaction of these sessions is read-only, whatever a query says.
		pcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err == nil {
			err = pool.Ping(ctx)
			if err != nil {
				pool.Close()
			}
		}
		if err != nil {
			return nil, scrub(fmt.Errorf("connecting to PostgreSQL at %s: %w", where, err), cfg.DatabaseURL)
		}
		r.driver, r.db = DriverPostgres, pgDB{pool: pool}
	} else {
		path := filepath.Join(filepath.Clean(cfg.DataDir), dbFileName)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no Pubdoc database at %s (has pubdoc serve run with PUBDOC_DATA_DIR=%s?): %w", path, cfg.DataDir, err)
		}
		// mode=ro: never write, whatever a query says; the busy timeout waits out the
		// server's checkpoints.
		dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"}).String()
		db, err := sql.Open("sqlite", dsn)
		if err == nil {
			err = db.PingContext(ctx)
			if err != nil {
				_ = db.Close()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("opening %s read-only: %w", path, err)
		}
		db.SetMaxOpenConns(1)
		r.driver, r.db = DriverSQLite, sqliteDB{db: db}
	}
	var n int64
	err := r.db.q().queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_schema WHERE version = 3`).Scan(&n)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("reading the store's schema version (is this a Pubdoc database?): %w", r.scrubbed(err))
	}
	if n == 0 {
		r.Close()
		return nil, errNoLearning
	}
	return r, nil
}

// Driver reports which database is read: "sqlite" or "postgres".
func (r *Reader) Driver() string { return r.driver }

// Close closes the database.
func (r *Reader) Close() {
	if r.db != nil {
		r.db.close()
	}
}

func (r *Reader) scrubbed(err error) error {
	if r.cfg.DatabaseURL == "" {
		return err
	}
	return scrub(err, r.cfg.DatabaseURL)
}

func (r *Reader) learning() learning { return learning{q: r.db.q(), scrub: r.scrubbed} }

// Cases is Store.Cases.
func (r *Reader) Cases(ctx context.Context, since time.Time) ([]learn.Case, error) {
	return r.learning().cases(ctx, since)
}

// UnknownGroups is Store.UnknownGroups.
func (r *Reader) UnknownGroups(ctx context.Context, since time.Time, limit int) ([]learn.Group, error) {
	return r.learning().groups(ctx, since, limit, "")
}

// UnknownGroup is Store.UnknownGroup.
func (r *Reader) UnknownGroup(ctx context.Context, id string, since time.Time) (learn.Group, error) {
	return r.learning().group(ctx, id, since)
}

// RulePrecision is Store.RulePrecision.
func (r *Reader) RulePrecision(ctx context.Context, since time.Time) ([]learn.Precision, error) {
	return r.learning().precision(ctx, since)
}
