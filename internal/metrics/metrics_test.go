package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scrape serves m.Handler() over HTTP and returns the exposition, as Prometheus sees it.
func scrape(t *testing.T, m *Metrics) (string, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	return string(body), srv
}

func TestExposition(t *testing.T) {
	m := New()
	m.EventReceived("github", "workflow_run")
	m.EventReceived("github", "workflow_run")
	m.EventReceived("slack", "app_mention")
	m.EventDeduplicated("github")
	m.EventRejected("github", "bad_signature")
	m.EventRejected("slack", "too_large")
	m.EventRejected("slack", "too_large")
	m.DiagnosisDone("diagnosed", "oidc-npm-too-old", 0.003)
	m.DiagnosisDone("diagnosed", "oidc-npm-too-old", 0.75)
	m.DiagnosisDone("no-known-cause", "", 12)
	m.APIError("github", "rate_limited")
	m.APIError("slack", "transient")
	m.APIError("slack", "transient")
	m.JobFinished("diagnose_run", "completed")
	m.JobFinished("diagnose_run", "retried")
	m.JobFinished("post_reply", "given_up")
	m.SetJobCounts(map[string]int{"available": 4, "running": 1, "retryable": 2})
	m.Posted("post")
	m.Posted("thread_reply")
	m.Posted("thread_reply")

	body, srv := scrape(t, m)
	for _, line := range []string{
		`pubdoc_events_received_total{kind="workflow_run",source="github"} 2`,
		`pubdoc_events_received_total{kind="app_mention",source="slack"} 1`,
		`pubdoc_events_deduplicated_total{source="github"} 1`,
		`pubdoc_events_rejected_total{reason="bad_signature",source="github"} 1`,
		`pubdoc_events_rejected_total{reason="too_large",source="slack"} 2`,
		`pubdoc_events_rejected_total{reason="malformed",source="github"} 0`,
		`pubdoc_diagnosis_seconds_bucket{verdict="diagnosed",le="0.005"} 1`,
		`pubdoc_diagnosis_seconds_bucket{verdict="diagnosed",le="0.5"} 1`,
		`pubdoc_diagnosis_seconds_bucket{verdict="diagnosed",le="1"} 2`,
		`pubdoc_diagnosis_seconds_bucket{verdict="diagnosed",le="+Inf"} 2`,
		`pubdoc_diagnosis_seconds_sum{verdict="diagnosed"} 0.753`,
		`pubdoc_diagnosis_seconds_count{verdict="diagnosed"} 2`,
		`pubdoc_diagnosis_seconds_bucket{verdict="no-known-cause",le="10"} 0`,
		`pubdoc_diagnosis_seconds_bucket{verdict="no-known-cause",le="30"} 1`,
		`pubdoc_diagnosis_seconds_count{verdict="no-known-cause"} 1`,
		`pubdoc_rule_hits_total{rule="oidc-npm-too-old"} 2`,
		`pubdoc_api_errors_total{api="github",kind="rate_limited"} 1`,
		`pubdoc_api_errors_total{api="slack",kind="transient"} 2`,
		`pubdoc_api_errors_total{api="registry",kind="permanent"} 0`,
		`pubdoc_jobs_finished_total{kind="diagnose_run",outcome="completed"} 1`,
		`pubdoc_jobs_finished_total{kind="diagnose_run",outcome="retried"} 1`,
		`pubdoc_jobs_finished_total{kind="post_reply",outcome="given_up"} 1`,
		`pubdoc_jobs{state="available"} 4`,
		`pubdoc_jobs{state="running"} 1`,
		`pubdoc_jobs{state="retryable"} 2`,
		`pubdoc_jobs{state="completed"} 0`,
		`pubdoc_slack_posts_total{kind="post"} 1`,
		`pubdoc_slack_posts_total{kind="thread_reply"} 2`,
		`# TYPE pubdoc_diagnosis_seconds histogram`,
		`# TYPE pubdoc_jobs gauge`,
		`# TYPE go_goroutines gauge`,
		`# TYPE process_cpu_seconds_total counter`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("the exposition lacks %s", line)
		}
	}
	if strings.Contains(body, `rule=""`) || strings.Contains(body, `rule="other"`) {
		t.Error("a diagnosis without a rule counted a rule hit")
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", body)
	}

	// The same, compared family by family as Prometheus parses them.
	want := `
# HELP pubdoc_rule_hits_total Diagnoses whose most likely cause was this rule, by rule id.
# TYPE pubdoc_rule_hits_total counter
pubdoc_rule_hits_total{rule="oidc-npm-too-old"} 2
# HELP pubdoc_events_received_total Events accepted (signature verified), by source (github, slack) and kind (workflow_run, app_mention, …).
# TYPE pubdoc_events_received_total counter
pubdoc_events_received_total{kind="app_mention",source="slack"} 1
pubdoc_events_received_total{kind="workflow_run",source="github"} 2
# HELP pubdoc_slack_posts_total Messages sent to Slack, by kind (post, thread_reply, update, upload, ephemeral).
# TYPE pubdoc_slack_posts_total counter
pubdoc_slack_posts_total{kind="post"} 1
pubdoc_slack_posts_total{kind="thread_reply"} 2
`
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(want),
		"pubdoc_rule_hits_total", "pubdoc_events_received_total", "pubdoc_slack_posts_total"); err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(m.reg, "pubdoc_events_received_total", "pubdoc_events_deduplicated_total",
		"pubdoc_events_rejected_total", "pubdoc_diagnosis_seconds", "pubdoc_rule_hits_total", "pubdoc_api_errors_total",
		"pubdoc_jobs_finished_total", "pubdoc_jobs", "pubdoc_slack_posts_total")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// Every New has its own registry: two in one process do not collide, and nothing lands in
