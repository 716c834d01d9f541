package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The behaviour tests run against real databases: SQLite in a temporary directory, and
// PostgreSQL when PUBDOC_TEST_DATABASE_URL names a server (a superuser URL such as
// postgres://pubdoc:pubdoc@127.0.0.1:5432/postgres?sslmode=disable). Each test gets a
// database of its own, created and dropped around it. Without the URL the PostgreSQL
// cases skip, unless PUBDOC_REQUIRE_POSTGRES=1 makes that a failure.

const (
	envPGURL     = "PUBDOC_TEST_DATABASE_URL"
	envRequirePG = "PUBDOC_REQUIRE_POSTGRES"
)

// pgSlots bounds how many PostgreSQL-backed tests run at once, so that their pools stay
// under the server's default max_connections of 100.
var pgSlots = make(chan struct{}, 4)

// testDB is one fresh database for one test.
type testDB struct {
	driver string
	dir    string // SQLite: the data directory
	url    string // PostgreSQL: the test database's URL
}

// eachDriver runs fn against SQLite and against PostgreSQL, in parallel.
func eachDriver(t *testing.T, fn func(t *testing.T, db testDB)) {
	t.Helper()
	t.Run(DriverSQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, newSQLiteDB(t))
	})
	t.Run(DriverPostgres, func(t *testing.T) {
		t.Parallel()
		fn(t, newPostgresDB(t))
	})
}

func newSQLiteDB(t *testing.T) testDB {
	return testDB{driver: DriverSQLite, dir: t.TempDir()}
}

// newPostgresDB creates a database for this test and drops it when the test ends.
func newPostgresDB(t *testing.T) testDB {
	t.Helper()
	admin := os.Getenv(envPGURL)
	if admin == "" {
		if os.Getenv(envRequirePG) == "1" {
			t.Fatalf("%s=1 but %s is not set", envRequirePG, envPGURL)
		}
		t.Skipf("%s is not set", envPGURL)
	}
	pgSlots <- struct{}{}
	t.Cleanup(func() { <-pgSlots })

	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pubdoc_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to %s: %v", envPGURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating the test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("dropping the test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing %s: %v", envPGURL, err)
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "8")
	}
	u.RawQuery = q.Encode()
	return testDB{driver: DriverPostgres, url: u.String()}
}

// config is a Config for tests: fast polling and short retries, the rest as in production.
func (db testDB) config() Config {
	c := Config{
		Workers:      4,
		PollInterval: 20 * time.Millisecond,
		JobTimeout:   10 * time.Second,
		RescueAfter:  20 * time.Second,
		retryBase:    20 * time.Millisecond,
		retryCap:     100 * time.Millisecond,
		closeWait:    500 * time.Millisecond,
		hardStopWait: 3 * time.Second,
		riverTest:    true,
	}
	if db.driver == DriverSQLite {
		c.DataDir = db.dir
	} else {
		c.DatabaseURL = db.url
	}
	return c
}

// open opens a Store on db, closed when the test ends; edit adjusts the config.
func open(t *testing.T, db testDB, logs *logBuffer, edit ...func(*Config)) *Store {
	t.Helper()
	cfg := db.config()
	for _, e := range edit {
		e(&cfg)
	}
	if logs == nil {
		logs = &logBuffer{}
	}
	s, err := Open(context.Background(), cfg, logs.logger())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("store log:\n%s", logs.String())
		}
	})
	if s.Driver() != db.driver {
		t.Fatalf("Driver() = %q, want %q", s.Driver(), db.driver)
	}
	return s
}

// logBuffer collects a store's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the log lines containing every one of the strings.
func (b *logBuffer) lines(all ...string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		ok := l != ""
		for _, s := range all {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// jobOf returns the River job id enqueued for a delivery.
func jobOf(t *testing.T, s *Store, source, delivery string) int64 {
	t.Helper()
	var id int64
	if err := s.db.q().queryRow(context.Background(),
		`SELECT job_id FROM pubdoc_deliveries WHERE source = $1 AND delivery_id = $2`, source, delivery).Scan(&id); err != nil {
		t.Fatalf("reading the job of %s/%s: %v", source, delivery, err)
	}
	return id
}

// jobState returns a River job's state and attempt.
func jobState(t *testing.T, s *Store, id int64) (state string, attempt int) {
	t.Helper()
	var a int64
	if err := s.db.q().queryRow(context.Background(),
		`SELECT CAST(state AS TEXT), attempt FROM river_job WHERE id = $1`, id).Scan(&state, &a); err != nil {
		t.Fatalf("reading job %d: %v", id, err)
	}
	return state, int(a)
}

// waitState waits for a job to reach a state.
func waitState(t *testing.T, s *Store, id int64, want string, timeout time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for {
		last, _ = jobState(t, s, id)
		if last == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %q after %s, want %q", id, last, timeout, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMigrationsLogOneLine(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		logs := &logBuffer{}
		s := open(t, db, logs)
		if got := logs.lines(`"msg":"store migrations applied"`, `"river_versions":[`, `"pubdoc_versions":[`, `"duration":"`); len(got) != 1 {
			t.Errorf("want one line summarizing the migrations; log:\n%s", logs.String())
		}
		if got := logs.lines("migration"); len(got) != 1 {
			t.Errorf("%d lines about migrations, want 1:\n%s", len(got), strings.Join(got, "\n"))
		}
		_ = s.Close()
		again := &logBuffer{}
		open(t, db, again)
		if got := again.lines("migration"); len(got) != 0 {
			t.Errorf("a second start logged migrations it did not apply:\n%s", strings.Join(got, "\n"))
		}
	})
}
