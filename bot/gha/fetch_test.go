package gha

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

func fetch(t *testing.T, c *Client, ref RunRef) (*Run, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.FetchRun(ctx, ref)
}

var fakeRef = RunRef{Owner: fakeOwner, Repo: fakeRepo, RunID: fakeRunID}

func TestFetchRun(t *testing.T) {
	f := setupFake(t)
	pkg := []byte(`{"name": "@octo-org/octo", "version": "1.0.0"}`)
	f.files["package.json"] = pkg
	c := f.newClient(f.env(), nil, nil)
	run, err := fetch(t, c, fakeRef)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}

	want := Run{
		Ref:          fakeRef,
		WorkflowPath: ".github/workflows/release.yml",
		WorkflowName: "Release",
		Event:        "push",
		HeadSHA:      fakeHeadSHA,
		HeadBranch:   "main",
		Conclusion:   "failure",
		HTMLURL:      "https://github.com/octo-org/octo-repo/actions/runs/289782451",
		Attempt:      1,
	}
	got := *run
	got.FailedJobs, got.Workflow, got.Callees, got.PackageJSON = nil, nil, nil, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run metadata:\n got %+v\nwant %+v", got, want)
	}

	// The failed and the timed-out job, in GitHub's order; not the successful, skipped
	// or cancelled ones.
	var ids []int64
	for _, j := range run.FailedJobs {
		ids = append(ids, j.ID)
	}
	if !slices.Equal(ids, []int64{publishJob, smokeJob}) {
		t.Fatalf("failed jobs = %v, want [%d %d]", ids, publishJob, smokeJob)
	}
	pub := run.FailedJobs[0]
	if pub.Name != "publish" || pub.Conclusion != "failure" ||
		pub.HTMLURL != "https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234003" {
		t.Errorf("publish job = %q %q %q", pub.Name, pub.Conclusion, pub.HTMLURL)
	}
	if !slices.Equal(pub.FailedSteps, []string{"Run npm publish --provenance --access public"}) {
		t.Errorf("publish failed steps = %q", pub.FailedSteps)
	}
	if !bytes.Equal(pub.Log, readTestdata(t, "logs/55501234003.log")) || pub.LogTruncated {
		t.Errorf("publish log: %d bytes, truncated=%v; want the recorded %d bytes", len(pub.Log), pub.LogTruncated, len(readTestdata(t, "logs/55501234003.log")))
	}
	smoke := run.FailedJobs[1]
	if smoke.Conclusion != "timed_out" || len(smoke.FailedSteps) != 0 || !bytes.Contains(smoke.Log, []byte("exceeded the maximum execution time")) {
		t.Errorf("smoke job = %q steps %q log %q", smoke.Conclusion, smoke.FailedSteps, smoke.Log)
	}

	// The workflow at head_sha, and the reusable workflows it calls, transitively; not the
	// commented-out call, the remote one, or the local action.
	if !bytes.Equal(run.Workflow, readTestdata(t, "workflows/release.yml")) {
		t.Errorf("workflow = %q", run.Workflow)
	}
	callees := slices.Sorted(maps.Keys(run.Callees))
	if !slices.Equal(callees, []string{".github/workflows/lint.yml", ".github/workflows/test.yml"}) {
		t.Errorf("callees = %q", callees)
	}
	if !bytes.Equal(run.Callees[".github/workflows/test.yml"], readTestdata(t, "workflows/test.yml")) {
		t.Errorf("test.yml = %q", run.Callees[".github/workflows/test.yml"])
	}
	// The root package.json at head_sha locates package fixes (repository.url, version).
	if !bytes.Equal(run.PackageJSON, pkg) {
		t.Errorf("package.json = %q", run.PackageJSON)
	}
	for _, r := range f.requests("contents") {
		if r.Query != "ref="+fakeHeadSHA {
			t.Errorf("contents request %s?%s not at head_sha", r.Path, r.Query)
		}
	}

	// All three pages of jobs were read; every API request carried the token, and the
	// signed log URL none.
	if n := len(f.requests("jobs")); n != 3 {
		t.Errorf("jobs pages requested = %d, want 3: %v", n, paths(f.requests("jobs")))
	}
	if q := f.requests("jobs")[0].Query; !strings.Contains(q, "filter=latest") {
		t.Errorf("jobs query = %q, want filter=latest", q)
	}
	for _, r := range f.requests("") {
		switch r.Route {
		case "blob":
			if r.Auth != "" {
				t.Errorf("the signed log URL received credentials: %q", r.Auth)
			}
		default:
			if r.Auth != "Bearer "+testToken {
				t.Errorf("%s %s: Authorization = %q", r.Method, r.Path, r.Auth)
			}
		}
	}
	if n := len(f.requests("blob")); n != 2 {
		t.Errorf("log downloads = %d, want 2", n)
	}
	if n := len(f.requests("run-logs")) + len(f.requests("attempt-logs")); n != 0 {
		t.Errorf("the run's archive was fetched %d times though the per-job logs worked", n)
	}
}

