package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// permanent is an error the bot would mark as not worth retrying.
type permanent struct{ msg string }

func (e permanent) Error() string   { return e.msg }
func (e permanent) Permanent() bool { return true }

// notPermanent has the method but says no: an ordinary failure.
type notPermanent struct{}

func (notPermanent) Error() string   { return "flaky" }
func (notPermanent) Permanent() bool { return false }

// rateLimited asks to be retried after a delay, like Slack's 429 with Retry-After.
type rateLimited struct{ after time.Duration }

func (e rateLimited) Error() string             { return "rate limited" }
func (e rateLimited) RetryAfter() time.Duration { return e.after }

// recorder is a Handler that remembers the tasks it saw and runs a per-call behaviour.
type recorder struct {
	mu    sync.Mutex
	seen  []Task
	times []time.Time
	do    func(ctx context.Context, t Task, call int) error
}

func (r *recorder) handle(ctx context.Context, t Task) error {
	r.mu.Lock()
	r.seen = append(r.seen, t)
	r.times = append(r.times, time.Now())
	call := len(r.seen)
	r.mu.Unlock()
	if r.do == nil {
		return nil
	}
	return r.do(ctx, t, call)
}

func (r *recorder) calls() []Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Task(nil), r.seen...)
}

func jobRow(attempt, maxAttempts int) *rivertype.JobRow {
	return &rivertype.JobRow{Attempt: attempt, MaxAttempts: maxAttempts}
}

func start(t *testing.T, s *Store, h Handler) {
	t.Helper()
	if err := s.Start(context.Background(), h); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
}

func accept(t *testing.T, s *Store, delivery, kind, payload string) int64 {
	t.Helper()
	ok, err := s.Accept(context.Background(), "test", delivery, Task{Kind: kind, Payload: json.RawMessage(payload)})
	if err != nil || !ok {
		t.Fatalf("Accept(%s) = %v, %v; want true", delivery, ok, err)
	}
	return jobOf(t, s, "test", delivery)
}

func TestRetryPolicy(t *testing.T) {
	cfg := Config{}.withDefaults()
	p := &retryPolicy{base: cfg.retryBase, cap: cfg.retryCap}
	cases := []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second},
		{9, 256 * time.Second}, {10, 5 * time.Minute}, {25, 5 * time.Minute}, {1000, 5 * time.Minute},
	}
	for _, c := range cases {
		lo, mid, hi := p.delay(c.attempt, 0), p.delay(c.attempt, 0.5), p.delay(c.attempt, 0.999999)
		if mid != c.want {
			t.Errorf("attempt %d: delay without jitter %s, want %s", c.attempt, mid, c.want)
		}
		if want := c.want - c.want/10; lo != want {
			t.Errorf("attempt %d: lowest delay %s, want %s (-10%%)", c.attempt, lo, want)
		}
		if hi > c.want+c.want/10 || hi < c.want+c.want/10-c.want/1000 {
			t.Errorf("attempt %d: highest delay %s, want about %s (+10%%)", c.attempt, hi, c.want+c.want/10)
		}
	}
	// NextRetry is now plus a jittered delay.
	for range 50 {
		before := time.Now()
		at := p.NextRetry(jobRow(3, 10))
		if d := at.Sub(before); d < 3600*time.Millisecond || d > 4400*time.Millisecond+50*time.Millisecond {
			t.Fatalf("NextRetry after attempt 3 is %s away, want 4s ± 10%%", d)
		}
	}
}

