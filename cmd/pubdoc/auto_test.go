package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/internal/fakenpm"
)

// fakeGitHub serves one failed run the way the REST API does: run, jobs, the job's log
// behind a redirect, and the workflow file at head_sha.
func fakeGitHub(t *testing.T, workflowYAML, jobLog string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	repo := "/repos/acme/widgets"
	var srv *httptest.Server
	mux.HandleFunc("GET "+repo+"/actions/runs/42", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": 42, "name": "Release", "path": ".github/workflows/release.yml", "event": "push",
			"head_sha": "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4", "head_branch": "main", "status": "completed",
			"conclusion": "failure", "run_attempt": 1, "html_url": "https://github.com/acme/widgets/actions/runs/42",
			"repository": map[string]any{"full_name": "acme/widgets", "name": "widgets", "owner": map[string]any{"login": "acme"}},
		})
	})
	// A pull request whose head is the run's commit, and the runs of that commit.
	mux.HandleFunc("GET "+repo+"/pulls/5", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"number": 5, "head": map[string]any{"sha": "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4"}})
	})
	mux.HandleFunc("GET "+repo+"/actions/runs", func(w http.ResponseWriter, r *http.Request) {
		runs := []map[string]any{}
		if r.URL.Query().Get("head_sha") == "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4" {
			runs = append(runs, map[string]any{"id": 41, "conclusion": "success"}, map[string]any{"id": 42, "conclusion": "failure"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": len(runs), "workflow_runs": runs})
	})
	mux.HandleFunc("GET "+repo+"/actions/runs/42/jobs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": 1, "jobs": []map[string]any{{
			"id": 7, "run_id": 42, "name": "publish", "status": "completed", "conclusion": "failure",
			"html_url": "https://github.com/acme/widgets/actions/runs/42/job/7",
			"steps":    []map[string]any{{"name": "Set up job", "conclusion": "success", "number": 1}, {"name": "Run npm publish", "conclusion": "failure", "number": 5}},
		}}})
	})
	mux.HandleFunc("GET "+repo+"/actions/jobs/7/logs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/_blob/job-7.log", http.StatusFound)
	})
	mux.HandleFunc("GET /_blob/job-7.log", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, jobLog)
	})
	mux.HandleFunc("GET "+repo+"/contents/.github/workflows/release.yml", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ref") != "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "file", "encoding": "base64", "name": "release.yml",
			"path": ".github/workflows/release.yml", "content": base64.StdEncoding.EncodeToString([]byte(workflowYAML))})
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const releaseWorkflow = `name: Release
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read%s
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: %s
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish --access public
`

// seedRun is what an auto-mode test of the seed needs: the bare paste as the failed job's
// log, and a loopback registry (closed with the test). With trusted, the registry knows a
// read token and lists @acme/widgets with a trusted publisher on publish.yml.
func seedRun(t *testing.T, trusted bool) (string, *fakenpm.Registry) {
	t.Helper()
	paste, err := os.ReadFile(repo("examples/bare-paste.log"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if trusted {
		reg.AddToken("npm_readToken", "")
		reg.AddPackage("@acme/widgets", fakenpm.Package{Versions: []string{"2.3.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "publish.yml", AllowPublish: true}})
	}
	return string(paste), reg
}

// Auto mode settles the seed's bare paste with the workflow and the registry.
func TestDiagnoseRunURL(t *testing.T) {
	paste, reg := seedRun(t, true)

	const idToken = "\n      id-token: write"
	cases := map[string]struct {
		perms, node, want, evidence string
	}{
		"node 22 never upgrades npm":         {idToken, "22", "oidc-npm-too-old", "release.yml:"},
		"no id-token: write on the job":      {"", "'24'", "oidc-missing-id-token-permission", "release.yml:"},
		"trusted publisher names other file": {idToken, "'24'", "oidc-workflow-filename-mismatch", "registry"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, c.perms, c.node), paste)
			t.Setenv("GITHUB_TOKEN", "test-token")
			t.Setenv("GITHUB_API_URL", gh.URL+"/")
			t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
			t.Setenv("NPM_TOKEN", "npm_readToken")
			code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", "https://github.com/acme/widgets/actions/runs/42")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// One object: the publish job on top, every failed job under "jobs".
			var list struct {
				Schema  string `json:"schema"`
				Verdict string `json:"verdict"`
				Job     string `json:"job"`
				Jobs    []struct {
					Job string `json:"job"`
					URL string `json:"url"`
				} `json:"jobs"`
				Diagnoses []struct {
					ID         string  `json:"id"`
					Confidence float64 `json:"confidence"`
					Reasons    []struct {
						Note, Source, File string
						Line               int
					} `json:"reasons"`
				} `json:"diagnoses"`
			}
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("not a JSON object: %v\n%s", err, out)
			}
			if list.Schema != "pubdoc.diagnosis/v1" || list.Job != "publish" || len(list.Jobs) != 1 || list.Jobs[0].URL == "" || len(list.Diagnoses) == 0 {
				t.Fatalf("results: %s", out)
			}
			d := list.Diagnoses[0]
			if list.Verdict != "diagnosed" || d.ID != c.want {
				t.Fatalf("got %s %s %.2f, want %s diagnosed\n%s", list.Verdict, d.ID, d.Confidence, c.want, out)
			}
			found := false
			for _, r := range d.Reasons {
				loc := fmt.Sprintf("%s:%d", r.File, r.Line)
				found = found || strings.Contains(loc, c.evidence) || r.Source == c.evidence
			}
			if !found {
				t.Errorf("no reason cites %s: %+v", c.evidence, d.Reasons)
			}
			if strings.Contains(out+stderr, "test-token") || strings.Contains(out+stderr, "npm_readToken") {
				t.Error("a token leaked into the output")
			}
		})
	}
}

func TestDiagnoseRunURLErrors(t *testing.T) {
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "", "24"), "x\n")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("GITHUB_TOKEN", "wrong-token")
	code, _, stderr := runCLI(t, "", "diagnose", "https://github.com/acme/widgets/actions/runs/42")
	if code != exitRuntime || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "wrong-token") {
		t.Fatalf("bad credentials: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "diagnose", "https://github.com/acme/widgets/actions/runs/notanumber")
	if code != exitUsage {
		t.Fatalf("bad URL: exit %d, stderr %q", code, stderr)
	}
}

func TestDiagnoseRunURLLogsExpired(t *testing.T) {
	mux := http.NewServeMux()
	repo := "/repos/acme/widgets"
	mux.HandleFunc("GET "+repo+"/actions/runs/42", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 42, "path": ".github/workflows/release.yml", "event": "push",
			"head_sha": "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4", "conclusion": "failure", "run_attempt": 1})
	})
	mux.HandleFunc("GET "+repo+"/actions/runs/42/jobs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"total_count": 1, "jobs": []map[string]any{{"id": 7, "run_id": 42, "name": "publish", "conclusion": "failure"}}})
	})
	gone := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, `{"message":"Gone"}`)
	}
	mux.HandleFunc("GET "+repo+"/actions/jobs/7/logs", gone)
	mux.HandleFunc("GET "+repo+"/actions/runs/42/logs", gone)
	mux.HandleFunc("GET "+repo+"/contents/", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", srv.URL+"/")
	code, out, stderr := runCLI(t, "", "diagnose", "https://github.com/acme/widgets/actions/runs/42")
	if code != exitRuntime || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "90 days") {
		t.Fatalf("expired logs: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
