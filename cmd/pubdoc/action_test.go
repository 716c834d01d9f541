package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

// actionsEnv simulates the runner around one step of the action: the GITHUB_* variables,
// the summary and output files, RUNNER_TEMP and the workspace as the working directory.
type actionsEnv struct {
	dir, summary, output, workspace string
}

func newActionsEnv(t *testing.T, inputs map[string]string) *actionsEnv {
	t.Helper()
	dir := t.TempDir()
	e := &actionsEnv{
		dir:       dir,
		summary:   filepath.Join(dir, "step_summary.md"),
		output:    filepath.Join(dir, "output.txt"),
		workspace: filepath.Join(dir, "workspace"),
	}
	if err := os.MkdirAll(filepath.Join(e.workspace, ".github", "workflows"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{e.summary, e.output} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/widgets",
		"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_WORKFLOW": "Release", "GITHUB_REF_NAME": "main",
		"GITHUB_WORKSPACE": e.workspace, "GITHUB_STEP_SUMMARY": e.summary, "GITHUB_OUTPUT": e.output,
		"RUNNER_TEMP": dir,
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"INPUT_MODE", "INPUT_LOG_FILE", "INPUT_RUN_URL", "INPUT_PATH", "INPUT_SARIF_FILE",
		"INPUT_JSON_FILE", "INPUT_FAIL_ON_ERROR", "INPUT_SLACK_WEBHOOK_URL", "INPUT_SLACK_BOT_TOKEN", "INPUT_SLACK_CHANNEL", "INPUT_PACKAGE"} {
		t.Setenv(k, "")
	}
	for k, v := range inputs {
		t.Setenv("INPUT_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")), v)
	}
	t.Chdir(e.workspace)
	return e
}

// outputs parses the GITHUB_OUTPUT file: name=value lines and name<<DELIM heredocs.
func (e *actionsEnv) outputs(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(e.output)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if name, delim, ok := strings.Cut(lines[i], "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(lines[i], "="); ok {
			out[name] = val
		}
	}
	return out
}

func (e *actionsEnv) summaryText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(e.summary)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// reAnnotation is a workflow command as the runner reads it.
var reAnnotation = regexp.MustCompile(`(?m)^::(error|warning|notice)( [^:]*)?::(.*)$`)

type annotation struct{ level, file, line, title, message string }

func annotations(stdout string) []annotation {
	var out []annotation
	for _, m := range reAnnotation.FindAllStringSubmatch(stdout, -1) {
		a := annotation{level: m[1], message: unescape(m[3])}
		for p := range strings.SplitSeq(strings.TrimSpace(m[2]), ",") {
			k, v, _ := strings.Cut(p, "=")
			switch k {
			case "file":
				a.file = unescape(v)
			case "line":
				a.line = v
			case "title":
				a.title = unescape(v)
			}
		}
		out = append(out, a)
	}
	return out
}