func TestFetchRunJob(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		wantRun  int64
		wantJob  int64
		wantConc string
	}{
		{"failed job", "https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234003", fakeRunID, publishJob, "failure"},
		{"older job link", "https://github.com/octo-org/octo-repo/runs/55501234003?check_suite_focus=true", fakeRunID, publishJob, "failure"},
		{"successful job asked for by name", "https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234001", fakeRunID, 55501234001, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupFake(t)
			f.logs[55501234001] = []byte("2025-11-20T09:58:45.0000000Z all 12 tests passed\n")
			c := f.newClient(f.env(), nil, nil)
			ref, err := ParseRunURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			run, err := fetch(t, c, ref)
			if err != nil {
				t.Fatalf("FetchRun: %v", err)
			}
			if run.Ref.RunID != tt.wantRun || len(run.FailedJobs) != 1 || run.FailedJobs[0].ID != tt.wantJob || run.FailedJobs[0].Conclusion != tt.wantConc {
				t.Fatalf("run %d jobs %+v", run.Ref.RunID, run.FailedJobs)
			}
			if len(run.FailedJobs[0].Log) == 0 || run.Workflow == nil {
				t.Errorf("job log %d bytes, workflow %d bytes", len(run.FailedJobs[0].Log), len(run.Workflow))
			}
			if n := len(f.requests("jobs")); n != 0 {
				t.Errorf("listed the run's jobs %d times for a single job", n)
			}
		})
	}

	t.Run("job of another run", func(t *testing.T) {
		f := setupFake(t)
		c := f.newClient(f.env(), nil, nil)
		_, err := fetch(t, c, RunRef{Owner: fakeOwner, Repo: fakeRepo, RunID: 1, JobID: publishJob})
		if err == nil || !strings.Contains(err.Error(), "belongs to run 289782451, not run 1") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFetchRunAttempt(t *testing.T) {
	f := setupFake(t)
	c := f.newClient(f.env(), nil, nil)
	ref, err := ParseRunURL("https://github.com/octo-org/octo-repo/actions/runs/289782451/attempts/2")
	if err != nil {
		t.Fatal(err)
	}
	run, err := fetch(t, c, ref)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}
	if run.Attempt != 2 || len(run.FailedJobs) != 2 {
		t.Errorf("attempt %d, %d failed jobs", run.Attempt, len(run.FailedJobs))
	}
	if len(f.requests("attempt")) != 1 || len(f.requests("attempt-jobs")) == 0 || len(f.requests("run")) != 0 || len(f.requests("jobs")) != 0 {
		t.Errorf("requests: %v", paths(f.requests("")))
	}
}

func TestFetchRunLogTruncated(t *testing.T) {
	f := setupFake(t)
	const limit = 1000
	c := f.newClient(f.env(), func(cfg *Config) { cfg.MaxLogBytes = limit }, nil)
	run, err := fetch(t, c, fakeRef)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}
	pub := run.FailedJobs[0]
	full := readTestdata(t, "logs/55501234003.log")
	if !pub.LogTruncated || !bytes.Equal(pub.Log, full[:limit]) {
		t.Errorf("log %d bytes, truncated=%v; want the first %d of %d bytes, truncated", len(pub.Log), pub.LogTruncated, limit, len(full))
	}
	if smoke := run.FailedJobs[1]; smoke.LogTruncated || len(smoke.Log) >= limit {
		t.Errorf("short log: %d bytes, truncated=%v", len(smoke.Log), smoke.LogTruncated)
	}
}