func TestClampSnooze(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		-time.Second: minSnooze, 0: minSnooze, time.Millisecond: minSnooze, 2 * time.Second: 2 * time.Second,
		time.Hour: maxSnooze,
	} {
		if got := clampSnooze(in); got != want {
			t.Errorf("clampSnooze(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestOpenRejectsRescueNotAfterTimeout(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), JobTimeout: time.Minute, RescueAfter: time.Minute}
	if s, err := Open(context.Background(), cfg, nil); err == nil {
		_ = s.Close()
		t.Fatal("Open accepted RescueAfter == JobTimeout")
	}
}

func TestAcceptDeduplicates(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		var wins atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Accept(ctx, "slack", "Ev123", Task{Kind: "slack_request", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
				if err != nil {
					errs <- err
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Accept: %v", err)
		}
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d concurrent Accepts of one delivery returned true, want exactly 1", n)
		}
		counts, err := s.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts["available"] != 1 {
			t.Fatalf("JobCounts = %v, want exactly one available job", counts)
		}
		for _, st := range []string{"available", "running", "retryable", "completed", "cancelled", "discarded", "scheduled"} {
			if _, ok := counts[st]; !ok {
				t.Errorf("JobCounts has no %q", st)
			}
		}
		// The same id from another source is another delivery; the same key again is not.
		if ok, err := s.Accept(ctx, "github", "Ev123", Task{Kind: "github_run"}); !ok || err != nil {
			t.Errorf("Accept(github, Ev123) = %v, %v; want true", ok, err)
		}
		if ok, err := s.Accept(ctx, "slack", "Ev123", Task{Kind: "slack_request"}); ok || err != nil {
			t.Errorf("repeated Accept = %v, %v; want false", ok, err)
		}
		if _, err := s.Accept(ctx, "slack", "Ev999", Task{Kind: "slack_request", Payload: json.RawMessage(`{not json`)}); err == nil {
			t.Error("Accept took a payload that is not JSON")
		}
		// A rejected Accept left no delivery behind: the same id is still free.
		if ok, err := s.Accept(ctx, "slack", "Ev999", Task{Kind: "slack_request"}); !ok || err != nil {
			t.Errorf("Accept after a rejected one = %v, %v; want true", ok, err)
		}
	})
}

func TestJobsRunWithTheirTask(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil, func(c *Config) { c.MaxAttempts = 7 })
		want := map[string]string{}
		for i := range 5 {
			// Spaced and with keys out of order: the handler gets these very bytes back.
			payload := fmt.Sprintf(`{ "text": "log line %d",  "i": %d }`, i, i)
			want[strconv.FormatInt(accept(t, s, "d"+strconv.Itoa(i), "kind_"+strconv.Itoa(i%2), payload), 10)] = payload
		}
		rec := &recorder{}
		start(t, s, rec.handle)
		waitFor(t, 10*time.Second, "5 jobs to run", func() bool { return len(rec.calls()) >= 5 })
		for _, task := range rec.calls() {
			id := strconv.FormatInt(task.ID, 10)
			if string(task.Payload) != want[id] {
				t.Errorf("job %s got payload %s, want %s", id, task.Payload, want[id])
			}
			var p struct{ I int }
			if err := json.Unmarshal(task.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if task.Kind != "kind_"+strconv.Itoa(p.I%2) || task.Attempt != 1 || task.MaxAttempts != 7 {
				t.Errorf("task %+v: want kind_%d, attempt 1 of 7", task, p.I%2)
			}
		}
		waitFor(t, 5*time.Second, "5 completed jobs", func() bool {
			c, err := s.JobCounts(context.Background())
			return err == nil && c["completed"] == 5
		})
		if n := len(rec.calls()); n != 5 {
			t.Errorf("handler ran %d times for 5 jobs", n)
		}
	})
}

func TestTransientErrorIsRetried(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		logs := &logBuffer{}
		s := open(t, db, logs)
		id := accept(t, s, "d1", "github_run", `{}`)
		rec := &recorder{do: func(_ context.Context, _ Task, call int) error {
			if call == 1 {
				return fmt.Errorf("GitHub said 502: %w", notPermanent{})
			}
			if call == 2 {
				return errors.New("connection reset")
			}
			return nil
		}}
		start(t, s, rec.handle)
		waitState(t, s, id, "completed", 10*time.Second)
		calls := rec.calls()
		if len(calls) != 3 {
			t.Fatalf("handler ran %d times, want 3", len(calls))
		}
		for i, c := range calls {
			if c.Attempt != i+1 {
				t.Errorf("call %d had attempt %d, want %d", i+1, c.Attempt, i+1)
			}
		}
		jobID := fmt.Sprintf(`"job_id":%d`, id)
		if got := logs.lines(`"outcome":"retrying"`, jobID, `"kind":"github_run"`); len(got) != 2 {
			t.Errorf("%d 'retrying' log lines, want 2:\n%s", len(got), logs.String())
		}
		// One line per attempt (two retries, one success), each with the job's id under
		// job_id and its duration as text; River's own lines about the attempts are
		// filtered out, and nothing says the retried attempts "finished".
		if got := logs.lines(jobID); len(got) != 3 {
			t.Errorf("%d log lines name the job, want 3 (one per attempt):\n%s", len(got), logs.String())
		}
		reDuration := regexp.MustCompile(`"duration":"[0-9.]+(µs|ms|s)"`)
		for _, l := range logs.lines(jobID) {
			if !reDuration.MatchString(l) {
				t.Errorf("no duration as text in %s", l)
			}
		}
		if got := logs.lines(jobID, `"outcome":"completed"`); len(got) != 1 {
			t.Errorf("%d completed lines, want 1:\n%s", len(got), logs.String())
		}
		for _, bad := range []string{fmt.Sprintf(`"id":%d`, id), "Job errored", "finished"} {
			if got := logs.lines(bad); len(got) != 0 {
				t.Errorf("log lines with %s: %q", bad, got)
			}
		}
	})
}

