package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pubdoc/pubdoc/bot"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go)
)

// Driver names reported by Store.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Defaults applied by Open to a Config's zero fields.
const (
	DefaultDataDir      = "./data"
	DefaultWorkers      = 4
	DefaultPollInterval = 100 * time.Millisecond
	DefaultJobTimeout   = 2 * time.Minute
	DefaultRescueAfter  = 3 * time.Minute
	DefaultMaxAttempts  = 10
)

// The SQLite file and the lock file inside Config.DataDir.
const (
	dbFileName   = "pubdoc.db"
	lockFileName = "pubdoc.lock"
)

// ErrNotFound is returned when the row asked for does not exist; it is the bot's
// bot.ErrNotFound, which the bot tests for.
var ErrNotFound = bot.ErrNotFound

// The store is the bot's persistence and job queue.
var _ bot.Store = (*Store)(nil)

// ErrDataDirInUse is returned by Open (wrapped) when another process holds DataDir.
var ErrDataDirInUse = errors.New("data directory in use")

// Config says where the store keeps its data and how its workers run.
type Config struct {
	// DataDir holds the SQLite file (DataDir/pubdoc.db) when DatabaseURL is empty. It is
	// created with mode 0700 when missing. Default "./data".
	DataDir string
	// DatabaseURL, when it starts with postgres:// or postgresql://, selects PostgreSQL.
	// It may carry a password: it is never logged.
	DatabaseURL string
	// Workers is how many jobs this process runs at once. Default 4.
	Workers int
	// PollInterval is how often idle workers look for new jobs. Default 100ms.
	PollInterval time.Duration
	// JobTimeout cancels a Handler's context after this long. Default 2m.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay 'running' before River assumes its process
	// died and runs it again (what PostgreSQL replicas rely on). It must exceed
	// JobTimeout. Default 3m.
	RescueAfter time.Duration
	// MaxAttempts is how many times a failing job runs before it is discarded. Default 10.
	MaxAttempts int

	// Unexported knobs for this package's tests; production uses the defaults.
	retryBase    time.Duration // first retry delay; default 1s
	retryCap     time.Duration // longest retry delay; default 5m
	closeWait    time.Duration // how long Close waits for cancelled jobs; default 5s
	hardStopWait time.Duration // how long Stop waits for cancelled jobs; default 10s
	riverTest    bool          // River's TestOnly: no staggered start of maintenance services
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = DefaultRescueAfter
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.retryBase <= 0 {
		c.retryBase = time.Second
	}
	if c.retryCap <= 0 {
		c.retryCap = 5 * time.Minute
	}
	if c.closeWait <= 0 {
		c.closeWait = 5 * time.Second
	}
	if c.hardStopWait <= 0 {
		c.hardStopWait = 10 * time.Second
	}
	return c
}

// Store is Pubdoc's database and job queue. Its methods are safe for concurrent use.
type Store struct {
	cfg    Config
	logger *slog.Logger
	driver string
	db     backend
	queue  jobQueue
	lock   *dirLock // SQLite only

	handler atomic.Pointer[Handler]

	mu      sync.Mutex // guards running and closed; held while starting and stopping
	running bool
	closed  bool
}

