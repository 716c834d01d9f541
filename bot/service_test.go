package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/metrics"
	"github.com/pubdoc/pubdoc/knowledge"
)

var (
	engOnce sync.Once
	engine  *diagnose.Engine
	engErr  error
)

func testEngine(t *testing.T) *diagnose.Engine {
	t.Helper()
	engOnce.Do(func() {
		kb, err := knowledge.Load()
		if err != nil {
			engErr = err
			return
		}
		engine, engErr = diagnose.New(kb, slog.New(slog.DiscardHandler), diagnose.Options{})
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return engine
}

func example(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type harness struct {
	svc   *Service
	store *fakeStore
	msg   *fakeMessenger
	runs  *fakeRuns
	now   time.Time
	mu    sync.Mutex
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

const testRoutes = `
routes:
  - repos: ["acme/*"]
    channel: C0PUBDOC
    allow_channels: [C0ONCALL]
default_channel: C0TRIAGE
`

func newHarness(t *testing.T) *harness {
	t.Helper()
	st := newFakeStore()
	routes, err := ParseRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{store: st, msg: &fakeMessenger{files: map[string][]byte{}}, runs: &fakeRuns{runs: map[int64]*Run{}}, now: time.Date(2026, 11, 25, 9, 12, 0, 0, time.UTC)}
	h.svc, err = New(Config{Engine: testEngine(t), Store: st, Messenger: h.msg, GitHub: h.runs, Routes: routes, Now: h.clock,
		Flood: Flood{PostEvery: time.Millisecond}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ask accepts a request and runs its job as the store's worker would.
func (h *harness) ask(t *testing.T, req Request) error {
	t.Helper()
	ok, err := h.svc.Accept(context.Background(), req)
	if err != nil || !ok {
		t.Fatalf("Accept = %v, %v", ok, err)
	}
	payload, _ := json.Marshal(req)
	return h.svc.Handle(context.Background(), Task{Kind: TaskSlack, Payload: payload, Attempt: 1, MaxAttempts: 10})
}

func TestMentionWithLogRepliesInThread(t *testing.T) {
	h := newHarness(t)
	req := Request{Kind: "mention", DeliveryID: "Ev1", Channel: "C1", User: "U1", ThreadTS: "1700000000.000100", Text: example(t, "old-npm.log")}
	if err := h.ask(t, req); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 1 || len(eph) != 0 {
		t.Fatalf("posts %d ephemerals %d, want 1 and 0", len(posts), len(eph))
	}
	p := posts[0]
	if p.Target.Channel != "C1" || p.Target.ThreadTS != req.ThreadTS {
		t.Errorf("posted to %+v, want C1 in thread %s", p.Target, req.ThreadTS)
	}
	if p.Reply.Result == nil || p.Reply.Result.Verdict != diagnose.Diagnosed || p.Reply.Result.Diagnoses[0].ID != "oidc-npm-too-old" {
		t.Fatalf("reply %+v, want oidc-npm-too-old diagnosed", p.Reply.Result)
	}
	if p.Reply.DiagnosisID == 0 || p.Reply.Key == "" {
		t.Errorf("reply carries diagnosis %d key %q: want both set", p.Reply.DiagnosisID, p.Reply.Key)
	}
	d, err := h.store.Diagnosis(context.Background(), p.Reply.DiagnosisID)
	if err != nil {
		t.Fatal(err)
	}
	if d.RuleID != "oidc-npm-too-old" || d.TS != p.TS || d.Channel != "C1" {
		t.Errorf("stored %+v, want the rule and the reply's ts", d)
	}

	// The same job again (a retry after a crash before completion) posts nothing new.
	payload, _ := json.Marshal(req)
	if err := h.svc.Handle(context.Background(), Task{Kind: TaskSlack, Payload: payload, Attempt: 2, MaxAttempts: 10}); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 1 {
		t.Errorf("a retried job posted again: %d posts", len(posts))
	}
}

func TestAcceptDeduplicates(t *testing.T) {
	h := newHarness(t)
	req := Request{Kind: "mention", DeliveryID: "EvDup", Channel: "C1", Text: "x"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 3 {
		wg.Go(func() {
			ok, err := h.svc.Accept(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("%d of 3 identical deliveries accepted, want 1", accepted)
	}
}

func TestAskWithoutLogIsToldWhatToDo(t *testing.T) {
	h := newHarness(t)
	if err := h.ask(t, Request{Kind: "mention", DeliveryID: "Ev2", Channel: "C1", User: "U1", ThreadTS: "1.2", Text: "help?"}); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 0 || len(eph) != 1 || !strings.Contains(eph[0].Reply.Text, "no log") || eph[0].Target.User != "U1" {
		t.Fatalf("posts %d, ephemerals %+v: want one ephemeral saying no log was found", len(posts), eph)
	}
}

func TestRunURLNeedsAnAllowedChannel(t *testing.T) {
	h := newHarness(t)
	h.runs.runs[77] = publishRun(t, 77, example(t, "old-npm.log"))
	url := "https://github.com/acme/widgets/actions/runs/77"
	if err := h.ask(t, Request{Kind: "mention", DeliveryID: "Ev3", Channel: "CRANDOM", User: "U1", ThreadTS: "1.2", Text: url}); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 0 || len(eph) != 1 || !strings.Contains(eph[0].Reply.Text, "may not ask about acme/widgets") {
		t.Fatalf("posts %d ephemerals %+v: want a refusal", len(posts), eph)
	}
	if h.runs.calls != 0 {
		t.Errorf("GitHub was asked %d times for a channel that may not ask", h.runs.calls)
	}
	if err := h.ask(t, Request{Kind: "mention", DeliveryID: "Ev4", Channel: "C0ONCALL", User: "U1", ThreadTS: "1.3", Text: "<" + url + ">"}); err != nil {
		t.Fatal(err)
	}
	posts, _, _ = h.msg.snapshot()
	if len(posts) != 1 || posts[0].Reply.Result.Diagnoses[0].ID != "oidc-npm-too-old" || posts[0].Reply.RunURL == "" {
		t.Fatalf("posts %+v: want the run's diagnosis", posts)
	}
}

// A run URL is read only on the configured GitHub host: one on another host names a run
// the configured GitHub cannot vouch for, and its link must not be posted as ours.
func TestRunURLOnAForeignHostIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name, host, url string
		refused         bool
	}{
		{"foreign host, github.com configured", "", "https://github.evil.example/acme/widgets/actions/runs/77", true},
		{"look-alike host", "", "https://github.com.evil.example/acme/widgets/actions/runs/77", true},
		{"github.com, GHES configured", "ghes.example.com", "https://github.com/acme/widgets/actions/runs/77", true},
		{"GHES host", "ghes.example.com", "https://GHES.example.com/acme/widgets/actions/runs/77/job/770", false},
		{"www.github.com", "", "https://www.github.com/acme/widgets/actions/runs/77", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.runs.runs[77] = publishRun(t, 77, example(t, "old-npm.log"))
			h.runs.host = tt.host
			if err := h.ask(t, Request{Kind: "mention", DeliveryID: "EvHost", Channel: "C0ONCALL", User: "U1", ThreadTS: "1.2", Text: "<" + tt.url + ">"}); err != nil {
				t.Fatal(err)
			}
			posts, _, eph := h.msg.snapshot()
			if !tt.refused {
				if len(posts) != 1 || len(eph) != 0 {
					t.Fatalf("posts %d ephemerals %+v: want the run's diagnosis", len(posts), eph)
				}
				return
			}
			want := "github.com"
			if tt.host != "" {
				want = tt.host
			}
			if len(posts) != 0 || len(eph) != 1 || !strings.Contains(eph[0].Reply.Text, "I read runs only from "+want) {
				t.Fatalf("posts %d ephemerals %+v: want one refusal naming %s", len(posts), eph, want)
			}
			if h.runs.calls != 0 {
				t.Errorf("GitHub was asked %d times about a run on another host", h.runs.calls)
			}
		})
	}
}

func TestFileShareIsDiagnosed(t *testing.T) {
	h := newHarness(t)
	h.msg.files["https://files.example/old.log"] = []byte(example(t, "old-npm.log"))
	h.msg.files["https://files.example/ok.log"] = []byte(example(t, "publish-succeeded.log"))
	if err := h.ask(t, Request{Kind: "file", DeliveryID: "Ev5", Channel: "C1", User: "U1", ThreadTS: "1.4", Files: []File{{Name: "old.log", URL: "https://files.example/old.log"}}}); err != nil {
		t.Fatal(err)
	}
	// A successful publish's log shared in a channel is not a question: no reply.
	if err := h.ask(t, Request{Kind: "file", DeliveryID: "Ev6", Channel: "C1", User: "U1", ThreadTS: "1.5", Files: []File{{Name: "ok.log", URL: "https://files.example/ok.log"}}}); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 1 || posts[0].Target.ThreadTS != "1.4" || len(eph) != 0 {
		t.Fatalf("posts %+v ephemerals %d: want one reply, to the failing log", posts, len(eph))
	}
}

func TestSlackRateLimitWaits(t *testing.T) {
	h := newHarness(t)
	h.msg.failPost = []error{rateLimited{3 * time.Second}}
	req := Request{Kind: "mention", DeliveryID: "Ev7", Channel: "C1", User: "U1", ThreadTS: "1.2", Text: example(t, "old-npm.log")}
	err := h.ask(t, req)
	var ra RetryAfterError
	if err == nil || !asRetryAfter(err, &ra) || ra.RetryAfter() != 3*time.Second {
		t.Fatalf("Handle = %v, want a 3s retry-after", err)
	}
	h.svc.pacer.next = map[string]time.Time{} // the store snoozed the job for the Retry-After
	payload, _ := json.Marshal(req)
	if err := h.svc.Handle(context.Background(), Task{Kind: TaskSlack, Payload: payload, Attempt: 2, MaxAttempts: 10}); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts after the wait, want 1", len(posts))
	}
}

func asRetryAfter(err error, ra *RetryAfterError) bool {
	return errors.As(err, ra)
}

const publishingWorkflow = `name: Release
on: push
permissions:
  contents: read
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 22
      - run: npm publish
`

func publishRun(t *testing.T, id int64, log string) *Run {
	t.Helper()
	return &Run{
		WorkflowPath: ".github/workflows/release.yml", WorkflowName: "Release", Event: "push", HeadBranch: "main", Conclusion: "failure",
		HTMLURL: fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id), Attempt: 1, Workflow: []byte(publishingWorkflow),
		FailedJobs: []Job{{ID: id * 10, Name: "publish", Conclusion: "failure", HTMLURL: fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d/job/%d", id, id*10), Log: []byte(log)}},
	}
}

func runEvent(id int64, number int, conclusion string) *Event {
	return &Event{Delivery: fmt.Sprintf("d-%d-%s", id, conclusion), Event: "workflow_run", Action: "completed", Repo: "acme/widgets",
		Run: &EventRun{ID: id, Attempt: 1, Number: number, Name: "Release", Path: ".github/workflows/release.yml", Event: "push",
			Status: "completed", Conclusion: conclusion, HeadBranch: "main", HTMLURL: fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id)}}
}

func (h *harness) deliver(t *testing.T, ev *Event) error {
	t.Helper()
	if _, err := h.svc.AcceptWebhook(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(ev)
	return h.svc.Handle(context.Background(), Task{Kind: TaskGitHub, Payload: payload, Attempt: 1, MaxAttempts: 10})
}

func TestFailedRunsShareOneThreadUntilFixed(t *testing.T) {
	h := newHarness(t)
	for id := int64(101); id <= 103; id++ {
		h.runs.runs[id] = publishRun(t, id, example(t, "old-npm.log"))
	}
	if err := h.deliver(t, runEvent(101, 11, "failure")); err != nil {
		t.Fatal(err)
	}
	posts, _, _ := h.msg.snapshot()
	if len(posts) != 1 || posts[0].Target.Channel != "C0PUBDOC" || posts[0].Target.ThreadTS != "" {
		t.Fatalf("first failure: posts %+v, want one parent in C0PUBDOC", posts)
	}
	parent := posts[0]
	// The job run again (rescued after a crash past its post): the parent is not posted twice
	// and no reply to itself appears.
	payload, _ := json.Marshal(runEvent(101, 11, "failure"))
	if err := h.svc.Handle(context.Background(), Task{Kind: TaskGitHub, Payload: payload, Attempt: 2, MaxAttempts: 10}); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 1 {
		t.Fatalf("the first failure's job run twice posted %d messages, want 1", len(posts))
	}
	if parent.Reply.Thread == nil || parent.Reply.Thread.Count != 1 || parent.Reply.Result.Diagnoses[0].ID != "oidc-npm-too-old" {
		t.Fatalf("parent reply %+v, want oidc-npm-too-old with a thread status of 1", parent.Reply)
	}
	h.advance(10 * time.Minute)
	for _, id := range []int64{102, 103} {
		if id == 103 {
			h.advance(DefaultReplyEvery) // one reply per thread per window: see flood_test.go for a storm
		}
		if err := h.deliver(t, runEvent(id, int(id-90), "failure")); err != nil {
			t.Fatal(err)
		}
	}
	posts, updates, _ := h.msg.snapshot()
	if len(posts) != 3 || posts[1].Target.ThreadTS != parent.TS || posts[2].Target.ThreadTS != parent.TS {
		t.Fatalf("repeats: posts %+v, want two replies in the parent's thread", posts)
	}
	if len(updates) != 2 || updates[1].TS != parent.TS || updates[1].Reply.Thread.Count != 3 {
		t.Fatalf("updates %+v, want the parent refreshed to 3 failures", updates)
	}
	if !updates[1].Reply.Thread.Since.Equal(time.Date(2026, 11, 25, 9, 12, 0, 0, time.UTC)) {
		t.Errorf("thread since %v, want the first failure's time", updates[1].Reply.Thread.Since)
	}

	// The same delivery again: deduplicated at the door.
	if ok, err := h.svc.AcceptWebhook(context.Background(), runEvent(102, 12, "failure")); ok || err != nil {
		t.Errorf("a repeated delivery was accepted (%v, %v)", ok, err)
	}

	// A green run of the workflow on the branch closes the thread.
	h.advance(50*time.Minute - DefaultReplyEvery)
	if err := h.deliver(t, runEvent(104, 14, "success")); err != nil {
		t.Fatal(err)
	}
	posts, updates, _ = h.msg.snapshot()
	last := posts[len(posts)-1]
	if len(posts) != 4 || last.Target.ThreadTS != parent.TS || !strings.Contains(last.Reply.Text, "Fixed in") || !strings.Contains(last.Reply.Text, "run #14") {
		t.Fatalf("after the green run: %+v, want 'Fixed in run #14' in the thread", last)
	}
	if u := updates[len(updates)-1]; u.Reply.Thread.ResolvedRun != 14 || u.TS != parent.TS {
		t.Errorf("parent update %+v, want resolved by run 14", u.Reply.Thread)
	}
	st, err := h.store.Stats(context.Background(), h.clock())
	if err != nil {
		t.Fatal(err)
	}
	if st.Resolved30 != 1 || st.MedianTimeToFix != time.Hour {
		t.Errorf("stats %+v, want one thread fixed in 1h", st)
	}

	// A later failure after the fix opens a new thread.
	h.runs.runs[105] = publishRun(t, 105, example(t, "old-npm.log"))
	if err := h.deliver(t, runEvent(105, 15, "failure")); err != nil {
		t.Fatal(err)
	}
	posts, _, _ = h.msg.snapshot()
	if last := posts[len(posts)-1]; last.Target.ThreadTS != "" || last.Reply.Thread == nil {
		t.Errorf("a failure after the fix went to %+v, want a new parent", last.Target)
	}
}

func TestNonPublishingWorkflowIsNotPosted(t *testing.T) {
	h := newHarness(t)
	r := publishRun(t, 201, "##[error]Process completed with exit code 1.\n")
	r.Workflow = []byte("name: CI\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: go test ./...\n")
	h.runs.runs[201] = r
	if err := h.deliver(t, runEvent(201, 1, "failure")); err != nil {
		t.Fatal(err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 0 {
		t.Errorf("a failing test workflow was posted: %+v", posts)
	}
}

func TestExpiredLogsAreSaidOnce(t *testing.T) {
	h := newHarness(t)
	h.runs.err = fmt.Errorf("fetching logs: %w", ErrLogsExpired)
	for range 2 {
		if err := h.deliver(t, &Event{Delivery: "same", Event: "workflow_run", Action: "completed", Repo: "acme/widgets", Run: &EventRun{ID: 9, Attempt: 1, Number: 3, Path: ".github/workflows/release.yml", Conclusion: "failure", HeadBranch: "main"}}); err != nil {
			t.Fatal(err)
		}
	}
	posts, _, _ := h.msg.snapshot()
	if len(posts) != 1 || !strings.Contains(posts[0].Reply.Text, "no longer has the logs") {
		t.Fatalf("posts %+v, want one message saying the logs expired", posts)
	}
}

func TestFeedbackAndStats(t *testing.T) {
	h := newHarness(t)
	for i, id := range []string{"F1", "F2"} {
		if err := h.ask(t, Request{Kind: "mention", DeliveryID: id, Channel: "C1", User: "U1", ThreadTS: fmt.Sprint(i), Text: example(t, "old-npm.log")}); err != nil {
			t.Fatal(err)
		}
	}
	posts, _, _ := h.msg.snapshot()
	msg, err := h.svc.Feedback(context.Background(), Feedback{DiagnosisID: posts[0].Reply.DiagnosisID, User: "U1", Kind: FeedbackFixed})
	if err != nil || !strings.Contains(msg, "fix worked") {
		t.Fatalf("Feedback = %q, %v", msg, err)
	}
	if _, err := h.svc.Feedback(context.Background(), Feedback{DiagnosisID: posts[1].Reply.DiagnosisID, User: "U2", Kind: FeedbackWrong, RuleID: "no-such-rule"}); err == nil {
		t.Error("feedback naming a rule that does not exist was accepted")
	}
	if _, err := h.svc.Feedback(context.Background(), Feedback{DiagnosisID: posts[1].Reply.DiagnosisID, User: "U2", Kind: FeedbackWrong, RuleID: "oidc-missing-id-token-permission", Note: "token npm_abcdefghijklmnopqrstuvwxyz0123456789 was fine"}); err != nil {
		t.Fatal(err)
	}
	text, err := h.svc.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 in 7 days", "`oidc-npm-too-old` 2 / 2", "50% right (1 of 2)"} {
		if !strings.Contains(text, want) {
			t.Errorf("stats lack %q:\n%s", want, text)
		}
	}
}

func TestSearchRulesForThePicker(t *testing.T) {
	h := newHarness(t)
	got := h.svc.SearchRules("token expired", 5)
	if len(got) == 0 || len(got) > 5 {
		t.Fatalf("SearchRules = %v", got)
	}
	found := false
	for _, o := range got {
		found = found || strings.Contains(o.ID, "token") || strings.Contains(strings.ToLower(o.Title), "token")
	}
	if !found {
		t.Errorf("no token rule among %v", got)
	}
	if all := h.svc.SearchRules("", 10); len(all) != 10 {
		t.Errorf("empty query gave %d options, want the first 10", len(all))
	}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestWebhookHandler(t *testing.T) {
	h := newHarness(t)
	logs := &logSink{}
	h.svc.logger = slog.New(slog.NewJSONHandler(logs, nil))
	h.svc.cfg.Metrics = metrics.New()
	srv := httptest.NewServer(h.svc.WebhookHandler(fakeWebhook{"s3cret"}))
	defer srv.Close()
	// A real delivery (pytorch/test-infra's recorded fixture), unwrapped from its envelope.
	env, err := os.ReadFile(filepath.Join("gha", "testdata", "webhook", "workflow_run.completed.failure.probot-envelope.json"))
	if err != nil {
		t.Fatal(err)
	}
	var envelope struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(env, &envelope); err != nil {
		t.Fatal(err)
	}
	body := []byte(envelope.Payload)
	post := func(sig, delivery string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", delivery)
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post(sign("wrong", body), "d1"); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", code)
	}
	if code, _ := post("", "d1"); code != http.StatusUnauthorized {
		t.Errorf("no signature: %d, want 401", code)
	}
	// Each refusal is logged once, with its reason, and counted.
	var refusals []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"refused a GitHub delivery"`) {
			refusals = append(refusals, l)
		}
	}
	if len(refusals) != 2 {
		t.Errorf("%d log lines for two refused deliveries, want 2:\n%s", len(refusals), logs.String())
	}
	for _, l := range refusals {
		if !strings.Contains(l, `"code":"bad_signature"`) || !strings.Contains(l, `"reason":"webhook signature missing or wrong`) || !strings.Contains(l, `"delivery":"d1"`) {
			t.Errorf("a refusal's line lacks its code, reason or delivery: %s", l)
		}
	}
	if got := metricValue(t, h.svc.cfg.Metrics, `pubdoc_events_rejected_total{reason="bad_signature",source="github"}`); got != "2" {
		t.Errorf("rejected github bad_signature = %s, want 2", got)
	}
	code, text := post(sign("s3cret", body), "d1")
	if code != http.StatusAccepted || !strings.Contains(text, "accepted") || strings.Contains(text, "already") {
		t.Errorf("good delivery: %d %q, want 202 accepted", code, text)
	}
	if code, text := post(sign("s3cret", body), "d1"); code != http.StatusAccepted || !strings.Contains(text, "already accepted") {
		t.Errorf("redelivery: %d %q, want 202 already accepted", code, text)
	}
	counts := h.store.jobCounts()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1 {
		t.Errorf("%d jobs persisted for one delivery, want 1 (%v)", total, counts)
	}
}

func TestTooLargeFileIsSaid(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.MaxFileBytes = 1 << 20
	h.msg.files["https://files.example/huge.log"] = make([]byte, 2<<20)
	if err := h.ask(t, Request{Kind: "dm", DeliveryID: "EvBig", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1.6", Files: []File{{Name: "huge.log", URL: "https://files.example/huge.log"}}}); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 0 || len(eph) != 1 || !strings.Contains(eph[0].Reply.Text, "huge.log is too large") || !strings.Contains(eph[0].Reply.Text, "limit is 1 MB") {
		t.Fatalf("posts %d ephemerals %+v: want one message saying the file is too large", len(posts), eph)
	}
}

// metricValue is the value of one series in the metrics' exposition, "" when absent.
func metricValue(t *testing.T, m *metrics.Metrics, series string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}