func unescape(s string) string {
	return strings.NewReplacer("%0A", "\n", "%0D", "\r", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

// The diagnose mode in the job that runs after a failed publish job: it reads the run
// through the (loopback) API, and the summary, the annotations and the outputs name the
// seed's cause, with an annotation at the workflow line to change.
func TestActionDiagnoseRun(t *testing.T) {
	paste, reg := seedRun(t, true)

	const idToken = "\n      id-token: write"
	cases := map[string]struct {
		perms, node, want, title string
		line                     int // the workflow line an annotation points at; 0: none
	}{
		"node 22 never upgrades npm":         {idToken, "22", "oidc-npm-too-old", "npm is too old", 17},
		"no id-token: write on the job":      {"", "'24'", "oidc-missing-id-token-permission", "id-token", 10},
		"trusted publisher names other file": {idToken, "'24'", "oidc-workflow-filename-mismatch", "", 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, c.perms, c.node), paste)
			env := newActionsEnv(t, map[string]string{"mode": "diagnose"})
			t.Setenv("GITHUB_TOKEN", "test-token")
			t.Setenv("GITHUB_API_URL", gh.URL+"/")
			t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
			t.Setenv("NPM_TOKEN", "npm_readToken")
			code, stdout, stderr := runCLI(t, "", "action")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out := env.outputs(t)
			if out["verdict"] != "diagnosed" || out["cause"] != c.want || out["confidence"] < "0.80" || out["job"] != "publish" {
				t.Fatalf("outputs: %v", out)
			}
			// The json output is the CLI's answer.
			var ans struct {
				Schema, Verdict string
				Diagnoses       []struct{ ID string }
			}
			data, err := os.ReadFile(out["json"])
			if err != nil || json.Unmarshal(data, &ans) != nil || ans.Schema != "pubdoc.diagnosis/v1" || ans.Diagnoses[0].ID != c.want {
				t.Fatalf("json output %s: %v %+v", out["json"], err, ans)
			}
			summary := env.summaryText(t)
			if !strings.Contains(summary, "**Diagnosed:**") || !strings.Contains(summary, "https://github.com/acme/widgets/actions/runs/42") || (c.title != "" && !strings.Contains(summary, c.title)) {
				t.Errorf("summary:\n%s", summary)
			}
			as := annotations(stdout)
			if len(as) == 0 {
				t.Fatalf("no annotation:\n%s", stdout)
			}
			for _, a := range as {
				if a.level != "error" || !strings.Contains(a.title, "Pubdoc") || !strings.Contains(a.message, c.want) {
					t.Errorf("annotation %+v", a)
				}
			}
			if c.line > 0 {
				found := false
				for _, a := range as {
					found = found || (a.file == ".github/workflows/release.yml" && a.line == fmt.Sprint(c.line))
				}
				if !found {
					t.Errorf("no annotation at release.yml:%d:\n%s", c.line, stdout)
				}
			} else if as[0].file != "" {
				t.Errorf("annotation without workflow evidence names a file: %+v", as[0])
			}
			if strings.Contains(stdout+stderr+summary, "test-token") || strings.Contains(stdout+summary, "npm_readToken") {
				t.Error("a token leaked")
			}
		})
	}
}

// Inside the failing job itself, log-file: names the output captured with tee.
func TestActionDiagnoseLogFile(t *testing.T) {
	env := newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/old-npm.log")})
	code, stdout, stderr := runCLI(t, "", "action")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := env.outputs(t)
	if out["verdict"] != "diagnosed" || out["cause"] != "oidc-npm-too-old" {
		t.Fatalf("outputs: %v", out)
	}
	as := annotations(stdout)
	if len(as) != 1 || as[0].level != "error" || as[0].file != "" || !strings.Contains(as[0].message, "job summary") {
		t.Fatalf("annotations: %+v", as)
	}
	if s := env.summaryText(t); !strings.Contains(s, "npm is too old for trusted publishing") || !strings.Contains(s, "old-npm.log") {
		t.Errorf("summary:\n%s", s)
	}
}

// repoRoot is the repository's absolute path, taken before any test changes directory
// (the action's tests run in a workspace of their own).
var repoRoot, repoRootErr = filepath.Abs(filepath.Join("..", ".."))

func absRepo(t *testing.T, p string) string {
	t.Helper()
	if repoRootErr != nil {
		t.Fatal(repoRootErr)
	}
	return filepath.Join(repoRoot, p)
}

// An inconclusive answer is a warning with the candidates; the outputs leave cause empty
// and list the candidates.
func TestActionDiagnoseInconclusive(t *testing.T) {
	env := newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/bare-paste.log")})
	code, stdout, stderr := runCLI(t, "", "action")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := env.outputs(t)
	if out["verdict"] != "inconclusive" || out["cause"] != "" || !strings.Contains(out["candidates"], "oidc-") {
		t.Fatalf("outputs: %v", out)
	}
	as := annotations(stdout)
	if len(as) != 1 || as[0].level != "warning" || !strings.Contains(as[0].message, "Next check") {
		t.Fatalf("annotations: %+v", as)
	}
}