// Open connects to the database named by cfg, applies River's migrations and the
// store's own (idempotent; on PostgreSQL serialized by an advisory lock so replicas may
// start together) and prepares the job queue. With SQLite it first takes DataDir's lock,
// and then makes jobs left 'running' by a process that died available again.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if cfg.RescueAfter <= cfg.JobTimeout {
		return nil, fmt.Errorf("opening the store: RescueAfter (%s) must exceed JobTimeout (%s), or running jobs would be rescued while they run", cfg.RescueAfter, cfg.JobTimeout)
	}
	s := &Store{cfg: cfg, logger: logger}
	var err error
	if cfg.DatabaseURL != "" {
		err = s.openPostgres(ctx)
	} else {
		err = s.openSQLite(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// openSQLite locks DataDir and opens DataDir/pubdoc.db through one connection: SQLite
// has one writer anyway, and River's SQLite driver asks for a single connection so its
// concurrent internal queries never see SQLITE_BUSY.
func (s *Store) openSQLite(ctx context.Context) error {
	dir := filepath.Clean(s.cfg.DataDir)
	if strings.ContainsRune(dir, '?') {
		return fmt.Errorf("opening the store: data directory %q contains '?', which SQLite file names cannot", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	lock, err := lockDir(dir, filepath.Join(dir, lockFileName))
	if err != nil {
		return err
	}
	// synchronous(FULL): an accepted delivery must survive a power cut, not only a
	// crash of this process (NORMAL in WAL mode may lose the last commits).
	dsn := filepath.Join(dir, dbFileName) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.release()
		return fmt.Errorf("opening %s: %w", filepath.Join(dir, dbFileName), err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		lock.release()
		return fmt.Errorf("opening %s: %w", filepath.Join(dir, dbFileName), err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		s.logger.Warn("SQLite is not in WAL mode", "mode", mode, "err", err)
	}
	s.driver = DriverSQLite
	s.lock = lock
	s.db = sqliteDB{db: db}
	q, err := newRiverQueue(riversqlite.New(db), s.riverConfig())
	if err != nil {
		s.release()
		return fmt.Errorf("configuring the job queue: %w", err)
	}
	s.queue = q
	return nil
}

// openPostgres connects a pgx pool sized for the workers plus River's own services.
func (s *Store) openPostgres(ctx context.Context) error {
	raw := s.cfg.DatabaseURL
	scheme, _, _ := strings.Cut(raw, "://")
	if scheme != "postgres" && scheme != "postgresql" {
		return fmt.Errorf("opening the store: database URL scheme %q is not supported (want postgres:// or postgresql://)", scheme)
	}
	where := describeURL(raw)
	pcfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return scrub(fmt.Errorf("parsing the database URL %s: %w", where, err), raw)
	}
	if !strings.Contains(raw, "pool_max_conns") {
		pcfg.MaxConns = int32(min(s.cfg.Workers+8, 64))
	}
	if pcfg.MaxConns < 4 {
		// The migration lock holds one connection while the migrations use others, and
		// River keeps one listening: fewer would deadlock or starve the workers.
		s.logger.Warn("raising the database pool to 4 connections", "pool_max_conns", pcfg.MaxConns)
		pcfg.MaxConns = 4
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return scrub(fmt.Errorf("connecting to PostgreSQL at %s: %w", where, err), raw)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return scrub(fmt.Errorf("connecting to PostgreSQL at %s: %w", where, err), raw)
	}
	s.driver = DriverPostgres
	s.db = pgDB{pool: pool}
	q, err := newRiverQueue(riverpgxv5.New(pool), s.riverConfig())
	if err != nil {
		pool.Close()
		return fmt.Errorf("configuring the job queue: %w", err)
	}
	s.queue = q
	return nil
}

// prepare runs the migrations and the SQLite start-up repairs.
func (s *Store) prepare(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if s.driver == DriverSQLite {
		if err := s.resumeAbandoned(ctx); err != nil {
			return err
		}
	}
	if _, err := s.db.q().exec(ctx, `DELETE FROM pubdoc_deliveries WHERE created_at < $1`,
		time.Now().Add(-deliveryRetention).UnixMilli()); err != nil {
		return fmt.Errorf("pruning old delivery ids: %w", err)
	}
	where := s.cfg.DataDir
	if s.driver == DriverPostgres {
		where = describeURL(s.cfg.DatabaseURL)
	}
	s.logger.Info("store open", "driver", s.driver, "where", where, "workers", s.cfg.Workers,
		"poll_interval", s.cfg.PollInterval.String(), "job_timeout", s.cfg.JobTimeout.String(), "max_attempts", s.cfg.MaxAttempts)
	return nil
}

// Driver reports which database is in use: "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.ping(ctx); err != nil {
		return fmt.Errorf("pinging the %s database: %w", s.driver, s.scrubbed(err))
	}
	return nil
}

// Close stops the workers if Stop was not called (cancelling their jobs, which go back
// to the queue), closes the database and releases DataDir's lock. Call Stop first for a
// graceful drain. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.running {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.closeWait)
		err := s.queue.stopAndCancel(ctx)
		cancel()
		if err != nil {
			s.logger.Warn("closing with jobs that did not return; they run again at the next start",
				"err", err)
		}
		s.running = false
	}
	s.release()
	s.logger.Info("store closed", "driver", s.driver)
	return nil
}

// release closes the database and drops the directory lock.
func (s *Store) release() {
	if s.db != nil {
		s.db.close()
	}
	if s.lock != nil {
		s.lock.release()
	}
}

// scrubbed removes the database URL's password from err's text.
func (s *Store) scrubbed(err error) error {
	if s.cfg.DatabaseURL == "" {
		return err
	}
	return scrub(err, s.cfg.DatabaseURL)
}

// describeURL names a database for logs and errors without its password: host and
// database only.
func describeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(the configured database)"
	}
	return u.Host + u.Path
}

// scrubbedError hides a password in an error's text. It unwraps to the original only
// when that one's text does not quote the password either.
type scrubbedError struct {
	msg   string
	inner error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.inner }

// scrub returns err with every form of rawURL's password replaced by "xxxxx".
func scrub(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	secrets := passwords(rawURL)
	if len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	leaky := false
	for _, p := range secrets {
		if strings.Contains(msg, p) {
			leaky = true
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	if !leaky {
		return err
	}
	se := &scrubbedError{msg: msg}
	// Keep the chain (errors.Is on context errors, for example) only when nothing in it
	// prints the password.
	if inner := errors.Unwrap(err); inner != nil {
		clean := true
		for e := inner; e != nil; e = errors.Unwrap(e) {
			for _, p := range secrets {
				if strings.Contains(e.Error(), p) {
					clean = false
				}
			}
		}
		if clean {
			se.inner = inner
		}
	}
	return se
}

// passwords lists the forms a URL's password may take in text: as written and decoded.
func passwords(rawURL string) []string {
	var out []string
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		userinfo := rest[:i]
		if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
			out = append(out, pw)
			if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
				out = append(out, dec)
			}
		}
	}
	if u, err := url.Parse(rawURL); err == nil {
		if pw := u.Query().Get("password"); pw != "" {
			out = append(out, pw)
		}
	}
	return out
}
