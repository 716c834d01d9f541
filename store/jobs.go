package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// taskJobKind is the one River job kind; the bot's own kinds travel inside its args.
const taskJobKind = "pubdoc_task"

// deliveryRetention is how long a delivery id is remembered for deduplication. Slack
// retries within minutes and GitHub redeliveries are made by hand within days.
const deliveryRetention = 30 * 24 * time.Hour

// Snooze bounds for an error's RetryAfter.
const (
	minSnooze = 100 * time.Millisecond
	maxSnooze = 10 * time.Minute
)

// Task is one unit of durable work: the bot decides what Kind and Payload mean (the
// bot's type; ID, Attempt and MaxAttempts are filled when it is handed to a Handler).
type Task = bot.Task

// Handler runs a Task. Its error decides the job's fate: nil completes it; an error with
// Permanent() true gives it up; an error with RetryAfter() runs it again after that long
// (clamped to [100ms, 10m]) without using an attempt; any other error retries it with
// backoff until MaxAttempts, after which it is discarded. A panic counts as an error.
type Handler = func(ctx context.Context, t Task) error

// taskArgs is the River job's args. (A field cannot be named Kind beside the Kind method
// River requires.) The payload travels as a string: both databases keep job args as
// binary JSON, which would reformat an embedded object, and the Handler should get back
// the very bytes that were accepted.
type taskArgs struct {
	TaskKind string `json:"kind"`
	Payload  string `json:"payload"`
}

// Kind is River's job kind for every Task.
func (taskArgs) Kind() string { return taskJobKind }

// jobQueue is the River client whatever its transaction type.
type jobQueue interface {
	// migrate applies River's migrations and returns the versions it applied.
	migrate(ctx context.Context, logger *slog.Logger) ([]int, error)
	insertTx(ctx context.Context, rawTx any, args taskArgs, opts *river.InsertOpts) (int64, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	executor() riverdriver.Executor
}

type riverQueue[TTx any] struct {
	client *river.Client[TTx]
	driver riverdriver.Driver[TTx]
}

func newRiverQueue[TTx any](driver riverdriver.Driver[TTx], cfg *river.Config) (riverQueue[TTx], error) {
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return riverQueue[TTx]{}, err
	}
	return riverQueue[TTx]{client: client, driver: driver}, nil
}

func (r riverQueue[TTx]) migrate(ctx context.Context, logger *slog.Logger) ([]int, error) {
	m, err := rivermigrate.New(r.driver, &rivermigrate.Config{Logger: logger})
	if err != nil {
		return nil, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, err
	}
	applied := make([]int, 0, len(res.Versions))
	for _, v := range res.Versions {
		applied = append(applied, v.Version)
	}
	return applied, nil
}

func (r riverQueue[TTx]) insertTx(ctx context.Context, rawTx any, args taskArgs, opts *river.InsertOpts) (int64, error) {
	tx, ok := rawTx.(TTx)
	if !ok {
		return 0, fmt.Errorf("inserting a job: transaction of type %T, want %T", rawTx, *new(TTx))
	}
	res, err := r.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

func (r riverQueue[TTx]) start(ctx context.Context) error         { return r.client.Start(ctx) }
func (r riverQueue[TTx]) stop(ctx context.Context) error          { return r.client.Stop(ctx) }
func (r riverQueue[TTx]) stopAndCancel(ctx context.Context) error { return r.client.StopAndCancel(ctx) }
func (r riverQueue[TTx]) executor() riverdriver.Executor          { return r.driver.GetExecutor() }

// riverConfig is River's configuration for this store: one queue with cfg.Workers
// workers polling every cfg.PollInterval (SQLite has no LISTEN/NOTIFY; River's SQLite
// listener polls a table and the fetch poll backs it up), our retry policy and error
// handler, and the rescuer at cfg.RescueAfter.
func (s *Store) riverConfig() *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &taskWorker{s: s})
	return &river.Config{
		// River logs every failed attempt at INFO under its own keys; the Handler logs
		// each outcome once (job_id), so River speaks only of what is wrong.
		Logger:               quieter(s.logger.With("component", "river"), slog.LevelWarn),
		Workers:              workers,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.Workers}},
		FetchPollInterval:    s.cfg.PollInterval,
		FetchCooldown:        min(s.cfg.PollInterval, river.FetchCooldownDefault),
		JobTimeout:           s.cfg.JobTimeout,
		RescueStuckJobsAfter: s.cfg.RescueAfter,
		MaxAttempts:          s.cfg.MaxAttempts,
		RetryPolicy:          &retryPolicy{base: s.cfg.retryBase, cap: s.cfg.retryCap},
		ErrorHandler:         &errorHandler{logger: s.logger},
		TestOnly:             s.cfg.riverTest,
	}
}