// the global default registry.
func TestOwnRegistry(t *testing.T) {
	a, b := New(), New()
	a.Posted("post")
	if got := testutil.ToFloat64(b.slackPosts.WithLabelValues("post")); got != 0 {
		t.Errorf("a count on one Metrics shows on another: %v", got)
	}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "pubdoc_") {
			t.Errorf("%s is on the default registry", f.GetName())
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.EventReceived("github", "workflow_run")
	m.EventDeduplicated("github")
	m.EventRejected("github", "malformed")
	m.DiagnosisDone("diagnosed", "oidc-npm-too-old", 1)
	m.APIError("github", "transient")
	m.JobFinished("diagnose_run", "completed")
	m.SetJobCounts(map[string]int{"available": 1})
	m.Posted("post")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics' handler answered %d, want 404", rec.Code)
	}
}

func TestRuleIDCardinality(t *testing.T) {
	long80 := strings.Repeat("a", 80)
	tests := []struct{ id, want string }{
		{"oidc-npm-too-old", "oidc-npm-too-old"},
		{"e404-npm-1", "e404-npm-1"},
		{long80, long80},
		{long80 + "b", "other"},
		{"OIDC-npm", "other"},
		{"oidc_npm", "other"},
		{"oidc npm", "other"},
		{`oidc"}`, "other"},
		{"oidc-npm\n", "other"},
		{"ÿ", "other"},
		{"npm error 404  'pkg@1.2.3' is not in this registry.", "other"},
	}
	m := New()
	for _, tt := range tests {
		before := testutil.ToFloat64(m.ruleHits.WithLabelValues(tt.want))
		m.DiagnosisDone("diagnosed", tt.id, 0.01)
		if got := testutil.ToFloat64(m.ruleHits.WithLabelValues(tt.want)); got != before+1 {
			t.Errorf("rule id %q: not counted as %q", tt.id, tt.want)
		}
	}
	// Each odd id went to the one "other" series: 2 kept ids + long80 + other.
	if n := testutil.CollectAndCount(m.ruleHits); n != 4 {
		t.Errorf("%d rule series, want 4", n)
	}
}

