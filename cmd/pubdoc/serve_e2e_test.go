package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/internal/schematest"
)

// These tests start the real `pubdoc serve` binary and drive it over HTTP, with a fake
// Slack Web API and a fake GitHub REST API on loopback: what a user's deployment does.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func pubdocBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pubdoc-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pubdoc")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// slackCall is one Web API call the fake Slack received.
type slackCall struct {
	Method string
	Params url.Values
	At     time.Time
}

// fakeSlack answers the Web API methods pubdoc uses, like Slack does, and records them.
type fakeSlack struct {
	srv       *httptest.Server
	files     map[string]string // path under /files/ → content, for url_private_download
	mu        sync.Mutex
	calls     []slackCall
	seq       int
	limitTill time.Time // answer 429 to chat.postMessage until then
	limited   int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{files: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/files/"); ok {
		f.mu.Lock()
		content, found := f.files[name]
		f.mu.Unlock()
		if !found || r.Header.Get("Authorization") != "Bearer "+testBotToken {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, content)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	params, _ := url.ParseQuery(string(body))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		params = url.Values{}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				params.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				params.Set(k, string(b))
			}
		}
	}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if method == "chat.postMessage" && time.Now().Before(f.limitTill) {
		f.limited++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
		return
	}
	f.calls = append(f.calls, slackCall{method, params, time.Now()})
	f.seq++
	ts := fmt.Sprintf("1764000000.%06d", f.seq)
	switch method {
	case "chat.postMessage":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": params.Get("channel"), "ts": ts, "message": map[string]any{"ts": ts, "text": params.Get("text")}})
	case "chat.update":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": params.Get("channel"), "ts": params.Get("ts")})
	case "chat.postEphemeral":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "message_ts": ts})
	case "conversations.history", "conversations.replies":
		var msgs []map[string]any
		for i, c := range f.calls {
			if c.Method != "chat.postMessage" || c.Params.Get("channel") != params.Get("channel") {
				continue
			}
			m := map[string]any{"type": "message", "ts": fmt.Sprintf("1764000000.%06d", i+1), "text": c.Params.Get("text"), "thread_ts": c.Params.Get("thread_ts")}
			var md map[string]any
			if json.Unmarshal([]byte(c.Params.Get("metadata")), &md) == nil {
				m["metadata"] = md
			}
			msgs = append(msgs, m)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
	case "auth.test":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user_id": "UPUBDOC", "bot_id": "BPUBDOC", "team_id": "T1"})
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true})
	}
}

// posts returns the chat.postMessage calls so far.
func (f *fakeSlack) posts() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slackCall
	for _, c := range f.calls {
		if c.Method == "chat.postMessage" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSlack) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// server is one running `pubdoc serve`.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

const (
	testSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotToken      = "xoxb-1111111111-2222222222-abcdefghijklmnopqrstuvwx"
	testWebhookSecret = "whsec-test-0123456789"
	testAPIToken      = "api-token-e2e-5b1f09c2"
)

// launchServe starts `pubdoc serve` without waiting for it to be ready; when the test ends
// it is killed, its log shown if the test failed, and checked for the test's secrets.
func launchServe(t *testing.T, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(pubdocBinary(t), "serve")
	cmd.Env = append(os.Environ(), append([]string{"PUBDOC_ADDR=" + addr, "PUBDOC_LOG_LEVEL=info",
		// Registry look-ups are on by default: keep them off the network.
		"PUBDOC_NPM_REGISTRY_URL=http://127.0.0.1:1/"}, env...)...)
	s := &server{cmd: cmd, url: "http://" + addr, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("pubdoc serve log:\n%s", s.logs.String())
		}
		for _, secret := range []string{testBotToken, testSigningSecret, testWebhookSecret, testAPIToken} {
			if strings.Contains(s.logs.String(), secret) {
				t.Errorf("a secret appears in pubdoc serve's log")
			}
		}
	})
	return s
}

