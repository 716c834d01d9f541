package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixAPI is a loopback GitHub for "Open a fix PR": acme/widgets with failed runs of
// release.yml (as fakeRunsAPI), read and written as a GitHub App installation whose
// permissions the test sets, with the Git Data and pull request endpoints. It counts what
// it created.
type fixAPI struct {
	srv   *httptest.Server
	perms map[string]string

	mu      sync.Mutex
	refs    map[string]string
	created map[string]int
	pulls   []map[string]any
	files   map[string]string // path → content of the fix commit
}

const (
	fixAPIToken = "ghs_e2eInstallationToken0123456789abcd"
	fixBaseSHA  = "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4"
)

func newFixAPI(t *testing.T, workflowYAML, jobLog string, perms map[string]string) *fixAPI {
	t.Helper()
	f := &fixAPI{perms: perms, refs: map[string]string{}, created: map[string]int{}, files: map[string]string{}}
	mux := http.NewServeMux()
	repo := "/repos/acme/widgets"
	js := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	// The App's JWT finds the installation and mints its token; the token does the rest.
	jwt := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
				js(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
				return
			}
			h(w, r)
		}
	}
	inst := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "token "+fixAPIToken {
				js(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET "+repo+"/installation", jwt(func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		js(w, http.StatusOK, map[string]any{"id": 777, "app_id": 4242, "permissions": f.perms})
	}))
	mux.HandleFunc("POST /app/installations/777/access_tokens", jwt(func(w http.ResponseWriter, _ *http.Request) {
		js(w, http.StatusCreated, map[string]any{"token": fixAPIToken, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}))
	run := func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		js(w, http.StatusOK, map[string]any{
			"id": id, "run_number": id, "name": "Release", "path": ".github/workflows/release.yml", "event": "push",
			"head_sha": fixBaseSHA, "head_branch": "main", "status": "completed", "conclusion": "failure", "run_attempt": 1,
			"html_url":   fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d", id),
			"repository": map[string]any{"full_name": "acme/widgets", "name": "widgets", "owner": map[string]any{"login": "acme"}},
		})
	}
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}", inst(run))
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/attempts/{n}", inst(run))
	jobs := func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		js(w, http.StatusOK, map[string]any{"total_count": 1, "jobs": []map[string]any{{
			"id": id * 10, "run_id": id, "name": "publish", "status": "completed", "conclusion": "failure",
			"html_url": fmt.Sprintf("https://github.com/acme/widgets/actions/runs/%d/job/%d", id, id*10),
			"steps":    []map[string]any{{"name": "Run npm publish", "conclusion": "failure", "number": 5}},
		}}})
	}
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/jobs", inst(jobs))
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/attempts/{n}/jobs", inst(jobs))
	mux.HandleFunc("GET "+repo+"/actions/jobs/{job}/logs", inst(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.srv.URL+"/_blob/job.log", http.StatusFound)
	}))
	mux.HandleFunc("GET /_blob/job.log", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, jobLog) })
	mux.HandleFunc("GET "+repo+"/contents/{path...}", inst(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("path") != ".github/workflows/release.yml" || r.URL.Query().Get("ref") != fixBaseSHA {
			js(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		js(w, http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "name": "release.yml",
			"path": ".github/workflows/release.yml", "content": base64.StdEncoding.EncodeToString([]byte(workflowYAML))})
	}))
	mux.HandleFunc("GET "+repo+"/pulls", inst(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := []map[string]any{}
		for _, p := range f.pulls {
			if "acme:"+p["head"].(map[string]any)["ref"].(string) == r.URL.Query().Get("head") {
				out = append(out, p)
			}
		}
		js(w, http.StatusOK, out)
	}))
	mux.HandleFunc("GET "+repo+"/git/ref/{ref...}", inst(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		sha, ok := f.refs[r.PathValue("ref")]
		f.mu.Unlock()
		if !ok {
			js(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		js(w, http.StatusOK, map[string]any{"ref": "refs/" + r.PathValue("ref"), "object": map[string]string{"sha": sha}})
	}))
	mux.HandleFunc("GET "+repo+"/git/commits/{sha}", inst(func(w http.ResponseWriter, r *http.Request) {
		js(w, http.StatusOK, map[string]any{"sha": r.PathValue("sha"), "tree": map[string]string{"sha": "basetree"}})
	}))
	blobs := map[string]string{}
	create := func(kind string, h func(m map[string]any) map[string]any) http.HandlerFunc {
		return inst(func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &m)
			f.mu.Lock()
			defer f.mu.Unlock()
			out := h(m)
			if out == nil {
				js(w, http.StatusUnprocessableEntity, map[string]string{"message": "Reference already exists"})
				return
			}
			f.created[kind]++
			js(w, http.StatusCreated, out)
		})
	}
	mux.HandleFunc("POST "+repo+"/git/blobs", create("blob", func(m map[string]any) map[string]any {
		raw, _ := base64.StdEncoding.DecodeString(m["content"].(string))
		sha := fmt.Sprintf("blob%d", len(blobs))
		blobs[sha] = string(raw)
		return map[string]any{"sha": sha}
	}))
	mux.HandleFunc("POST "+repo+"/git/trees", create("tree", func(m map[string]any) map[string]any {
		for _, e := range m["tree"].([]any) {
			e := e.(map[string]any)
			f.files[e["path"].(string)] = blobs[e["sha"].(string)]
		}
		return map[string]any{"sha": "newtree"}
	}))
	mux.HandleFunc("POST "+repo+"/git/commits", create("commit", func(map[string]any) map[string]any {
		return map[string]any{"sha": "c0ffee0000000000000000000000000000000001"}
	}))
	mux.HandleFunc("POST "+repo+"/git/refs", create("ref", func(m map[string]any) map[string]any {
		name := strings.TrimPrefix(m["ref"].(string), "refs/")
		if _, ok := f.refs[name]; ok {
			return nil
		}
		f.refs[name] = m["sha"].(string)
		return map[string]any{"ref": m["ref"], "object": map[string]string{"sha": m["sha"].(string)}}
	}))
	mux.HandleFunc("POST "+repo+"/pulls", create("pull", func(m map[string]any) map[string]any {
		n := 40 + len(f.pulls)
		p := map[string]any{"number": n, "state": "open", "html_url": fmt.Sprintf("https://github.com/acme/widgets/pull/%d", n),
			"title": m["title"], "body": m["body"], "head": map[string]any{"ref": m["head"]}, "base": map[string]any{"ref": m["base"]}}
		f.pulls = append(f.pulls, p)
		return p
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("GitHub double: unexpected %s %s", r.Method, r.URL)
		js(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixAPI) counts() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("blob=%d tree=%d commit=%d ref=%d pull=%d", f.created["blob"], f.created["tree"], f.created["commit"], f.created["ref"], f.created["pull"])
}

// fixEnv is the environment of a pubdoc serve that reads acme/widgets as a GitHub App.
func fixEnv(t *testing.T, slack *fakeSlack, gh *fixAPI) []string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	env := webhookEnv(t, slack, gh.srv, t.TempDir())
	for i, kv := range env {
		if strings.HasPrefix(kv, "GITHUB_TOKEN=") {
			env[i] = "GITHUB_APP_ID=4242"
		}
	}
	return append(env, "GITHUB_APP_PRIVATE_KEY="+pemKey)
}

var reFixButton = regexp.MustCompile(`"action_id":"pubdoc_fix_pr"[^}]*?"value":"(\d+)"|"value":"(\d+)"[^}]*?"action_id":"pubdoc_fix_pr"`)

// failedRunParent delivers a failed run and returns the diagnosis id its parent's
// "Open a fix PR" button carries.
func failedRunParent(t *testing.T, s *server, slack *fakeSlack) string {
	t.Helper()
	if code, _ := s.webhook(t, "fix-run-1", runPayload(1, "failure"), testWebhookSecret); code/100 != 2 {
		t.Fatalf("delivery: %d", code)
	}
	waitFor(t, 15*time.Second, "the failure's post", func() bool { return len(slack.posts()) >= 1 })
	blocks := slack.posts()[0].Params.Get("blocks")
	m := reFixButton.FindStringSubmatch(blocks)
	if m == nil {
		t.Fatalf("the parent has no Open a fix PR button:\n%s", blocks)
	}
	return m[1] + m[2]
}

// firstPostTS is the ts the fake Slack gave the first chat.postMessage (its ts is the
// call's sequence number).
func firstPostTS(slack *fakeSlack) string {
	slack.mu.Lock()
	defer slack.mu.Unlock()
	for i, c := range slack.calls {
		if c.Method == "chat.postMessage" {
			return fmt.Sprintf("1764000000.%06d", i+1)
		}
	}
	return ""
}

// clickFixPR sends the button's block_actions payload as Slack does.
func clickFixPR(t *testing.T, s *server, slack *fakeSlack, trigger, diagnosisID string) {
	t.Helper()
	parentTS := firstPostTS(slack)
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "trigger_id": trigger, "response_url": slack.srv.URL + "/respond/" + trigger,
		"team": map[string]any{"id": "T1"}, "user": map[string]any{"id": "U0ONCALL"}, "channel": map[string]any{"id": "C0PUBDOC"},
		"container": map[string]any{"type": "message", "channel_id": "C0PUBDOC", "message_ts": parentTS},
		"message":   map[string]any{"ts": parentTS},
		"actions":   []map[string]any{{"type": "button", "action_id": "pubdoc_fix_pr", "block_id": "pubdoc_actions", "value": diagnosisID, "action_ts": "1764000001.000100"}},
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	if code, resp, took := s.slack(t, "/slack/interactivity", "application/x-www-form-urlencoded", body, nil); code != http.StatusOK || took > 3*time.Second {
		t.Fatalf("click %s: %d %s after %s, want 200 within Slack's 3 s", trigger, code, resp, took)
	}
}

// postsWith are the chat.postMessage calls whose text holds s.
func postsWith(slack *fakeSlack, s string) []slackCall {
	var out []slackCall
	for _, p := range slack.posts() {
		if strings.Contains(p.Params.Get("text")+p.Params.Get("blocks"), s) {
			out = append(out, p)
		}
	}
	return out
}

// "Open a fix PR" clicked three times, one click delivered twice: one branch, one commit,
// one pull request, and one reply with its link in the parent's thread.
func TestServeOpenFixPR(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	gh := newFixAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"),
		map[string]string{"actions": "read", "contents": "write", "pull_requests": "write", "workflows": "write", "metadata": "read"})
	s := startServe(t, fixEnv(t, slack, gh)...)
	id := failedRunParent(t, s, slack)

	for _, trigger := range []string{"trig-1", "trig-2", "trig-2", "trig-3"} {
		clickFixPR(t, s, slack, trigger, id)
	}
	link := "https://github.com/acme/widgets/pull/40"
	waitFor(t, 20*time.Second, "the pull request's link in the thread", func() bool { return len(postsWith(slack, link)) >= 1 })
	time.Sleep(2 * time.Second) // the other clicks' jobs
	if got := gh.counts(); got != "blob=1 tree=1 commit=1 ref=1 pull=1" {
		t.Errorf("GitHub got %s, want one of each", got)
	}
	replies := postsWith(slack, link)
	parentTS := firstPostTS(slack)
	if len(replies) != 1 || replies[0].Params.Get("thread_ts") != parentTS || replies[0].Params.Get("channel") != "C0PUBDOC" {
		t.Errorf("replies with the link: %d (%v), want one in the parent's thread %s", len(replies), replies, parentTS)
	}
	gh.mu.Lock()
	defer gh.mu.Unlock()
	if len(gh.pulls) != 1 || gh.pulls[0]["base"].(map[string]any)["ref"] != "main" ||
		gh.pulls[0]["head"].(map[string]any)["ref"] != "pubdoc/fix-oidc-npm-too-old-9f2c4e1" {
		t.Errorf("pull requests %v", gh.pulls)
	}
	if body, _ := gh.pulls[0]["body"].(string); !strings.Contains(body, "https://github.com/acme/widgets/actions/runs/1") || !strings.Contains(body, "**Evidence**") {
		t.Errorf("pull request body:\n%s", body)
	}
	if wf := gh.files[".github/workflows/release.yml"]; !strings.Contains(wf, "npm@") || !strings.Contains(wf, "node-version: 22") {
		t.Errorf("the fix commit's workflow:\n%s", wf)
	}
	gh.mu.Unlock()
	defer gh.mu.Lock() // the deferred Unlock above

	// GitHub's pull_request delivery of the merge is said in the thread; another branch's
	// merge is acknowledged and not.
	merged := func(branch string) []byte {
		return []byte(`{"action":"closed","number":40,"pull_request":{"number":40,"state":"closed","merged":true,` +
			`"html_url":"https://github.com/acme/widgets/pull/40","merged_by":{"login":"octocat"},` +
			`"head":{"ref":"` + branch + `"},"base":{"ref":"main"}},"repository":{"full_name":"acme/widgets"}}`)
	}
	if code, _ := s.webhookEvent(t, "pull_request", "pr-other", merged("feature/x"), testWebhookSecret); code != http.StatusNoContent {
		t.Errorf("another branch's merge: %d, want 204", code)
	}
	if code, _ := s.webhookEvent(t, "pull_request", "pr-merged", merged("pubdoc/fix-oidc-npm-too-old-9f2c4e1"), testWebhookSecret); code != http.StatusAccepted {
		t.Errorf("the fix branch's merge: %d, want 202", code)
	}
	waitFor(t, 20*time.Second, "the merge said in the thread", func() bool {
		said := postsWith(slack, "was merged into `main` by octocat")
		return len(said) == 1 && said[0].Params.Get("thread_ts") == parentTS
	})
}