func TestRetryAfterSnoozesWithoutUsingAnAttempt(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil, func(c *Config) { c.MaxAttempts = 1 })
		id := accept(t, s, "d1", "slack_request", `{}`)
		rec := &recorder{do: func(_ context.Context, _ Task, call int) error {
			if call <= 2 {
				return fmt.Errorf("posting: %w", rateLimited{after: 300 * time.Millisecond})
			}
			return nil
		}}
		start(t, s, rec.handle)
		waitState(t, s, id, "completed", 10*time.Second)
		calls := rec.calls()
		// With MaxAttempts 1 any counted failure would have discarded the job.
		if len(calls) != 3 {
			t.Fatalf("handler ran %d times, want 3 (two snoozes, then success)", len(calls))
		}
		for _, c := range calls {
			if c.Attempt != 1 {
				t.Errorf("a snoozed job came back with attempt %d, want 1", c.Attempt)
			}
		}
		rec.mu.Lock()
		gap := rec.times[1].Sub(rec.times[0])
		rec.mu.Unlock()
		if gap < 250*time.Millisecond {
			t.Errorf("snoozed for 300ms but ran again after %s", gap)
		}
	})
}

func TestPermanentErrorGivesUp(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		logs := &logBuffer{}
		s := open(t, db, logs)
		id := accept(t, s, "d1", "slack_request", `{}`)
		rec := &recorder{do: func(context.Context, Task, int) error {
			return fmt.Errorf("reading the file: %w", permanent{msg: "file too large"})
		}}
		start(t, s, rec.handle)
		waitState(t, s, id, "cancelled", 10*time.Second)
		time.Sleep(300 * time.Millisecond) // would be long enough for a retry
		if n := len(rec.calls()); n != 1 {
			t.Errorf("a permanent failure ran %d times, want 1", n)
		}
		lines := logs.lines(`"level":"WARN"`, `"outcome":"given_up"`, `"kind":"slack_request"`, fmt.Sprintf(`"job_id":%d`, id), "file too large")
		if len(lines) != 1 {
			t.Errorf("want one WARN 'job given up' line with kind, id and error; log:\n%s", logs.String())
		}
	})
}

func TestMaxAttemptsDiscards(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		logs := &logBuffer{}
		s := open(t, db, logs, func(c *Config) { c.MaxAttempts = 3 })
		id := accept(t, s, "d1", "github_run", `{}`)
		rec := &recorder{do: func(context.Context, Task, int) error { return errors.New("still broken") }}
		start(t, s, rec.handle)
		waitState(t, s, id, "discarded", 10*time.Second)
		calls := rec.calls()
		if len(calls) != 3 || calls[2].Attempt != 3 {
			t.Fatalf("calls %+v, want attempts 1, 2, 3", calls)
		}
		if got := logs.lines(`"level":"WARN"`, `"outcome":"discarded"`, `"kind":"github_run"`, "still broken"); len(got) != 1 {
			t.Errorf("want one WARN discard line; log:\n%s", logs.String())
		}
	})
}

func TestPanicIsRetried(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		logs := &logBuffer{}
		s := open(t, db, logs)
		id := accept(t, s, "d1", "github_run", `{}`)
		rec := &recorder{do: func(_ context.Context, _ Task, call int) error {
			if call == 1 {
				panic("handler bug: index out of range")
			}
			return nil
		}}
		start(t, s, rec.handle)
		waitState(t, s, id, "completed", 10*time.Second)
		if calls := rec.calls(); len(calls) != 2 || calls[1].Attempt != 2 {
			t.Fatalf("calls %+v, want a panicking attempt 1 and a successful attempt 2", calls)
		}
		if got := logs.lines(`"level":"ERROR"`, `"msg":"job panicked"`, "handler bug: index out of range", `"kind":"github_run"`); len(got) != 1 {
			t.Errorf("want one ERROR 'job panicked' line; log:\n%s", logs.String())
		}
	})
}

