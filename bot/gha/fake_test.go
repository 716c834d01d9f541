package gha

import (
	"archive/zip"
	"bytes"
	"crypto/sha1" //nolint:gosec // git's blob ids are SHA-1; this only imitates them
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake's world: one repository with one failed run, as in testdata/.
const (
	fakeOwner   = "octo-org"
	fakeRepo    = "octo-repo"
	fakeRunID   = int64(289782451)
	fakeHeadSHA = "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4"
	publishJob  = int64(55501234003)
	smokeJob    = int64(55501234005)
	testToken   = "ghp_T3stT0kenValue0123456789abcdefABCDEF"
	// blobSig stands for the signature of the storage URL a logs endpoint redirects to.
	blobSig = "sv2025sigXyZ0123456789SignedBlobSignature"
)

// fakeGitHub is a loopback GitHub REST API serving the recorded payloads in testdata/.
// Tests change its behaviour per route with override, and read what it was asked from
// requests.
type fakeGitHub struct {
	t        *testing.T
	srv      *httptest.Server
	prefix   string // "/api/v3" to play GitHub Enterprise Server
	pageSize int    // jobs per page, small so that paging is exercised
	// auth decides whether an API request's Authorization is acceptable; by default the
	// bearer test token.
	auth     func(route string, r *http.Request) bool
	override map[string]http.HandlerFunc
	logs     map[int64][]byte  // per-job log text served at the signed URL
	files    map[string][]byte // repository files at fakeHeadSHA
	run      []byte            // the run's JSON
	jobs     []byte            // the jobs list's JSON

	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Route, Method, Path, Query, Auth string
}

func setupFake(t *testing.T, opts ...func(*fakeGitHub)) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{
		t:        t,
		pageSize: 2,
		override: map[string]http.HandlerFunc{},
		logs:     map[int64][]byte{},
		files:    map[string][]byte{},
		run:      readTestdata(t, "run.json"),
		jobs:     readTestdata(t, "jobs.json"),
	}
	f.auth = func(_ string, r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+testToken }
	for _, id := range []int64{publishJob, smokeJob} {
		f.logs[id] = readTestdata(t, fmt.Sprintf("logs/%d.log", id))
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "workflows"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f.files[".github/workflows/"+e.Name()] = readTestdata(t, "workflows/"+e.Name())
	}
	for _, o := range opts {
		o(f)
	}

	mux := http.NewServeMux()
	repo := "/repos/{owner}/{repo}"
	f.handle(mux, "run", "GET "+repo+"/actions/runs/{run_id}", f.serveRun)
	f.handle(mux, "attempt", "GET "+repo+"/actions/runs/{run_id}/attempts/{n}", f.serveRun)
	f.handle(mux, "jobs", "GET "+repo+"/actions/runs/{run_id}/jobs", f.serveJobs)
	f.handle(mux, "attempt-jobs", "GET "+repo+"/actions/runs/{run_id}/attempts/{n}/jobs", f.serveJobs)
	f.handle(mux, "job", "GET "+repo+"/actions/jobs/{job_id}", f.serveJob)
	f.handle(mux, "job-logs", "GET "+repo+"/actions/jobs/{job_id}/logs", f.serveJobLogs)
	f.handle(mux, "run-logs", "GET "+repo+"/actions/runs/{run_id}/logs", f.serveRunLogs)
	f.handle(mux, "attempt-logs", "GET "+repo+"/actions/runs/{run_id}/attempts/{n}/logs", f.serveRunLogs)
	f.handle(mux, "contents", "GET "+repo+"/contents/{path...}", f.serveContents)
	f.handle(mux, "installation", "GET "+repo+"/installation", f.serveInstallation)
	f.handle(mux, "pull", "GET "+repo+"/pulls/{n}", f.servePull)
	f.handle(mux, "runs-list", "GET "+repo+"/actions/runs", f.serveRunsList)
	f.handle(mux, "access-tokens", "POST /app/installations/{id}/access_tokens", f.serveAccessToken)
	// The signed storage URLs, outside the API and unauthenticated like GitHub's.
	mux.HandleFunc("GET /_blob/{kind}/{name}", f.serveBlob)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.record("unknown", r)
		t.Errorf("fake GitHub: unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, readTestdata(t, "errors/not_found.json"))
	})

	var h http.Handler = mux
	if f.prefix != "" {
		outer := http.NewServeMux()
		outer.Handle(f.prefix+"/", http.StripPrefix(f.prefix, mux))
		outer.Handle("/_blob/", mux)
		h = outer
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + f.prefix }

// env is the environment a deployment would set for this fake, with a token.
func (f *fakeGitHub) env() map[string]string {
	return map[string]string{"GITHUB_API_URL": f.apiURL(), "GITHUB_TOKEN": testToken}
}

