package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// migrationLockKey is the PostgreSQL advisory lock that serializes migrations between
// replicas starting at once ("pubdoc" in ASCII, well away from River's hashed keys).
const migrationLockKey int64 = 0x7075_6264_6f63

// migration is one step of the store's own schema. Its statements use {{ID}} for an
// auto-numbered primary key and {{BLOB}} for bytes, which differ between the databases;
// everything else is common SQL.
type migration struct {
	version    int
	statements []string
}

// migrations lists the schema steps, applied in order, each in a transaction with its
// pubdoc_schema row. Never edit an applied one: append a new version.
func migrations() []migration {
	return []migration{{
		version: 1,
		statements: []string{
			`CREATE TABLE pubdoc_deliveries (
			source      TEXT   NOT NULL,
			delivery_id TEXT   NOT NULL,
			job_id      BIGINT NOT NULL DEFAULT 0,
			created_at  BIGINT NOT NULL,
			PRIMARY KEY (source, delivery_id)
		)`,
			`CREATE INDEX pubdoc_deliveries_created_at ON pubdoc_deliveries (created_at)`,
			`CREATE TABLE pubdoc_diagnoses (
			id         {{ID}},
			idem_key   TEXT             NOT NULL UNIQUE,
			source     TEXT             NOT NULL DEFAULT '',
			repo       TEXT             NOT NULL DEFAULT '',
			run_id     BIGINT           NOT NULL DEFAULT 0,
			attempt    INTEGER          NOT NULL DEFAULT 0,
			workflow   TEXT             NOT NULL DEFAULT '',
			branch     TEXT             NOT NULL DEFAULT '',
			job        TEXT             NOT NULL DEFAULT '',
			rule_id    TEXT             NOT NULL DEFAULT '',
			verdict    TEXT             NOT NULL DEFAULT '',
			confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
			evidence   TEXT             NOT NULL DEFAULT '',
			result     {{BLOB}}         NOT NULL,
			channel    TEXT             NOT NULL DEFAULT '',
			ts         TEXT             NOT NULL DEFAULT '',
			thread_id  BIGINT           NOT NULL DEFAULT 0,
			created_at BIGINT           NOT NULL
		)`,
			`CREATE INDEX pubdoc_diagnoses_created_at ON pubdoc_diagnoses (created_at)`,
			`CREATE INDEX pubdoc_diagnoses_rule_created_at ON pubdoc_diagnoses (rule_id, created_at)`,
			`CREATE TABLE pubdoc_feedback (
			diagnosis_id BIGINT NOT NULL REFERENCES pubdoc_diagnoses (id) ON DELETE CASCADE,
			user_id      TEXT   NOT NULL,
			kind         TEXT   NOT NULL,
			rule_id      TEXT   NOT NULL DEFAULT '',
			note         TEXT   NOT NULL DEFAULT '',
			created_at   BIGINT NOT NULL,
			PRIMARY KEY (diagnosis_id, user_id)
		)`,
			`CREATE INDEX pubdoc_feedback_created_at ON pubdoc_feedback (created_at)`,
			`CREATE TABLE pubdoc_posts (
			post_key   TEXT    NOT NULL PRIMARY KEY,
			channel    TEXT    NOT NULL DEFAULT '',
			ts         TEXT    NOT NULL DEFAULT '',
			done       INTEGER NOT NULL DEFAULT 0,
			claims     INTEGER NOT NULL DEFAULT 0,
			claimed_at BIGINT  NOT NULL DEFAULT 0,
			done_at    BIGINT  NOT NULL DEFAULT 0
		)`,
			`CREATE TABLE pubdoc_threads (
			id                  {{ID}},
			fingerprint         TEXT    NOT NULL,
			repo                TEXT    NOT NULL DEFAULT '',
			workflow            TEXT    NOT NULL DEFAULT '',
			branch              TEXT    NOT NULL DEFAULT '',
			rule_id             TEXT    NOT NULL DEFAULT '',
			channel             TEXT    NOT NULL,
			parent_ts           TEXT    NOT NULL DEFAULT '',
			parent_diagnosis_id BIGINT  NOT NULL DEFAULT 0,
			members             INTEGER NOT NULL DEFAULT 0,
			first_at            BIGINT  NOT NULL,
			last_at             BIGINT  NOT NULL,
			claimed_at          BIGINT  NOT NULL,
			acked_by            TEXT    NOT NULL DEFAULT '',
			acked_at            BIGINT  NOT NULL DEFAULT 0,
			resolved_run        BIGINT  NOT NULL DEFAULT 0,
			resolved_at         BIGINT  NOT NULL DEFAULT 0
		)`,
			`CREATE INDEX pubdoc_threads_fingerprint ON pubdoc_threads (fingerprint, channel, resolved_at, first_at)`,
			`CREATE INDEX pubdoc_threads_workflow ON pubdoc_threads (repo, workflow, branch, resolved_at)`,
			`CREATE INDEX pubdoc_threads_first_at ON pubdoc_threads (first_at)`,
			`CREATE INDEX pubdoc_threads_resolved_at ON pubdoc_threads (resolved_at)`,
			`CREATE TABLE pubdoc_thread_members (
			thread_id  BIGINT NOT NULL REFERENCES pubdoc_threads (id) ON DELETE CASCADE,
			member_key TEXT   NOT NULL,
			added_at   BIGINT NOT NULL,
			PRIMARY KEY (thread_id, member_key)
		)`,
			// One row per (fingerprint, channel), upserted to serialize OpenThread: the
			// upsert's row lock makes concurrent openers (other replicas included) wait.
			`CREATE TABLE pubdoc_thread_locks (
			fingerprint TEXT   NOT NULL,
			channel     TEXT   NOT NULL,
			touched_at  BIGINT NOT NULL,
			PRIMARY KEY (fingerprint, channel)
		)`,
		},
	}, {
		// Flood control: a thread's replies go out in numbered batches, at most one per
		// interval; each member records the batch that named it (0 while pending, -1 for
		// the parent's own failure) and a label to name it by.
		version: 2,
		statements: []string{
			`ALTER TABLE pubdoc_threads ADD COLUMN replies BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE pubdoc_threads ADD COLUMN replies_posted BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE pubdoc_threads ADD COLUMN reply_at BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE pubdoc_threads ADD COLUMN reply_owner TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE pubdoc_thread_members ADD COLUMN batch BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE pubdoc_thread_members ADD COLUMN label TEXT NOT NULL DEFAULT ''`,
			// Members from before were each posted on their own.
			`UPDATE pubdoc_thread_members SET batch = -1`,
			`CREATE INDEX pubdoc_thread_members_batch ON pubdoc_thread_members (thread_id, batch)`,
		},
	}, {
		// Learning from answers (learn.go): the log each stored answer was given, kept a
		// while so that feedback can make it a case; the cases; and the unknown failures
		// grouped by fingerprint, with a count per UTC day.
		version: 3,
		statements: []string{
			`CREATE TABLE pubdoc_answer_logs (
			diagnosis_id BIGINT NOT NULL PRIMARY KEY REFERENCES pubdoc_diagnoses (id) ON DELETE CASCADE,
			fingerprint  TEXT   NOT NULL DEFAULT '',
			log          TEXT   NOT NULL,
			created_at   BIGINT NOT NULL
		)`,
			`CREATE INDEX pubdoc_answer_logs_created_at ON pubdoc_answer_logs (created_at)`,
			`CREATE TABLE pubdoc_cases (
			id           {{ID}},
			diagnosis_id BIGINT           NOT NULL UNIQUE,
			log          TEXT             NOT NULL,
			verdict      TEXT             NOT NULL DEFAULT '',
			top_rule_id  TEXT             NOT NULL DEFAULT '',
			confidence   DOUBLE PRECISION NOT NULL DEFAULT 0,
			label        TEXT             NOT NULL DEFAULT '',
			source       TEXT             NOT NULL,
			user_id      TEXT             NOT NULL DEFAULT '',
			thread_id    BIGINT           NOT NULL DEFAULT 0,
			fingerprint  TEXT             NOT NULL DEFAULT '',
			created_at   BIGINT           NOT NULL
		)`,
			`CREATE INDEX pubdoc_cases_created_at ON pubdoc_cases (created_at)`,
			`CREATE TABLE pubdoc_unknown_groups (
			fingerprint TEXT   NOT NULL PRIMARY KEY,
			lines       TEXT   NOT NULL,
			example     TEXT   NOT NULL DEFAULT '',
			excerpt     TEXT   NOT NULL DEFAULT '',
			verdict     TEXT   NOT NULL DEFAULT '',
			rule_id     TEXT   NOT NULL DEFAULT '',
			total       BIGINT NOT NULL DEFAULT 0,
			first_at    BIGINT NOT NULL,
			last_at     BIGINT NOT NULL
		)`,
			`CREATE INDEX pubdoc_unknown_groups_last_at ON pubdoc_unknown_groups (last_at)`,
			`CREATE TABLE pubdoc_unknown_days (
			fingerprint TEXT   NOT NULL REFERENCES pubdoc_unknown_groups (fingerprint) ON DELETE CASCADE,
			day         BIGINT NOT NULL,
			answers     BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (fingerprint, day)
		)`,
			`CREATE INDEX pubdoc_unknown_days_day ON pubdoc_unknown_days (day)`,
		},
	}}
}