// A matrix of failed jobs shares one budget of four times the per-job cap.
func TestFetchRunLogBudget(t *testing.T) {
	f := setupFake(t)
	var jobs []string
	for i := range 6 {
		id := int64(77700000 + i)
		f.logs[id] = bytes.Repeat([]byte("x"), 600)
		jobs = append(jobs, fmt.Sprintf(`{"id":%d,"run_id":%d,"name":"test (%d)","status":"completed","conclusion":"failure","steps":[]}`, id, fakeRunID, i))
	}
	f.jobs = []byte(`{"total_count":6,"jobs":[` + strings.Join(jobs, ",") + `]}`)
	c := f.newClient(f.env(), func(cfg *Config) { cfg.MaxLogBytes = 500 }, nil)
	run, err := fetch(t, c, fakeRef)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}
	var sizes []int
	var total int
	for _, j := range run.FailedJobs {
		sizes = append(sizes, len(j.Log))
		total += len(j.Log)
		if !j.LogTruncated {
			t.Errorf("job %d not marked truncated", j.ID)
		}
	}
	if !slices.Equal(sizes, []int{500, 500, 500, 500, 0, 0}) || total != 2000 {
		t.Errorf("log sizes = %v", sizes)
	}
}

func TestFetchRunArchiveFallback(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakeGitHub)
	}{
		{"per-job endpoint fails", func(f *fakeGitHub) {
			f.override["job-logs"] = errorWith(f.t, http.StatusInternalServerError, "errors/not_found.json", nil)
		}},
		{"signed URL already expired", func(f *fakeGitHub) {
			f.override["blob"] = func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("kind") == "jobs" {
					http.Error(w, "BlobNotFound", http.StatusNotFound)
					return
				}
				_, _ = w.Write(f.runArchive())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupFake(t)
			tt.setup(f)
			var logs bytes.Buffer
			c := f.newClient(f.env(), nil, slog.New(slog.NewTextHandler(&logs, nil)))
			run, err := fetch(t, c, fakeRef)
			if err != nil {
				t.Fatalf("FetchRun: %v", err)
			}
			for _, j := range run.FailedJobs {
				if want := f.logs[j.ID]; !bytes.Equal(j.Log, want) {
					t.Errorf("job %q log from the archive: %d bytes, want %d", j.Name, len(j.Log), len(want))
				}
			}
			if n := len(f.requests("attempt-logs")); n != 1 {
				t.Errorf("run archive requested %d times, want once for both jobs", n)
			}
			if !strings.Contains(logs.String(), "trying the run's log archive") {
				t.Errorf("no warning logged about the fallback:\n%s", logs.String())
			}
		})
	}
}

func TestFetchRunLogsExpired(t *testing.T) {
	tests := []struct {
		name   string
		status int
		file   string
	}{
		{"410", http.StatusGone, "errors/gone.json"},
		{"404 from the logs endpoints", http.StatusNotFound, "errors/not_found.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupFake(t)
			f.override["job-logs"] = errorWith(t, tt.status, tt.file, nil)
			f.override["run-logs"] = errorWith(t, tt.status, tt.file, nil)
			f.override["attempt-logs"] = errorWith(t, tt.status, tt.file, nil)
			c := f.newClient(f.env(), nil, nil)
			_, err := fetch(t, c, fakeRef)
			if !errors.Is(err, ErrLogsExpired) || errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrLogsExpired", err)
			}
			msg := err.Error()
			for _, want := range []string{"job 55501234003", "octo-org/octo-repo", "90 days", fmt.Sprintf("HTTP %d", tt.status)} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
		})
	}
}

func TestFetchRunNotFound(t *testing.T) {
	f := setupFake(t)
	c := f.newClient(f.env(), nil, nil)
	for _, ref := range []RunRef{
		{Owner: fakeOwner, Repo: fakeRepo, RunID: 1},
		{Owner: fakeOwner, Repo: "private-repo", RunID: fakeRunID},
	} {
		_, err := fetch(t, c, ref)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: err = %v, want ErrNotFound", ref, err)
		}
		if want := fmt.Sprintf("fetching %s/%s run %d: ", ref.Owner, ref.Repo, ref.RunID); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("message %q does not start %q", err, want)
		}
		var ge *github.ErrorResponse
		if !errors.As(err, &ge) || ge.Response.StatusCode != http.StatusNotFound {
			t.Errorf("go-github's error is not in the chain: %v", err)
		}
	}
}