// Accept records a delivery and enqueues its Task in one transaction. It returns false,
// and enqueues nothing, when (source, deliveryID) was accepted before; of concurrent
// Accepts of one key, in this process or another on the same PostgreSQL, exactly one
// returns true.
func (s *Store) Accept(ctx context.Context, source, deliveryID string, t Task) (accepted bool, err error) {
	if source == "" || deliveryID == "" {
		return false, fmt.Errorf("accepting a delivery: source and delivery id are required (got %q, %q)", source, deliveryID)
	}
	if t.Kind == "" {
		return false, fmt.Errorf("accepting delivery %s/%s: the task has no kind", source, deliveryID)
	}
	payload := t.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	if !json.Valid(payload) {
		return false, fmt.Errorf("accepting delivery %s/%s: the %s task's payload is not valid JSON", source, deliveryID, t.Kind)
	}
	err = s.db.inTx(ctx, func(q querier, rawTx any) error {
		n, err := q.exec(ctx, `INSERT INTO pubdoc_deliveries (source, delivery_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (source, delivery_id) DO NOTHING`, source, deliveryID, time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("recording the delivery: %w", err)
		}
		if n == 0 {
			return nil
		}
		id, err := s.queue.insertTx(ctx, rawTx, taskArgs{TaskKind: t.Kind, Payload: string(payload)},
			&river.InsertOpts{MaxAttempts: s.cfg.MaxAttempts})
		if err != nil {
			return fmt.Errorf("enqueueing the job: %w", err)
		}
		if _, err := q.exec(ctx, `UPDATE pubdoc_deliveries SET job_id = $1 WHERE source = $2 AND delivery_id = $3`,
			id, source, deliveryID); err != nil {
			return fmt.Errorf("recording the job id: %w", err)
		}
		accepted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("accepting delivery %s/%s: %w", source, deliveryID, s.scrubbed(err))
	}
	return accepted, nil
}

// Start runs River's workers, which hand jobs to h until Stop or Close. ctx's values
// reach the workers but its cancellation does not stop them: Stop does, gracefully.
func (s *Store) Start(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("starting the workers: no handler")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("starting the workers: the store is closed")
	}
	if s.running {
		return errors.New("starting the workers: already started")
	}
	s.handler.Store(&h)
	// Detached: River would treat the cancellation of its start context as an immediate
	// hard stop, which would skip Stop's drain.
	if err := s.queue.start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("starting the workers: %w", s.scrubbed(err))
	}
	s.running = true
	s.logger.Info("workers started", "driver", s.driver, "workers", s.cfg.Workers)
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish until ctx is done; then
// it cancels their contexts, and each job whose Handler returns the context's error goes
// back to the queue without using an attempt. A Handler that ignores cancellation leaves
// its job 'running', to be run again after a restart (SQLite) or after RescueAfter
// (PostgreSQL): a job is never lost.
func (s *Store) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	err := s.queue.stop(ctx)
	if err == nil {
		s.running = false
		s.logger.Info("workers stopped", "driver", s.driver)
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("stopping the workers: %w", s.scrubbed(err))
	}
	s.logger.Warn("jobs still running at the stop deadline: cancelling them; they go back to the queue")
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.hardStopWait)
	defer cancel()
	if err := s.queue.stopAndCancel(hctx); err != nil {
		return fmt.Errorf("cancelling running jobs (those that did not return run again after a restart): %w", err)
	}
	s.running = false
	s.logger.Info("workers stopped", "driver", s.driver)
	return nil
}