// A failure to read the run is one ::error:: and a failed step.
func TestActionDiagnoseErrors(t *testing.T) {
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "", "24"), "x\n")
	env := newActionsEnv(t, nil)
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("GITHUB_TOKEN", "wrong-token")
	code, stdout, stderr := runCLI(t, "", "action")
	as := annotations(stdout)
	if code != exitRuntime || len(as) != 1 || as[0].level != "error" || strings.Contains(stdout+stderr, "wrong-token") {
		t.Fatalf("exit %d, annotations %+v, stderr %q", code, as, stderr)
	}
	if !strings.Contains(env.summaryText(t), "could not diagnose") {
		t.Error("summary does not say it failed")
	}

	newActionsEnv(t, map[string]string{"mode": "lint"})
	if code, _, _ := runCLI(t, "", "action"); code != exitUsage {
		t.Errorf("unknown mode: exit %d", code)
	}
	newActionsEnv(t, map[string]string{"slack-channel": "C1"})
	if code, _, _ := runCLI(t, "", "action"); code != exitUsage {
		t.Errorf("slack-channel without a token: exit %d", code)
	}
	newActionsEnv(t, nil)
	t.Setenv("GITHUB_REPOSITORY", "")
	if code, _, _ := runCLI(t, "", "action"); code != exitUsage {
		t.Errorf("no run and no log: exit %d", code)
	}
}

// The incoming webhook gets the bot's Block Kit rendering, and the webhook URL (a
// credential) appears nowhere.
func TestActionDiagnoseSlackWebhook(t *testing.T) {
	var mu sync.Mutex
	var got map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/secretpart" || json.Unmarshal(body, &got) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer hook.Close()
	newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/old-npm.log"), "slack-webhook-url": hook.URL + "/services/T0/B0/secretpart"})
	code, stdout, stderr := runCLI(t, "", "action")
	if code != exitOK || strings.Contains(stdout, "::warning") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	mu.Lock()
	text, _ := got["text"].(string)
	blocks, _ := got["blocks"].([]any)
	mu.Unlock()
	if !strings.Contains(text, "npm is too old") || len(blocks) < 2 || !strings.Contains(text, "acme/widgets") {
		t.Fatalf("webhook body: text %q, %d blocks", text, len(blocks))
	}

	// A webhook that refuses: a warning without the URL, and the step still passes.
	newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/old-npm.log"), "slack-webhook-url": hook.URL + "/services/T0/B0/wrongpart"})
	code, stdout, _ = runCLI(t, "", "action")
	as := annotations(stdout)
	last := as[len(as)-1]
	if code != exitOK || last.level != "warning" || !strings.Contains(last.message, "HTTP 400") || strings.Contains(stdout, "wrongpart") {
		t.Fatalf("exit %d: %+v", code, as)
	}
}

const brokenWorkflow = `name: Release
on:
  push:
    tags: ['v*']
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 20
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish --provenance --access public
`

// mode: check on a broken workflow: an annotation at each line, exit 1, and a SARIF file
// code scanning accepts.
func TestActionCheck(t *testing.T) {
	env := newActionsEnv(t, map[string]string{"mode": "check"})
	wf := filepath.Join(env.workspace, ".github", "workflows", "release.yml")
	if err := os.WriteFile(wf, []byte(brokenWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "action")
	if code != exitRuntime || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	as := annotations(stdout)
	lines := map[string]bool{}
	for _, a := range as {
		if a.level != "error" || a.file != ".github/workflows/release.yml" || !strings.Contains(a.message, "Fix: ") {
			t.Errorf("annotation %+v", a)
		}
		lines[a.line] = true
	}
	if !lines["5"] || !lines["14"] {
		t.Fatalf("want annotations at lines 5 (permissions) and 14 (node-version):\n%s", stdout)
	}
	out := env.outputs(t)
	if out["errors"] != fmt.Sprint(len(as)) || out["warnings"] != "0" || out["sarif"] == "" {
		t.Fatalf("outputs: %v", out)
	}
	data, err := os.ReadFile(out["sarif"])
	if err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						}
					} `json:"physicalLocation"`
				}
			}
		}
	}
	if err := json.Unmarshal(data, &sarif); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != len(as) || sarif.Runs[0].Tool.Driver.Name != "pubdoc" {
		t.Fatalf("SARIF: %s", data)
	}
	for _, r := range sarif.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation
		if r.Level != "error" || sarif.Runs[0].Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || loc.ArtifactLocation.URI != ".github/workflows/release.yml" || loc.Region.StartLine == 0 || r.Message.Text == "" {
			t.Errorf("SARIF result %+v", r)
		}
	}
	if s := env.summaryText(t); !strings.Contains(s, "2 error(s)") || !strings.Contains(s, "`.github/workflows/release.yml:14`") {
		t.Errorf("summary:\n%s", s)
	}

	// fail-on-error: false reports the same and passes.
	newActionsEnv(t, map[string]string{"mode": "check", "fail-on-error": "false", "path": wf})
	if err := os.WriteFile(wf, []byte(brokenWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, "", "action"); code != exitOK || len(annotations(stdout)) != len(as) {
		t.Fatalf("fail-on-error false: exit %d\n%s", code, stdout)
	}
}