// Without contents and pull request write, the button shows the patch and names the
// permissions; nothing is written to GitHub.
func TestServeOpenFixPRWithoutPermission(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	gh := newFixAPI(t, e2eWorkflow, readExample(t, "bare-paste.log"), map[string]string{"actions": "read", "contents": "read", "metadata": "read"})
	s := startServe(t, fixEnv(t, slack, gh)...)
	id := failedRunParent(t, s, slack)
	clickFixPR(t, s, slack, "trig-1", id)
	waitFor(t, 20*time.Second, "the patch in the thread", func() bool { return len(postsWith(slack, "cannot open a pull request")) >= 1 })
	answers := postsWith(slack, "cannot open a pull request")
	if len(answers) != 1 || answers[0].Params.Get("thread_ts") != firstPostTS(slack) {
		t.Errorf("answers %v, want one in the parent's thread", answers)
	}
	text := answers[0].Params.Get("text")
	for _, want := range []string{"contents: write", "pull_requests: write", "--- a/.github/workflows/release.yml", "+++ b/.github/workflows/release.yml"} {
		if !strings.Contains(text, want) {
			t.Errorf("the answer lacks %q:\n%s", want, text)
		}
	}
	if got := gh.counts(); got != "blob=0 tree=0 commit=0 ref=0 pull=0" {
		t.Errorf("GitHub got %s, want nothing written", got)
	}
}