func TestJobTimeoutIsRetried(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil, func(c *Config) { c.JobTimeout = 200 * time.Millisecond; c.RescueAfter = 5 * time.Second })
		id := accept(t, s, "d1", "github_run", `{}`)
		rec := &recorder{do: func(ctx context.Context, _ Task, call int) error {
			if call == 1 {
				<-ctx.Done()
				return fmt.Errorf("fetching the log: %w", ctx.Err())
			}
			return nil
		}}
		start(t, s, rec.handle)
		waitState(t, s, id, "completed", 10*time.Second)
		if calls := rec.calls(); len(calls) != 2 || calls[1].Attempt != 2 {
			t.Fatalf("calls %+v, want a timed-out attempt 1, then attempt 2", calls)
		}
	})
}

func TestStopLetsRunningJobFinish(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		id := accept(t, s, "d1", "slack_request", `{}`)
		release := make(chan struct{})
		var cancelled atomic.Bool
		rec := &recorder{do: func(ctx context.Context, _ Task, _ int) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				cancelled.Store(true)
				return ctx.Err()
			}
		}}
		start(t, s, rec.handle)
		waitFor(t, 10*time.Second, "the job to start", func() bool { return len(rec.calls()) == 1 })
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- s.Stop(ctx)
		}()
		// Stop is waiting for the job, not cancelling it.
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a job was running", err)
		case <-time.After(300 * time.Millisecond):
		}
		// Jobs accepted now wait for the next start.
		later := accept(t, s, "d2", "slack_request", `{}`)
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if cancelled.Load() {
			t.Error("the running job's context was cancelled during a graceful stop")
		}
		if st, _ := jobState(t, s, id); st != "completed" {
			t.Errorf("the running job is %q after Stop, want completed", st)
		}
		if st, _ := jobState(t, s, later); st != "available" {
			t.Errorf("a job accepted during Stop is %q, want available", st)
		}
	})
}

func TestStopDeadlineRequeuesRunningJob(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		id := accept(t, s, "d1", "slack_request", `{}`)
		rec := &recorder{do: func(ctx context.Context, _ Task, call int) error {
			if call == 1 {
				<-ctx.Done()
				return fmt.Errorf("posting to Slack: %w", ctx.Err())
			}
			return nil
		}}
		if err := s.Start(context.Background(), rec.handle); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the job to start", func() bool { return len(rec.calls()) == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		st, attempt := jobState(t, s, id)
		if st != "available" || attempt != 0 {
			t.Fatalf("after Stop's deadline the job is %q with attempt %d, want available with its attempt given back", st, attempt)
		}
		// Started again, the job runs again as its first attempt.
		start(t, s, rec.handle)
		waitState(t, s, id, "completed", 10*time.Second)
		if calls := rec.calls(); len(calls) != 2 || calls[1].Attempt != 1 {
			t.Fatalf("calls %+v, want the interrupted run then attempt 1 again", calls)
		}
	})
}