// The repository's own workflows and the Action's examples pass actionlint (which also
// reads action.yml for the uses: ./ of ci.yml) and pubdoc check.
func TestActionExamplesPassCheck(t *testing.T) {
	examples, _ := filepath.Glob(repo("examples/action/*.yml"))
	if len(examples) < 3 {
		t.Fatalf("examples/action has %d workflows, want both modes (and log-file)", len(examples))
	}
	for _, f := range examples {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "uses: pubdoc/pubdoc@v1") {
			t.Errorf("%s does not use the action", f)
		}
	}
	own, _ := filepath.Glob(repo(".github/workflows/*.yml"))
	if len(own) < 2 {
		t.Fatalf("want ci.yml and release.yml, have %v", own)
	}
	files := append(own, examples...)
	var lintOut strings.Builder
	l, err := actionlint.NewLinter(&lintOut, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
	code, out, stderr := runCLI(t, "", append([]string{"check"}, files...)...)
	if code != exitOK || !strings.Contains(out, " 0 finding(s)") {
		t.Fatalf("check: exit %d\n%s%s", code, out, stderr)
	}
}

// The outputs the entry sets are the outputs action.yml declares.
func TestActionOutputsMatchActionYAML(t *testing.T) {
	data, err := os.ReadFile(absRepo(t, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Outputs map[string]any `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	env := newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/old-npm.log")})
	if code, _, stderr := runCLI(t, "", "action"); code != exitOK {
		t.Fatalf("diagnose: exit %d %s", code, stderr)
	}
	for k := range env.outputs(t) {
		set[k] = true
	}
	env = newActionsEnv(t, map[string]string{"mode": "check", "path": absRepo(t, "examples/action")})
	if code, _, stderr := runCLI(t, "", "action"); code != exitOK {
		t.Fatalf("check on the examples: exit %d %s", code, stderr)
	}
	for k := range env.outputs(t) {
		set[k] = true
	}
	for k := range action.Outputs {
		if !set[k] {
			t.Errorf("action.yml declares output %s, which the entry never sets", k)
		}
		delete(set, k)
	}
	for k := range set {
		t.Errorf("the entry sets output %s, which action.yml does not declare", k)
	}
}

// slack-bot-token with slack-channel posts as the bot, through the same client as serve.
func TestActionDiagnoseSlackBot(t *testing.T) {
	var mu sync.Mutex
	var channel, auth, blocks string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/chat.postMessage" {
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		channel, auth, blocks = r.Form.Get("channel"), r.Header.Get("Authorization"), r.Form.Get("blocks")
		if auth == "" {
			auth = "Bearer " + r.Form.Get("token")
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"channel":"C0PUBDOC","ts":"1700000000.000100"}`)
	}))
	defer api.Close()
	newActionsEnv(t, map[string]string{"log-file": absRepo(t, "examples/old-npm.log"), "slack-bot-token": "xoxb-test-token", "slack-channel": "C0PUBDOC"})
	t.Setenv("PUBDOC_SLACK_API_URL", api.URL+"/")
	code, stdout, stderr := runCLI(t, "", "action")
	if code != exitOK || strings.Contains(stdout, "::warning") || strings.Contains(stdout+stderr, "xoxb-test-token") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if channel != "C0PUBDOC" || auth != "Bearer xoxb-test-token" || !strings.Contains(blocks, "oidc-npm-too-old") {
		t.Fatalf("posted to %q with %q: %.300s", channel, auth, blocks)
	}
}