// The workflow file can be missing at the commit (deleted, renamed, dynamic); the run is
// still worth diagnosing from its logs.
func TestFetchRunWorkflowMissing(t *testing.T) {
	f := setupFake(t)
	delete(f.files, ".github/workflows/release.yml")
	c := f.newClient(f.env(), nil, nil)
	run, err := fetch(t, c, fakeRef)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}
	if run.Workflow != nil || run.Callees != nil || len(run.FailedJobs) != 2 {
		t.Errorf("workflow %q callees %v jobs %d", run.Workflow, run.Callees, len(run.FailedJobs))
	}

	f = setupFake(t)
	f.run = bytes.Replace(f.run, []byte(`".github/workflows/release.yml"`), []byte(`"dynamic/github-code-scanning/codeql"`), 1)
	c = f.newClient(f.env(), nil, nil)
	run, err = fetch(t, c, fakeRef)
	if err != nil {
		t.Fatalf("FetchRun: %v", err)
	}
	if run.WorkflowPath != "dynamic/github-code-scanning/codeql" || run.Workflow != nil || len(f.requests("contents")) != 0 {
		t.Errorf("dynamic workflow: path %q, %d contents requests", run.WorkflowPath, len(f.requests("contents")))
	}
}

func TestFetchRunRateLimit(t *testing.T) {
	reset := time.Now().Add(17 * time.Minute).Truncate(time.Second)
	primary := map[string]string{
		"X-RateLimit-Limit":     "5000",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Used":      "5000",
		"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
	}
	tests := []struct {
		name      string
		route     string
		status    int
		file      string
		headers   map[string]string
		secondary bool
		reset     time.Time // zero: none expected
		retry     time.Duration
	}{
		{name: "primary 403", route: "run", status: 403, file: "errors/rate_limit.json", headers: primary, reset: reset},
		{name: "primary 429", route: "jobs", status: 429, file: "errors/rate_limit.json", headers: primary, reset: reset},
		{name: "primary on the logs endpoint", route: "job-logs", status: 403, file: "errors/rate_limit.json", headers: primary, reset: reset},
		{name: "secondary with Retry-After", route: "run", status: 403, file: "errors/secondary_rate_limit.json", headers: map[string]string{"Retry-After": "60"}, secondary: true, retry: time.Minute},
		{name: "secondary by message only", route: "contents", status: 403, file: "errors/secondary_rate_limit_no_docs.json", secondary: true},
		{name: "secondary 429", route: "job-logs", status: 429, file: "errors/secondary_rate_limit.json", headers: map[string]string{"Retry-After": "30"}, secondary: true, retry: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupFake(t)
			f.override[tt.route] = errorWith(t, tt.status, tt.file, tt.headers)
			c := f.newClient(f.env(), nil, nil)
			start := time.Now()
			_, err := fetch(t, c, fakeRef)
			var rl *RateLimitError
			if !errors.As(err, &rl) {
				t.Fatalf("err = %v, want *RateLimitError", err)
			}
			if rl.Secondary != tt.secondary {
				t.Errorf("Secondary = %v", rl.Secondary)
			}
			switch {
			case !tt.reset.IsZero():
				if !rl.Reset.Equal(tt.reset) || rl.Limit != 5000 {
					t.Errorf("Reset = %v limit %d, want %v 5000", rl.Reset, rl.Limit, tt.reset)
				}
				var ge *github.RateLimitError
				if !errors.As(err, &ge) {
					t.Errorf("go-github's RateLimitError is not in the chain")
				}
			case tt.retry > 0:
				if d := rl.Reset.Sub(start); d < tt.retry-2*time.Second || d > tt.retry+2*time.Second {
					t.Errorf("Reset in %v, want about %v", d, tt.retry)
				}
			default:
				if !rl.Reset.IsZero() {
					t.Errorf("Reset = %v, want none", rl.Reset)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, "rate limit exceeded") || !strings.Contains(msg, "try again") {
				t.Errorf("message %q", msg)
			}
			if !tt.reset.IsZero() && !strings.Contains(msg, tt.reset.UTC().Format(time.RFC3339)) {
				t.Errorf("message %q lacks the reset time", msg)
			}
			// A rate limit is not a reason to try the run's archive: it would be limited too.
			if n := len(f.requests("run-logs")) + len(f.requests("attempt-logs")); n != 0 {
				t.Errorf("fell back to the run archive under a rate limit")
			}
		})
	}
}

