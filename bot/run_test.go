package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// Auto mode hands its context to the engine: a request cancelled while a long job log is
// being scanned stops the scan, and one cancelled before asks nothing of the registry.
func TestDiagnoseRunStopsWithItsContext(t *testing.T) {
	eng := testEngine(t)
	line := []byte("2026-11-25T09:12:00.0000000Z npm notice building the package tarball for a long publish step\n")
	log := bytes.Repeat(line, (64<<20)/len(line)) // 64 MB: seconds of scanning
	run := &Run{Ref: RunRef{Owner: "acme", Repo: "widgets", RunID: 42}, WorkflowPath: ".github/workflows/release.yml",
		FailedJobs: []Job{{Name: "publish", Log: log}}}
	reg := &fakeRegistry{base: "https://registry.npmjs.org/"}
	logger := slog.New(slog.DiscardHandler)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := DiagnoseRun(ctx, eng, run, reg, logger); !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled before: %d results, %v; want none and context.Canceled", len(res), err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	res, err := DiagnoseRun(ctx, eng, run, reg, logger)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled while scanning 64 MB: %d results, %v after %s; want none and context.Canceled", len(res), err, took)
	}
	if took > 5*time.Second {
		t.Errorf("the scan went on %s after its context was cancelled at 50ms", took)
	}
	if len(reg.asked) != 0 {
		t.Errorf("the registry was asked %q for a cancelled diagnosis", reg.asked)
	}
}

// A webhook job stopped while its run is being diagnosed posts nothing and is not given
// up: it runs again.
func TestWebhookJobStoppedMidScanRunsAgain(t *testing.T) {
	h := newHarness(t)
	h.runs.runs[401] = publishRun(t, 401, example(t, "old-npm.log"))
	payload, _ := json.Marshal(runEvent(401, 41, "failure"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.svc.Handle(ctx, Task{Kind: TaskGitHub, Payload: payload, Attempt: 1, MaxAttempts: 10})
	if !errors.Is(err, context.Canceled) || isPermanent(err) {
		t.Fatalf("Handle = %v, want the cancellation, not given up", err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 0 {
		t.Errorf("%d posts from a stopped job", len(posts))
	}
	if err := h.deliver(t, runEvent(401, 41, "failure")); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts after the job ran again, want its parent", len(posts))
	}
}