func TestCloseMidJobThenReopenRunsItAgain(t *testing.T) {
	db := newSQLiteDB(t)
	t.Parallel()
	ctx := context.Background()
	s1, err := Open(ctx, db.config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Accept(ctx, "test", "d1", Task{Kind: "slack_request", Payload: json.RawMessage(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	// A handler that ignores cancellation, like a stuck network call.
	stuck := make(chan struct{})
	defer close(stuck)
	var started atomic.Bool
	if err := s1.Start(ctx, func(context.Context, Task) error {
		started.Store(true)
		<-stuck
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the job to start", started.Load)
	if err := s1.Close(); err != nil { // gives up on the job after closeWait
		t.Fatal(err)
	}

	logs := &logBuffer{}
	s2 := open(t, db, logs)
	id := jobOf(t, s2, "test", "d1")
	if st, _ := jobState(t, s2, id); st != "available" {
		t.Fatalf("after reopening, the abandoned job is %q, want available at once", st)
	}
	rec := &recorder{}
	start(t, s2, rec.handle)
	waitState(t, s2, id, "completed", 10*time.Second)
	if calls := rec.calls(); len(calls) != 1 || calls[0].Attempt != 2 || string(calls[0].Payload) != `{"x":1}` {
		t.Fatalf("calls %+v, want the job again as attempt 2", calls)
	}
	if len(logs.lines("resumed jobs left running", `"resumed":1`)) != 1 {
		t.Errorf("no 'resumed' log line:\n%s", logs.String())
	}
}

func TestResumeDiscardsJobOnItsLastAttempt(t *testing.T) {
	db := newSQLiteDB(t)
	t.Parallel()
	ctx := context.Background()
	s1, err := Open(ctx, db.config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Accept(ctx, "test", "d1", Task{Kind: "poison"}); err != nil {
		t.Fatal(err)
	}
	// As if the job's last attempt had killed its process.
	if _, err := s1.db.q().exec(ctx, `UPDATE river_job SET state = 'running', attempt = max_attempts,
		attempted_at = strftime('%Y-%m-%d %H:%M:%f', 'now')`); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	s2 := open(t, db, logs)
	if st, _ := jobState(t, s2, jobOf(t, s2, "test", "d1")); st != "discarded" {
		t.Fatalf("a job whose last attempt died with its process is %q, want discarded", st)
	}
	if len(logs.lines(`"level":"WARN"`, `"kind":"poison"`, "discarded")) != 1 {
		t.Errorf("no WARN discard line:\n%s", logs.String())
	}
}

func TestPostgresRescuesJobsOfDeadReplica(t *testing.T) {
	t.Parallel()
	db := newPostgresDB(t)
	ctx := context.Background()
	s := open(t, db, nil, func(c *Config) { c.JobTimeout = 500 * time.Millisecond; c.RescueAfter = time.Second })
	id := accept(t, s, "d1", "github_run", `{}`)
	// As if a replica had taken the job a minute ago and died.
	if _, err := s.db.q().exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '1 minute' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	start(t, s, rec.handle)
	waitState(t, s, id, "completed", 30*time.Second)
	if calls := rec.calls(); len(calls) != 1 || calls[0].Attempt != 2 {
		t.Fatalf("calls %+v, want the rescued job once, as attempt 2", calls)
	}
}

func TestPostgresStoresShareTheQueue(t *testing.T) {
	t.Parallel()
	db := newPostgresDB(t)
	a := open(t, db, nil, func(c *Config) { c.Workers = 8 })
	b := open(t, db, nil, func(c *Config) { c.Workers = 8 })
	const n = 200
	var runs sync.Map // job id → *atomic.Int32
	var byA, byB atomic.Int32
	var distinct atomic.Int32
	handler := func(mine *atomic.Int32) Handler {
		return func(_ context.Context, t Task) error {
			c, loaded := runs.LoadOrStore(t.ID, new(atomic.Int32))
			if !loaded {
				distinct.Add(1)
			}
			c.(*atomic.Int32).Add(1)
			mine.Add(1)
			time.Sleep(5 * time.Millisecond)
			return nil
		}
	}
	start(t, a, handler(&byA))
	start(t, b, handler(&byB))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			if ok, err := s.Accept(ctx, "github", "delivery-"+strconv.Itoa(i), Task{Kind: "github_run", Payload: json.RawMessage(`{}`)}); !ok || err != nil {
				t.Errorf("Accept %d = %v, %v", i, ok, err)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 40*time.Second, "200 jobs to run", func() bool { return distinct.Load() == n })
	time.Sleep(200 * time.Millisecond) // room for a duplicate run to show
	runs.Range(func(k, v any) bool {
		if c := v.(*atomic.Int32).Load(); c != 1 {
			t.Errorf("job %v ran %d times", k, c)
		}
		return true
	})
	if byA.Load() == 0 || byB.Load() == 0 || byA.Load()+byB.Load() != n {
		t.Errorf("store A ran %d jobs and store B %d, want both some, %d in all", byA.Load(), byB.Load(), n)
	}
}

func TestPostgresAcceptDeduplicatesAcrossStores(t *testing.T) {
	t.Parallel()
	db := newPostgresDB(t)
	stores := []*Store{open(t, db, nil), open(t, db, nil)}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := stores[i%2].Accept(context.Background(), "github", "same-delivery", Task{Kind: "github_run"})
			if err != nil {
				t.Errorf("Accept: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d Accepts across two stores returned true, want 1", n)
	}
	counts, err := stores[1].JobCounts(context.Background())
	if err != nil || counts["available"] != 1 {
		t.Fatalf("JobCounts = %v, %v; want one job", counts, err)
	}
}