// newClient builds a Client from the variables a deployment would set (internal/config
// reads them; this is its mapping for GitHub).
func (f *fakeGitHub) newClient(env map[string]string, edit func(*Config), logger *slog.Logger) *Client {
	f.t.Helper()
	cfg := Config{APIURL: env["GITHUB_API_URL"], Token: Secret(env["GITHUB_TOKEN"]), AppPrivateKey: Secret(env["GITHUB_APP_PRIVATE_KEY"])}
	if id := env["GITHUB_APP_ID"]; id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			f.t.Fatalf("GITHUB_APP_ID %q: %v", id, err)
		}
		cfg.AppID = n
	}
	cfg.HTTPClient = f.srv.Client()
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg, logger)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

func (f *fakeGitHub) handle(mux *http.ServeMux, route, pattern string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		f.record(route, r)
		if r.PathValue("owner") != "" && (r.PathValue("owner") != fakeOwner || r.PathValue("repo") != fakeRepo) {
			writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
			return
		}
		if !f.auth(route, r) {
			writeJSON(w, http.StatusUnauthorized, readTestdata(f.t, "errors/bad_credentials.json"))
			return
		}
		if o := f.override[route]; o != nil {
			o(w, r)
			return
		}
		h(w, r)
	})
}

func (f *fakeGitHub) record(route string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// RequestURI is the path as sent, before any prefix was stripped.
	p, _, _ := strings.Cut(r.RequestURI, "?")
	f.reqs = append(f.reqs, recorded{Route: route, Method: r.Method, Path: p, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")})
}

// requests returns what the fake was asked on route ("" for all).
func (f *fakeGitHub) requests(route string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if route == "" || r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// fakePull is the fake's one pull request, whose head is fakeHeadSHA.
const fakePull = 12

func (f *fakeGitHub) servePull(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("n") != strconv.Itoa(fakePull) {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	body, _ := json.Marshal(map[string]any{"number": fakePull, "state": "open",
		"head": map[string]any{"sha": fakeHeadSHA, "ref": "fix-publish"}, "base": map[string]any{"ref": "main"}})
	writeJSON(w, http.StatusOK, body)
}

// serveRunsList lists the runs of a commit: the fake's failed run, a passing one and a
// cancelled one at fakeHeadSHA; none at any other commit.
func (f *fakeGitHub) serveRunsList(w http.ResponseWriter, r *http.Request) {
	runs := []map[string]any{}
	if r.URL.Query().Get("head_sha") == fakeHeadSHA {
		runs = append(runs,
			map[string]any{"id": 289782460, "head_sha": fakeHeadSHA, "status": "completed", "conclusion": "success"},
			map[string]any{"id": fakeRunID, "head_sha": fakeHeadSHA, "status": "completed", "conclusion": "failure"},
			map[string]any{"id": 289782470, "head_sha": fakeHeadSHA, "status": "completed", "conclusion": "cancelled"})
	}
	body, _ := json.Marshal(map[string]any{"total_count": len(runs), "workflow_runs": runs})
	writeJSON(w, http.StatusOK, body)
}

func (f *fakeGitHub) serveRun(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("run_id") != strconv.FormatInt(fakeRunID, 10) {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	body := f.run
	if n := r.PathValue("n"); n != "" {
		var run map[string]any
		if err := json.Unmarshal(body, &run); err != nil {
			f.t.Fatal(err)
		}
		run["run_attempt"], _ = strconv.Atoi(n)
		body, _ = json.Marshal(run)
	}
	writeJSON(w, http.StatusOK, body)
}

// serveJobs pages the recorded jobs list pageSize at a time with a Link header, as GitHub
// does past per_page.
func (f *fakeGitHub) serveJobs(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("run_id") != strconv.FormatInt(fakeRunID, 10) {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	var list struct {
		TotalCount int               `json:"total_count"`
		Jobs       []json.RawMessage `json:"jobs"`
	}
	if err := json.Unmarshal(f.jobs, &list); err != nil {
		f.t.Fatal(err)
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	last := (len(list.Jobs) + f.pageSize - 1) / f.pageSize
	start := min((page-1)*f.pageSize, len(list.Jobs))
	end := min(start+f.pageSize, len(list.Jobs))
	if page < last {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		next := f.srv.URL + f.prefix + r.URL.Path + "?" + q.Encode()
		q.Set("page", strconv.Itoa(last))
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="last"`, next, f.srv.URL+f.prefix+r.URL.Path+"?"+q.Encode()))
	}
	list.Jobs = list.Jobs[start:end]
	body, _ := json.Marshal(list)
	writeJSON(w, http.StatusOK, body)
}

func (f *fakeGitHub) serveJob(w http.ResponseWriter, r *http.Request) {
	var list struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	if err := json.Unmarshal(f.jobs, &list); err != nil {
		f.t.Fatal(err)
	}
	for _, j := range list.Jobs {
		var head struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(j, &head)
		if strconv.FormatInt(head.ID, 10) == r.PathValue("job_id") {
			writeJSON(w, http.StatusOK, j)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
}

// serveJobLogs answers as GitHub does: 302 to a short-lived signed URL elsewhere.
func (f *fakeGitHub) serveJobLogs(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("job_id"), 10, 64)
	if _, ok := f.logs[id]; !ok {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	f.redirectToBlob(w, "jobs", fmt.Sprintf("%d.log", id))
}

func (f *fakeGitHub) serveRunLogs(w http.ResponseWriter, r *http.Request) {
	f.redirectToBlob(w, "runs", r.PathValue("run_id")+".zip")
}

func (f *fakeGitHub) redirectToBlob(w http.ResponseWriter, kind, name string) {
	se := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	w.Header().Set("Location", fmt.Sprintf("%s/_blob/%s/%s?sv=2025-01-05&se=%s&sp=r&sig=%s", f.srv.URL, kind, name, se, blobSig))
	w.WriteHeader(http.StatusFound)
}

func (f *fakeGitHub) serveBlob(w http.ResponseWriter, r *http.Request) {
	f.record("blob", r)
	if r.URL.Query().Get("sig") != blobSig {
		http.Error(w, "AuthenticationFailed", http.StatusForbidden)
		return
	}
	if o := f.override["blob"]; o != nil {
		o(w, r)
		return
	}
	name := r.PathValue("name")
	switch r.PathValue("kind") {
	case "jobs":
		id, _ := strconv.ParseInt(strings.TrimSuffix(name, ".log"), 10, 64)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(f.logs[id])
	case "runs":
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(f.runArchive())
	default:
		http.NotFound(w, r)
	}
}

// runArchive lays the failed jobs' logs out as GitHub's run log zip does: a whole-job
// file at the root per job and a folder of step files.
func (f *fakeGitHub) runArchive() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			f.t.Fatal(err)
		}
		_, _ = w.Write(b)
	}
	add("0_test  unit.txt", []byte("2025-11-20T09:58:41.0000000Z ok\n"))
	add("2_publish.txt", f.logs[publishJob])
	add("publish/1_Set up job.txt", []byte("2025-11-20T10:00:00.0000000Z Current runner version: '2.329.0'\n"))
	add("4_smoke (node 18).txt", f.logs[smokeJob])
	if err := zw.Close(); err != nil {
		f.t.Fatal(err)
	}
	return buf.Bytes()
}

// serveContents answers the contents API for files at the head commit only, base64 in
// 60-column lines as GitHub sends it.
func (f *fakeGitHub) serveContents(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	b, ok := f.files[p]
	if !ok || r.URL.Query().Get("ref") != fakeHeadSHA {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	enc := base64.StdEncoding.EncodeToString(b)
	var lines []string
	for len(enc) > 60 {
		lines, enc = append(lines, enc[:60]), enc[60:]
	}
	lines = append(lines, enc)
	blob := sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(b))), b...)) //nolint:gosec // imitating git
	sha := fmt.Sprintf("%x", blob)
	api := fmt.Sprintf("https://api.github.com/repos/%s/%s/contents/%s?ref=%s", fakeOwner, fakeRepo, p, fakeHeadSHA)
	body, _ := json.Marshal(map[string]any{
		"type":         "file",
		"encoding":     "base64",
		"size":         len(b),
		"name":         path.Base(p),
		"path":         p,
		"content":      strings.Join(lines, "\n") + "\n",
		"sha":          sha,
		"url":          api,
		"git_url":      fmt.Sprintf("https://api.github.com/repos/%s/%s/git/blobs/%s", fakeOwner, fakeRepo, sha),
		"html_url":     fmt.Sprintf("https://github.com/%s/%s/blob/%s/%s", fakeOwner, fakeRepo, fakeHeadSHA, p),
		"download_url": fmt.Sprintf("https://raw.githubusercontent.com/%s/%s/%s/%s", fakeOwner, fakeRepo, fakeHeadSHA, p),
		"_links":       map[string]string{"self": api, "git": "", "html": ""},
	})
	writeJSON(w, http.StatusOK, body)
}

func (f *fakeGitHub) serveInstallation(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, readTestdata(f.t, "installation.json"))
}

func (f *fakeGitHub) serveAccessToken(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != "42424242" {
		writeJSON(w, http.StatusNotFound, readTestdata(f.t, "errors/not_found.json"))
		return
	}
	body := bytes.Replace(readTestdata(f.t, "access_token.json"), []byte("EXPIRES_AT"),
		[]byte(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), 1)
	writeJSON(w, http.StatusCreated, body)
}

// writeJSON answers with GitHub's usual headers; extra headers override them.
func writeJSON(w http.ResponseWriter, status int, body []byte, extra ...map[string]string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4987")
	h.Set("X-RateLimit-Used", "13")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	for _, m := range extra {
		for k, v := range m {
			h.Set(k, v)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorWith answers status with a recorded error body and extra headers.
func errorWith(t *testing.T, status int, file string, headers map[string]string) http.HandlerFunc {
	body := readTestdata(t, file)
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, status, body, headers)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paths lists the request paths of rs, for failure messages.
func paths(rs []recorded) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+" "+r.Path+"?"+r.Query)
	}
	return out
}