// JobCounts returns how many River jobs are in each state: available, cancelled,
// completed, discarded, pending, retryable, running and scheduled (0 when none).
// Completed, cancelled and discarded jobs are pruned after River's retention periods.
func (s *Store) JobCounts(ctx context.Context) (map[string]int, error) {
	counts := make(map[string]int, len(rivertype.JobStates()))
	for _, st := range rivertype.JobStates() {
		counts[string(st)] = 0
	}
	rs, err := s.db.q().query(ctx, `SELECT CAST(state AS TEXT), COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting jobs: %w", s.scrubbed(err))
	}
	defer rs.Close()
	for rs.Next() {
		var state string
		var n int64
		if err := rs.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting jobs: %w", err)
		}
		counts[state] = int(n)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("counting jobs: %w", s.scrubbed(err))
	}
	return counts, nil
}

// taskWorker hands River's jobs to the Handler and turns its error into River's terms.
type taskWorker struct {
	river.WorkerDefaults[taskArgs]
	s *Store
}

// Work runs one job.
func (w *taskWorker) Work(ctx context.Context, job *river.Job[taskArgs]) error {
	t := Task{ID: job.ID, Kind: job.Args.TaskKind, Payload: json.RawMessage(job.Args.Payload), Attempt: job.Attempt, MaxAttempts: job.MaxAttempts}
	hp := w.s.handler.Load()
	if hp == nil {
		// Cannot happen (Start sets the handler before River runs): try again later.
		return river.JobSnooze(time.Second)
	}
	start := time.Now()
	err := (*hp)(ctx, t)
	w.s.logAttempt(ctx, t, err, time.Since(start))
	return w.s.outcome(ctx, t, err)
}

// logAttempt logs how one attempt of a job ended, in one line ("job attempt ended"):
// job_id, kind, outcome (completed, retrying, snoozed, interrupted, given_up,
// discarded: only the last two are WARN), attempt, duration as text ("1.2s"), and the
// error if any. It is the only line about an attempt: River's own are filtered out
// (riverConfig) and the Handler logs none.
func (s *Store) logAttempt(ctx context.Context, t Task, err error, took time.Duration) {
	outcome, level := "completed", slog.LevelInfo
	var extra []any
	var perm interface{ Permanent() bool }
	var later interface{ RetryAfter() time.Duration }
	switch {
	case err == nil:
	case ctx.Err() != nil:
		outcome = "interrupted" // stopped or timed out: it runs again
	case errors.As(err, &perm) && perm.Permanent():
		outcome, level = "given_up", slog.LevelWarn
	case errors.As(err, &later):
		outcome = "snoozed"
		extra = append(extra, "retry_in", clampSnooze(later.RetryAfter()).String())
	case t.Attempt >= t.MaxAttempts:
		outcome, level = "discarded", slog.LevelWarn
	default:
		outcome = "retrying"
	}
	attrs := append([]any{"job_id", t.ID, "kind", t.Kind, "outcome", outcome, "attempt", t.Attempt,
		"max_attempts", t.MaxAttempts, "duration", roundDuration(took).String()}, extra...)
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	s.logger.Log(ctx, level, "job attempt ended", attrs...)
}

// roundDuration keeps a logged duration readable: milliseconds, or microseconds below one.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// outcome maps a Handler's error to what River should do with the job.
func (s *Store) outcome(ctx context.Context, t Task, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// Stopping or timed out: whatever the handler concluded may be an artefact of
		// the cancellation. Joining the cause lets River recognise a stop and requeue
		// the job without using an attempt; a timeout retries with backoff.
		return fmt.Errorf("%s job %d interrupted: %w", t.Kind, t.ID, errors.Join(err, context.Cause(ctx)))
	}
	var perm interface{ Permanent() bool }
	if errors.As(err, &perm) && perm.Permanent() {
		return river.JobCancel(err) // the Handler logged the outcome
	}
	var later interface{ RetryAfter() time.Duration }
	if errors.As(err, &later) {
		d := clampSnooze(later.RetryAfter())
		// River puts the job back without counting the attempt (it decrements Attempt
		// and counts snoozes in the job's metadata), so snoozes never exhaust
		// MaxAttempts.
		return river.JobSnooze(d)
	}
	return err
}

func clampSnooze(d time.Duration) time.Duration {
	return min(max(d, minSnooze), maxSnooze)
}

// errorHandler logs panicked jobs. A failed attempt is not logged here: the Handler
// logs each attempt's outcome once (job_id, outcome, duration, err), and River's own
// INFO lines are filtered out (riverConfig). River calls it for errors and recovered
// panics, not for cancellations, snoozes or jobs interrupted by Stop.
type errorHandler struct {
	logger *slog.Logger
}

// HandleError leaves a failed attempt to the Handler's log line.
func (e *errorHandler) HandleError(context.Context, *rivertype.JobRow, error) *river.ErrorHandlerResult {
	return nil
}

// HandlePanic logs a recovered panic; River then retries the job like a failure.
func (e *errorHandler) HandlePanic(_ context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	outcome := "retrying"
	if job.Attempt >= job.MaxAttempts {
		outcome = "discarded"
	}
	e.logger.Error("job panicked", "outcome", outcome, "job_id", job.ID, "kind", jobTaskKind(job), "attempt", job.Attempt,
		"max_attempts", job.MaxAttempts, "panic", fmt.Sprint(panicVal), "trace", trace)
	return nil
}

// jobTaskKind reads the Task kind out of a River job's args, for logs.
func jobTaskKind(job *rivertype.JobRow) string {
	var a taskArgs
	if err := json.Unmarshal(job.EncodedArgs, &a); err != nil || a.TaskKind == "" {
		return job.Kind
	}
	return a.TaskKind
}

// retryPolicy waits base·2^(attempt-1), at most cap, then ±10% jitter so that jobs
// failing together do not retry together.
type retryPolicy struct {
	base, cap time.Duration
}

// NextRetry is when River should run a job again after its attempt failed.
func (p *retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.delay(job.Attempt, rand.Float64()))
}

// delay is the wait after failed attempt n (1-based); u in [0,1) picks the jitter.
func (p *retryPolicy) delay(attempt int, u float64) time.Duration {
	d := p.base
	for i := 1; i < attempt && d < p.cap; i++ {
		d *= 2
	}
	d = min(d, p.cap)
	return d + time.Duration((u*0.2-0.1)*float64(d))
}

// resumeAbandoned makes jobs left 'running' by a process that died available again at
// once, as if River's rescuer had found them. Only sound because the directory lock
// proves no other process is running them. A job that was on its last attempt is
// discarded, so a job that kills its process cannot loop forever.
func (s *Store) resumeAbandoned(ctx context.Context) error {
	if s.lock == nil || !s.lock.exclusive() {
		return nil
	}
	exec := s.queue.executor()
	now := time.Now().UTC()
	// The dead process cannot still be leading River's maintenance; let this one take
	// over at once rather than after the old leadership expires.
	farFuture := now.Add(24 * time.Hour)
	if _, err := exec.LeaderDeleteExpired(ctx, &riverdriver.LeaderDeleteExpiredParams{Now: &farFuture}); err != nil {
		return fmt.Errorf("clearing a dead process's leadership: %w", err)
	}
	var afterID int64
	resumed, discarded := 0, 0
	for {
		stuck, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{AfterID: afterID, Max: 500, StuckHorizon: farFuture})
		if err != nil {
			return fmt.Errorf("finding jobs left running: %w", err)
		}
		if len(stuck) == 0 {
			break
		}
		p := &riverdriver.JobRescueManyParams{StuckHorizon: farFuture}
		for _, job := range stuck {
			afterID = job.ID
			msg, err := json.Marshal(rivertype.AttemptError{
				At: now, Attempt: max(job.Attempt, 0),
				Error: "the process running this job stopped before it finished; resumed at start",
			})
			if err != nil {
				return fmt.Errorf("recording a resumed job: %w", err)
			}
			p.ID = append(p.ID, job.ID)
			p.Error = append(p.Error, msg)
			if job.Attempt >= job.MaxAttempts {
				p.State = append(p.State, string(rivertype.JobStateDiscarded))
				p.FinalizedAt = append(p.FinalizedAt, &now)
				p.ScheduledAt = append(p.ScheduledAt, job.ScheduledAt)
				discarded++
				s.logger.Warn("job discarded: its last attempt stopped with its process", "kind", jobTaskKind(job),
					"job_id", job.ID, "attempt", job.Attempt)
				continue
			}
			p.State = append(p.State, string(rivertype.JobStateAvailable))
			p.FinalizedAt = append(p.FinalizedAt, nil)
			p.ScheduledAt = append(p.ScheduledAt, now)
			resumed++
		}
		if _, err := exec.JobRescueMany(ctx, p); err != nil {
			return fmt.Errorf("resuming jobs left running: %w", err)
		}
	}
	if resumed+discarded > 0 {
		s.logger.Info("resumed jobs left running by a stopped process", "resumed", resumed, "discarded", discarded)
	}
	return nil
}