// startServe is launchServe, then a wait until /readyz answers 200.
func startServe(t *testing.T, env ...string) *server {
	t.Helper()
	s := launchServe(t, env...)
	waitFor(t, 20*time.Second, "pubdoc serve to be ready", func() bool {
		select {
		case err := <-s.done:
			t.Fatalf("pubdoc serve exited: %v\n%s", err, s.logs.String())
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

func slackSign(body string, ts time.Time) (string, string) {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(testSigningSecret))
	fmt.Fprintf(m, "v0:%s:%s", stamp, body)
	return stamp, "v0=" + hex.EncodeToString(m.Sum(nil))
}

func (s *server) slack(t *testing.T, path, contentType, body string, header map[string]string) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	stamp, sig := slackSign(body, time.Now())
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", sig)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

func mentionEvent(t *testing.T, eventID, ts, text string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{
		"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"authorizations": []map[string]any{{"user_id": "UPUBDOC", "is_bot": true}},
		"event":          map[string]any{"type": "app_mention", "user": "U123", "text": "<@UPUBDOC> why?\n" + text, "ts": ts, "channel": "C0ASK", "event_ts": ts},
	})
	return string(b)
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(repo("examples/" + name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func slackEnv(dataDir string, slack *fakeSlack) []string {
	return []string{"SLACK_BOT_TOKEN=" + testBotToken, "SLACK_SIGNING_SECRET=" + testSigningSecret,
		"PUBDOC_SLACK_API_URL=" + slack.srv.URL + "/api/", "PUBDOC_DATA_DIR=" + dataDir}
}

func TestServeSlackEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "PUBDOC_API_TOKEN="+testAPIToken)...)
	logText := readExample(t, "old-npm.log")

	// Slack's URL verification.
	code, body, _ := s.slack(t, "/slack/events", "application/json", `{"type":"url_verification","challenge":"c-123","token":"x"}`, nil)
	if code != http.StatusOK || !strings.Contains(body, "c-123") {
		t.Errorf("url_verification: %d %q", code, body)
	}

	// A forged signature: 401, and nothing is posted.
	ev := mentionEvent(t, "EvForged", "1764000001.000100", logText)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/slack/events", strings.NewReader(ev))
	stamp, _ := slackSign(ev, time.Now())
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", "v0=0000000000000000000000000000000000000000000000000000000000000000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", resp.StatusCode)
	}

	// A signed mention with a real failing log, then Slack's three retries of it.
	ev = mentionEvent(t, "Ev0001", "1764000002.000200", logText)
	code, _, took := s.slack(t, "/slack/events", "application/json", ev, nil)
	if code != http.StatusOK || took > 3*time.Second {
		t.Fatalf("mention: %d after %s, want 200 within 3s", code, took)
	}
	for i := 1; i <= 3; i++ {
		if code, _, _ := s.slack(t, "/slack/events", "application/json", ev, map[string]string{"X-Slack-Retry-Num": strconv.Itoa(i), "X-Slack-Retry-Reason": "http_timeout"}); code != http.StatusOK {
			t.Errorf("retry %d: %d", i, code)
		}
	}
	waitFor(t, 5*time.Second, "the reply", func() bool { return len(slack.posts()) >= 1 })
	time.Sleep(700 * time.Millisecond) // room for a wrong second reply to show up
	posts := slack.posts()
	if len(posts) != 1 {
		t.Fatalf("%d replies to one mention retried three times, want 1", len(posts))
	}
	p := posts[0].Params
	if p.Get("channel") != "C0ASK" || p.Get("thread_ts") != "1764000002.000200" {
		t.Errorf("reply went to %s thread %q, want C0ASK thread 1764000002.000200", p.Get("channel"), p.Get("thread_ts"))
	}
	if all := p.Get("text") + p.Get("blocks"); !strings.Contains(all, "oidc-npm-too-old") {
		t.Errorf("reply does not name oidc-npm-too-old: %s", p.Get("text"))
	}

	// /pubdoc with a pasted log: 200 within 3 s, and a reply.
	form := url.Values{"command": {"/pubdoc"}, "text": {logText}, "channel_id": {"C0ASK"}, "user_id": {"U123"}, "team_id": {"T1"},
		"trigger_id": {"13345224609.738474920.8088930838d88f008e0"}, "response_url": {slack.srv.URL + "/response/1"}}
	code, body, took = s.slack(t, "/slack/commands", "application/x-www-form-urlencoded", form.Encode(), nil)
	if code != http.StatusOK || took > 3*time.Second {
		t.Fatalf("/pubdoc: %d after %s (%s), want 200 within 3s", code, took, body)
	}
	waitFor(t, 5*time.Second, "the command's reply", func() bool { return len(slack.posts()) >= 2 })
	if p := slack.posts()[1].Params; p.Get("channel") != "C0ASK" || !strings.Contains(p.Get("text")+p.Get("blocks"), "oidc-npm-too-old") {
		t.Errorf("command reply: channel %s text %q", p.Get("channel"), p.Get("text"))
	}

	// /pubdoc help answers at once.
	form = url.Values{"command": {"/pubdoc"}, "text": {"help"}, "channel_id": {"C0ASK"}, "user_id": {"U123"}, "trigger_id": {"t2"}}
	if code, body, _ := s.slack(t, "/slack/commands", "application/x-www-form-urlencoded", form.Encode(), nil); code != http.StatusOK || !strings.Contains(body, "kb") {
		t.Errorf("/pubdoc help: %d %s", code, body)
	}

	// The API and the probes.
	req, _ = http.NewRequest(http.MethodPost, s.url+"/api/diagnose", strings.NewReader(logText))
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Verdict   string `json:"verdict"`
		Diagnoses []struct{ ID string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&res)
	_ = resp.Body.Close()
	if res.Verdict != "diagnosed" || len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != "oidc-npm-too-old" {
		t.Errorf("/api/diagnose: %+v", res)
	}
	// Its failures are JSON too, through the server's own routing (bot tests cover the rest).
	for _, c := range []struct {
		method string
		status int
	}{{http.MethodGet, http.StatusMethodNotAllowed}, {http.MethodPost, http.StatusBadRequest}} {
		req, _ := http.NewRequest(c.method, s.url+"/api/diagnose", nil)
		req.Header.Set("Authorization", "Bearer "+testAPIToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s /api/diagnose: %d %s: %s", c.method, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		schematest.Validate(t, schematest.ErrorFile, c.method+" /api/diagnose", body)
	}
	metrics := get(t, s.url+"/metrics")
	for _, want := range []string{`pubdoc_events_received_total{kind="mention",source="slack"} 4`, `pubdoc_events_deduplicated_total{source="slack"} 3`, `pubdoc_rule_hits_total{rule="oidc-npm-too-old"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "npm notice") {
		t.Error("/metrics carries log text")
	}

	// SIGTERM: a clean stop.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("pubdoc serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("pubdoc serve did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Error("no 'stopped' log line after SIGTERM")
	}
	if strings.Contains(s.logs.String(), "npm notice Access token expired") {
		t.Error("raw log text reached pubdoc serve's own log")
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// fakeRunsAPI serves any run id of acme/widgets as a failed (or, for ids in green, a
// successful) run of release.yml with one failed job whose log is jobLog.
func fakeRunsAPI(t *testing.T, workflowYAML, jobLog string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	repo := "/repos/acme/widgets"
	var srv *httptest.Server
	sha := "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4"
	runHandler := func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": id, "run_number": id, "name": "Release", "path": ".github/workflows/release.yml", "event": "push",
			"head_sha": sha, "head_branch": "main", "status": "completed", "conclusion": "failure", "run_attempt": 1,
			"html_url":   fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id),
			"repository": map[string]any{"full_name": "acme/widgets", "name": "widgets", "owner": map[string]any{"login": "acme"}},
		})
	}
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}", runHandler)
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/attempts/{n}", runHandler)
	jobs := func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": 1, "jobs": []map[string]any{{
			"id": id * 10, "run_id": id, "name": "publish", "status": "completed", "conclusion": "failure",
			"html_url": fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d/job/%d", id, id*10),
			"steps":    []map[string]any{{"name": "Run npm publish", "conclusion": "failure", "number": 5}},
		}}})
	}
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/jobs", jobs)
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/attempts/{n}/jobs", jobs)
	mux.HandleFunc("GET "+repo+"/actions/jobs/{job}/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/_blob/job.log", http.StatusFound)
	})
	mux.HandleFunc("GET /_blob/job.log", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, jobLog) })
	mux.HandleFunc("GET "+repo+"/contents/.github/workflows/release.yml", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "file", "encoding": "base64", "name": "release.yml",
			"path": ".github/workflows/release.yml", "content": base64.StdEncoding.EncodeToString([]byte(workflowYAML))})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func runPayload(id int64, conclusion string) []byte {
	b, _ := json.Marshal(map[string]any{
		"action": "completed",
		"workflow_run": map[string]any{"id": id, "run_number": id, "run_attempt": 1, "name": "Release", "path": ".github/workflows/release.yml",
			"event": "push", "status": "completed", "conclusion": conclusion, "head_branch": "main", "head_sha": "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4",
			"html_url": fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id), "updated_at": time.Now().UTC().Format(time.RFC3339)},
		"repository": map[string]any{"full_name": "acme/widgets", "name": "widgets", "owner": map[string]any{"login": "acme"}},
	})
	return b
}

func (s *server) webhook(t *testing.T, delivery string, body []byte, secret string) (int, time.Duration) {
	t.Helper()
	return s.webhookEvent(t, "workflow_run", delivery, body, secret)
}

// webhookEvent posts a signed delivery of event.
func (s *server) webhookEvent(t *testing.T, event, delivery string, body []byte, secret string) (int, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/github/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, time.Since(start)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

const e2eWorkflow = `name: Release
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

var (
	reRunNumber = regexp.MustCompile(`run #(\d+)\)`)
	// reDigestRuns is a run or a range of runs in a coalesced reply ("… failed the same way:
	// <url|#12>–15, #17."), after the marker.
	reDigestRuns = regexp.MustCompile(`#(\d+)>?(?:–(\d+))?`)
)

// postedRuns counts, per run number, the chat.postMessage calls that carry it.
func postedRuns(slack *fakeSlack) map[int]int {
	out := map[int]int{}
	for _, p := range slack.posts() {
		seen := map[int]bool{}
		for _, m := range reRunNumber.FindAllStringSubmatch(p.Params.Get("text")+p.Params.Get("blocks"), -1) {
			n, _ := strconv.Atoi(m[1])
			seen[n] = true
		}
		_, digest, _ := strings.Cut(p.Params.Get("text"), "failed the same way*")
		for _, m := range reDigestRuns.FindAllStringSubmatch(digest, -1) {
			a, _ := strconv.Atoi(m[1])
			b := a
			if m[2] != "" {
				b, _ = strconv.Atoi(m[2])
			}
			for n := a; n <= b; n++ {
				seen[n] = true
			}
		}
		for n := range seen {
			out[n]++
		}
	}
	return out
}

func webhookEnv(t *testing.T, slack *fakeSlack, gh *httptest.Server, dataDir string) []string {
	t.Helper()
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(routes, []byte("routes:\n  - repos: [\"acme/*\"]\n    channel: C0PUBDOC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(slackEnv(dataDir, slack), "GITHUB_WEBHOOK_SECRET="+testWebhookSecret, "GITHUB_TOKEN=test-token",
		"GITHUB_API_URL="+gh.URL+"/", "PUBDOC_ROUTES="+routes)
}

func TestServeWebhookEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	gh := fakeRunsAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"))
	s := startServe(t, webhookEnv(t, slack, gh, t.TempDir())...)

	if code, _ := s.webhook(t, "bad", runPayload(1, "failure"), "not-the-secret"); code != http.StatusUnauthorized {
		t.Errorf("bad signature: %d, want 401", code)
	}
	for range 6 {
		if code, took := s.webhook(t, "delivery-1", runPayload(1, "failure"), testWebhookSecret); code/100 != 2 || took > time.Second {
			t.Fatalf("delivery: %d after %s, want 2xx within 1s", code, took)
		}
	}
	waitFor(t, 10*time.Second, "the failure's post", func() bool { return len(slack.posts()) >= 1 })
	time.Sleep(500 * time.Millisecond)
	posts := slack.posts()
	if len(posts) != 1 || posts[0].Params.Get("channel") != "C0PUBDOC" || posts[0].Params.Get("thread_ts") != "" {
		t.Fatalf("posts after one delivery sent six times: %d (%v)", len(posts), posts)
	}
	if all := posts[0].Params.Get("text") + posts[0].Params.Get("blocks"); !strings.Contains(all, "oidc-npm-too-old") {
		t.Errorf("the post does not name oidc-npm-too-old:\n%s", posts[0].Params.Get("text"))
	}

	// 200 distinct deliveries in a burst, 8 at a time.
	const n = 200
	lat := make([]time.Duration, n)
	var bad atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id := int64(1000 + i)
			code, took := s.webhook(t, fmt.Sprintf("burst-%d", i), runPayload(id, "failure"), testWebhookSecret)
			lat[i] = took
			if code/100 != 2 {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d deliveries not acknowledged", bad.Load(), n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("burst of %d deliveries: ack p50 %s, p99 %s, max %s", n, lat[n/2], lat[n*99/100], lat[n-1])
	waitFor(t, 90*time.Second, "every burst delivery posted", func() bool { return len(postedRuns(slack)) >= n+1 })
	time.Sleep(time.Second)
	runs := postedRuns(slack)
	for i := range n {
		if c := runs[1000+i]; c != 1 {
			t.Errorf("run #%d posted %d times, want 1", 1000+i, c)
		}
	}
	threaded := 0
	for _, p := range slack.posts() {
		if p.Params.Get("thread_ts") != "" {
			threaded++
		}
	}
	// A burst coalesces: one reply per thread per 10 s window names the failures since.
	if threaded == 0 || threaded > n/10 {
		t.Errorf("%d thread replies for %d failures, want a few coalesced ones (one parent for one fingerprint)", threaded, n)
	}
	if slack.count("chat.update") == 0 {
		t.Error("the parent was never updated with the count")
	}

	// The next green run marks the thread fixed.
	if code, _ := s.webhook(t, "green-1", runPayload(5000, "success"), testWebhookSecret); code/100 != 2 {
		t.Fatalf("green delivery: %d", code)
	}
	waitFor(t, 10*time.Second, "fixed in run #5000", func() bool {
		for _, p := range slack.posts() {
			if strings.Contains(p.Params.Get("text")+p.Params.Get("blocks"), "run #5000") {
				return true
			}
		}
		return false
	})
}

func TestServeKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	gh := fakeRunsAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"))
	dataDir := t.TempDir()
	env := webhookEnv(t, slack, gh, dataDir)
	s := startServe(t, env...)
	const n = 120
	acked := 0
	for i := range n {
		code, _ := s.webhook(t, fmt.Sprintf("k-%d", i), runPayload(int64(2000+i), "failure"), testWebhookSecret)
		if code/100 == 2 {
			acked++
		}
		if i == n/2 {
			_ = s.cmd.Process.Kill() // kill -9 mid-burst
			<-s.done
			s.done <- nil
			break
		}
	}
	t.Logf("%d deliveries acknowledged before kill -9; %d posts made", acked, len(slack.posts()))
	s2 := startServe(t, env...)
	for i := n/2 + 1; i < n; i++ {
		if code, _ := s2.webhook(t, fmt.Sprintf("k-%d", i), runPayload(int64(2000+i), "failure"), testWebhookSecret); code/100 == 2 {
			acked++
		}
	}
	waitFor(t, 90*time.Second, "every acknowledged delivery posted", func() bool { return len(postedRuns(slack)) >= acked })
	time.Sleep(time.Second)
	for run, c := range postedRuns(slack) {
		if c != 1 {
			t.Errorf("run #%d posted %d times, want 1", run, c)
			for _, p := range slack.posts() {
				if strings.Contains(p.Params.Get("text")+p.Params.Get("blocks"), fmt.Sprintf("run #%d)", run)) {
					t.Logf("  thread_ts=%q metadata=%s text=%.120q", p.Params.Get("thread_ts"), p.Params.Get("metadata"), p.Params.Get("text"))
				}
			}
		}
	}
	if got := len(postedRuns(slack)); got != acked {
		t.Errorf("%d runs posted, %d acknowledged", got, acked)
	}
}

func TestServeWaitsOutSlackRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	slack.limitTill = time.Now().Add(4 * time.Second)
	gh := fakeRunsAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"))
	s := startServe(t, webhookEnv(t, slack, gh, t.TempDir())...)
	for i := range 10 {
		if code, _ := s.webhook(t, fmt.Sprintf("rl-%d", i), runPayload(int64(3000+i), "failure"), testWebhookSecret); code/100 != 2 {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	waitFor(t, 60*time.Second, "all posts after the rate limit", func() bool { return len(postedRuns(slack)) >= 10 })
	slack.mu.Lock()
	limited := slack.limited
	slack.mu.Unlock()
	if limited == 0 {
		t.Error("Slack never answered 429: the test tested nothing")
	}
	for run, c := range postedRuns(slack) {
		if c != 1 {
			t.Errorf("run #%d posted %d times", run, c)
		}
	}
	t.Logf("%d posts refused with 429 before Slack took them", limited)
}

// postgresURL is the PostgreSQL the test may use, or a skip — a failure where CI says one
// must be there (PUBDOC_REQUIRE_POSTGRES=1).
func postgresURL(t *testing.T) string {
	t.Helper()
	dbURL := os.Getenv("PUBDOC_TEST_DATABASE_URL")
	if dbURL == "" {
		if os.Getenv("PUBDOC_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PUBDOC_REQUIRE_POSTGRES=1 but PUBDOC_TEST_DATABASE_URL is not set")
		}
		t.Skip("PUBDOC_TEST_DATABASE_URL not set")
	}
	return dbURL
}

func TestServeTwoReplicasOnPostgres(t *testing.T) {
	dbURL := postgresURL(t)
	db := createDatabase(t, dbURL)
	slack := newFakeSlack(t)
	gh := fakeRunsAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"))
	a := startServe(t, append(webhookEnv(t, slack, gh, t.TempDir()), "PUBDOC_DATABASE_URL="+db)...)
	b := startServe(t, append(webhookEnv(t, slack, gh, t.TempDir()), "PUBDOC_DATABASE_URL="+db)...)
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			srv := a
			if i%2 == 1 {
				srv = b
			}
			// Each delivery goes to both replicas, as a retrying load balancer might.
			for _, s := range []*server{srv, a, b} {
				if code, _ := s.webhook(t, fmt.Sprintf("pg-%d", i), runPayload(int64(4000+i), "failure"), testWebhookSecret); code/100 != 2 {
					t.Errorf("delivery %d: %d", i, code)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, 90*time.Second, "every delivery posted", func() bool { return len(postedRuns(slack)) >= n })
	time.Sleep(time.Second)
	for run, c := range postedRuns(slack) {
		if c != 1 {
			t.Errorf("run #%d posted %d times, want 1", run, c)
		}
	}
	parents := 0
	for _, p := range slack.posts() {
		if p.Params.Get("thread_ts") == "" {
			parents++
		}
	}
	if parents != 1 {
		t.Errorf("%d parents for one fingerprint across two replicas, want 1", parents)
	}
	worked := func(s *server) int { return strings.Count(s.logs.String(), `"outcome":"completed"`) }
	t.Logf("replica A logged %d finished jobs, replica B %d", worked(a), worked(b))
}

// createDatabase makes a fresh database for one test on the server of adminURL.
func createDatabase(t *testing.T, adminURL string) string {
	t.Helper()
	name := fmt.Sprintf("pubdoc_e2e_%d", time.Now().UnixNano())
	if out, err := exec.Command("psql", adminURL, "-c", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		t.Fatalf("creating a database: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("psql", adminURL, "-c", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").Run()
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