// dialect fills a migration statement's {{ID}} and {{BLOB}} for a driver.
func dialect(driver, stmt string) string {
	id, blob := "INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"
	if driver == DriverPostgres {
		id, blob = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA"
	}
	return strings.NewReplacer("{{ID}}", id, "{{BLOB}}", blob).Replace(stmt)
}

// migrate applies River's migrations, then the store's, under the database's migration
// lock.
func (s *Store) migrate(ctx context.Context) error {
	unlock, err := s.db.lockMigrations(ctx)
	if err != nil {
		return fmt.Errorf("taking the migration lock: %w", s.scrubbed(err))
	}
	defer unlock()

	start := time.Now()
	// River's migrator logs a line per version at INFO; the summary below says it once.
	riverApplied, err := s.queue.migrate(ctx, quieter(s.logger, slog.LevelWarn))
	if err != nil {
		return fmt.Errorf("applying River's migrations: %w", s.scrubbed(err))
	}
	var applied []int
	defer func() {
		if len(riverApplied)+len(applied) > 0 {
			s.logger.Info("store migrations applied", "driver", s.driver, "river_versions", riverApplied,
				"pubdoc_versions", applied, "duration", time.Since(start).Round(time.Millisecond).String())
		}
	}()
	if _, err := s.db.q().exec(ctx, `CREATE TABLE IF NOT EXISTS pubdoc_schema (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("creating the schema version table: %w", s.scrubbed(err))
	}
	for _, m := range migrations() {
		err := s.db.inTx(ctx, func(q querier, _ any) error {
			var n int64
			if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_schema WHERE version = $1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range m.statements {
				if _, err := q.exec(ctx, dialect(s.driver, stmt)); err != nil {
					return err
				}
			}
			if _, err := q.exec(ctx, `INSERT INTO pubdoc_schema (version, applied_at) VALUES ($1, $2)`,
				m.version, time.Now().UnixMilli()); err != nil {
				return err
			}
			applied = append(applied, m.version)
			return nil
		})
		if err != nil {
			return fmt.Errorf("applying store migration %d: %w", m.version, s.scrubbed(err))
		}
	}
	return nil
}

// lockMigrations: SQLite is already exclusive through the directory lock.
func (d sqliteDB) lockMigrations(context.Context) (func(), error) { return func() {}, nil }

// lockMigrations holds a session advisory lock on a connection of its own while River's
// migrator (which takes no lock itself) and ours run on others.
func (d pgDB) lockMigrations(ctx context.Context) (func(), error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			// A connection that may still hold the lock must not go back to the pool.
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}