// Other labels get the same guard, with underscores allowed (rate_limited, thread_reply).
func TestLabelCardinality(t *testing.T) {
	m := New()
	m.EventReceived("github", "workflow_run")
	m.EventReceived("GitHub", "octo-org/octo-repo")
	m.EventReceived("", strings.Repeat("x", 81))
	m.APIError("github", "rate_limited")
	m.Posted("thread_reply")
	m.Posted("Bearer xoxb-1234")
	m.SetJobCounts(map[string]int{"Running Now": 1, "weird state": 2})
	for _, c := range []struct {
		got  prometheus.Collector
		want float64
	}{
		{m.eventsReceived.WithLabelValues("github", "workflow_run"), 1},
		{m.eventsReceived.WithLabelValues("other", "other"), 2},
		{m.apiErrors.WithLabelValues("github", "rate_limited"), 1},
		{m.slackPosts.WithLabelValues("thread_reply"), 1},
		{m.slackPosts.WithLabelValues("other"), 1},
		{m.jobs.WithLabelValues("other"), 3},
	} {
		if got := testutil.ToFloat64(c.got); got != c.want {
			t.Errorf("%v = %v, want %v", c.got, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.eventsReceived); n != 2 {
		t.Errorf("%d event series, want 2", n)
	}
}

func TestSetJobCounts(t *testing.T) {
	m := New()
	gauge := func(state string) float64 { return testutil.ToFloat64(m.jobs.WithLabelValues(state)) }

	m.SetJobCounts(map[string]int{"available": 3, "running": 2, "snoozed-custom": 7})
	if gauge("available") != 3 || gauge("running") != 2 || gauge("snoozed-custom") != 7 || gauge("completed") != 0 {
		t.Errorf("first count: available %v running %v snoozed-custom %v completed %v",
			gauge("available"), gauge("running"), gauge("snoozed-custom"), gauge("completed"))
	}
	m.SetJobCounts(map[string]int{"running": 1})
	if gauge("available") != 0 || gauge("running") != 1 || gauge("snoozed-custom") != 0 {
		t.Errorf("states missing from the second count were not reset: available %v running %v snoozed-custom %v",
			gauge("available"), gauge("running"), gauge("snoozed-custom"))
	}
	m.SetJobCounts(nil)
	if n := testutil.CollectAndCount(m.jobs); n != 9 { // River's 8 states + snoozed-custom
		t.Errorf("%d job series, want 9", n)
	}
	if got := testutil.ToFloat64(m.jobs.WithLabelValues("running")); got != 0 {
		t.Errorf("running = %v after an empty count", got)
	}
}

// Handlers and workers record from many goroutines while Prometheus scrapes (run with -race).
func TestConcurrent(t *testing.T) {
	m := New()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				m.EventReceived("github", "workflow_run")
				m.DiagnosisDone("diagnosed", "oidc-npm-too-old", 0.01)
				m.SetJobCounts(map[string]int{"available": j, "running": i})
				m.JobFinished("diagnose_run", "completed")
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	wg.Wait()
	if got := testutil.ToFloat64(m.eventsReceived.WithLabelValues("github", "workflow_run")); got != 1600 {
		t.Errorf("events = %v, want 1600", got)
	}
}

func TestRuleFeedback(t *testing.T) {
	m := New()
	m.SetRuleFeedback([]RuleFeedback{{Rule: "oidc-npm-too-old", Right: 3, Wrong: 1}, {Rule: "e413-package-too-large", Wrong: 2}, {Rule: "Bad Id", Right: 1}})
	body, _ := scrape(t, m)
	for _, line := range []string{
		`pubdoc_rule_feedback{rule="oidc-npm-too-old",verdict="right"} 3`,
		`pubdoc_rule_feedback{rule="oidc-npm-too-old",verdict="wrong"} 1`,
		`pubdoc_rule_feedback{rule="e413-package-too-large",verdict="right"} 0`,
		`pubdoc_rule_feedback{rule="e413-package-too-large",verdict="wrong"} 2`,
		`pubdoc_rule_feedback{rule="other",verdict="right"} 1`,
		`pubdoc_rule_precision{rule="oidc-npm-too-old"} 0.75`,
		`pubdoc_rule_precision{rule="e413-package-too-large"} 0`,
		`# TYPE pubdoc_rule_precision gauge`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("the exposition lacks %s", line)
		}
	}
	// A later count without a rule zeroes it and drops its precision.
	m.SetRuleFeedback([]RuleFeedback{{Rule: "oidc-npm-too-old", Right: 4, Wrong: 1}})
	body, _ = scrape(t, m)
	for _, line := range []string{
		`pubdoc_rule_feedback{rule="e413-package-too-large",verdict="wrong"} 0`,
		`pubdoc_rule_precision{rule="oidc-npm-too-old"} 0.8`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("after the second count the exposition lacks %s", line)
		}
	}
	if strings.Contains(body, `pubdoc_rule_precision{rule="e413-package-too-large"}`) {
		t.Error("a rule without feedback keeps a precision")
	}
	problems, err := testutil.GatherAndLint(m.reg, "pubdoc_rule_feedback", "pubdoc_rule_precision")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	var nilM *Metrics
	nilM.SetRuleFeedback([]RuleFeedback{{Rule: "x", Right: 1}})
}
