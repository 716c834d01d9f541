// Package store is Pubdoc's persistence and durable job queue: every event the bot
// accepts becomes a job here before it is acknowledged, and the bot's own records
// (diagnoses, feedback, posts already made, triage threads) live beside the jobs.
//
// It is the bot's Store (bot.Store): the record types (Task, Thread, Member, Post,
// Diagnosis, Stats, and bot.Feedback) are the bot's, which the bot declares so that it
// links no database driver; the names here are aliases of them.
//
// # Where data lives
//
// By default a SQLite file, DataDir/pubdoc.db (pure Go, no cgo), used by one process at
// a time: Open takes an exclusive lock on DataDir/pubdoc.lock and refuses to start when
// another process holds it. When Config.DatabaseURL names a PostgreSQL database, several
// replicas share it through pgx. The same tables, queries and behaviour serve both;
// queries are written once with $1-style placeholders and rebound for SQLite. Times are
// stored as BIGINT unix milliseconds, with 0 for "not yet".
//
// # How data moves
//
//  1. An HTTP handler verifies a delivery and calls Accept. In one transaction Accept
//     records (source, delivery id) in pubdoc_deliveries and inserts a River job of kind
//     "pubdoc_task" carrying the Task's Kind and Payload. A delivery seen before inserts
//     nothing and Accept reports false, so redeliveries, concurrent or not, run once.
//  2. Start runs River workers that hand each job to the Handler as a Task. The Handler's
//     error decides what happens next: nil completes the job; an error whose
//     Permanent() is true gives the job up (cancelled); an error with RetryAfter()
//     snoozes it for that long without using an attempt; any other error or a panic is
//     retried with exponential backoff until MaxAttempts, then the job is discarded.
//     Each attempt is logged once ("job attempt ended": job_id, kind, outcome, attempt,
//     duration as text, err); River's own INFO lines are filtered out, and the
//     migrations applied at Open are summarized in one line.
//  3. Handlers record what they did with SaveDiagnosis, SaveFeedback, ClaimPost and
//     FinishPost (so a retried job does not post twice), and the thread methods (so
//     failures with one fingerprint share one triage thread per channel).
//  4. Stop stops fetching, lets running jobs finish until its context ends, then cancels
//     them so they return to the queue. A process that dies instead leaves its jobs
//     'running': with SQLite, Open (which holds the directory lock, so no one else can be
//     running them) makes them available again at once; with PostgreSQL, River's rescuer
//     retries them once they have been running longer than Config.RescueAfter.
//
// # Learning from answers
//
// Schema 3 adds what feedback and unknown failures teach (learn.go, with the pure part in
// diagnose/learn): RecordAnswer keeps each stored answer's log (learn.Keep, redacted) for
// AnswerLogRetention and counts an answer with no known cause, or a top cause under 0.5,
// in the unknown group of its fingerprint, per UTC day; SaveCase makes an answer with
// feedback a case (its log and the right cause); Cases, UnknownGroups, UnknownGroup and
// RulePrecision read them back. Reader (OpenReader) reads the same without taking the
// data directory, for the CLI's kb commands beside a running server.
//
// # Secrets
//
// The database URL may carry a password. It is never logged, and errors that could
// quote it are scrubbed before they are returned. What callers hand the store — a Task's
// Payload, a Diagnosis, a Feedback note, a job's error text — is kept as given, for days
// (River keeps finished jobs 24 hours and discarded ones 7 days) and in backups: callers
// redact it first (the bot does, in Service.Accept and when it saves a diagnosis).
package store