func TestFetchRunRefused(t *testing.T) {
	tests := []struct {
		name   string
		route  string
		status int
		file   string
		want   error
	}{
		{"bad credentials", "run", http.StatusUnauthorized, "errors/bad_credentials.json", ErrUnauthorized},
		{"missing permission", "jobs", http.StatusForbidden, "errors/not_accessible.json", ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupFake(t)
			f.override[tt.route] = errorWith(t, tt.status, tt.file, nil)
			c := f.newClient(f.env(), nil, nil)
			_, err := fetch(t, c, fakeRef)
			var rl *RateLimitError
			if !errors.Is(err, tt.want) || errors.As(err, &rl) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// Every answer is read through a cap, whatever the server says about its size.
func TestFetchRunBodyTooLarge(t *testing.T) {
	f := setupFake(t)
	f.override["jobs"] = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"total_count":1,"jobs":[{"name":"`))
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for range maxAPIBody>>20 + 2 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`"}]}`))
	}
	c := f.newClient(f.env(), nil, nil)
	_, err := fetch(t, c, fakeRef)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestFetchRunBadRef(t *testing.T) {
	f := setupFake(t)
	c := f.newClient(f.env(), nil, nil)
	for _, ref := range []RunRef{
		{Owner: "octo-org", Repo: "../../x", RunID: 1},
		{Owner: "octo-org", Repo: "octo-repo"},
		{Owner: "", Repo: "octo-repo", RunID: 1},
	} {
		if _, err := fetch(t, c, ref); err == nil {
			t.Errorf("%+v: no error", ref)
		}
	}
	if n := len(f.requests("")); n != 0 {
		t.Errorf("%d requests sent for invalid refs", n)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}, nil); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: err = %v", err)
	}
	if _, err := New(Config{Token: "x", APIURL: "ftp://example.com/"}, nil); err == nil {
		t.Error("ftp API URL accepted")
	}
	if _, err := New(Config{AppID: 1}, nil); err == nil {
		t.Error("App without key accepted")
	}
	c, err := New(Config{Token: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.token.BaseURL(); got != DefaultAPIURL {
		t.Errorf("default API URL = %q", got)
	}
	if c.maxLogBytes != DefaultMaxLogBytes {
		t.Errorf("default MaxLogBytes = %d", c.maxLogBytes)
	}
	c, err = New(Config{Token: "x", APIURL: "https://ghes.example.com/api/v3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.token.BaseURL(); got != "https://ghes.example.com/api/v3/" {
		t.Errorf("GHES API URL = %q", got)
	}
}

func TestLocalCallees(t *testing.T) {
	wf := strings.Join([]string{
		"jobs:",
		"  a:",
		"    uses: ./.github/workflows/a.yml",
		"  b:",
		"    uses: './.github/workflows/b.yaml'  # quoted",
		"  c:",
		`    uses: "./.github/workflows/a.yml"`,
		"  # d:",
		"  #   uses: ./.github/workflows/d.yml",
		"  e:",
		"    uses: octo-org/other/.github/workflows/e.yml@v1",
		"  f:",
		"    steps:",
		"      - uses: ./.github/actions/setup",
		"      - uses: ./.github/workflows/f.yml\r",
		"  g:",
		"    uses: ./.github/workflows/../../secrets.yml",
		"  h:",
		`    uses: "./.github/workflows/h.yml'`,
	}, "\n")
	got := localCallees([]byte(wf))
	want := []string{".github/workflows/a.yml", ".github/workflows/b.yaml", ".github/workflows/f.yml"}
	if !slices.Equal(got, want) {
		t.Errorf("localCallees = %q, want %q", got, want)
	}
}
