package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
)

// lineOf is the 1-based line of the first line of src containing s.
func lineOf(t *testing.T, src, s string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q is not in the file", s)
	return 0
}

func TestAskable(t *testing.T) {
	cases := []struct {
		logged, configured string
		want               bool
	}{
		{"", "https://registry.npmjs.org/", true},                                 // npm's default registry
		{"https://registry.npmjs.org/", "https://registry.npmjs.org/", true},      // the public registry itself
		{"https://registry.npmjs.org/", "http://127.0.0.1:4873/", true},           // reached through a mirror or test double
		{"https://registry.yarnpkg.com", "https://npm-proxy.corp.example/", true}, // yarn's alias of it
		{"https://npm.pkg.github.com/", "https://registry.npmjs.org/", false},     // another registry, not configured
		{"https://npm.pkg.github.com/", "https://NPM.pkg.github.com", true},       // … unless it is the one configured
		{"https://npm.corp.example/team/", "https://user:xxxxx@npm.corp.example/team", true},
		{"https://npm.corp.example/team/", "https://npm.corp.example/other/", false},
	}
	for _, c := range cases {
		if got := askable(c.logged, c.configured); got != c.want {
			t.Errorf("askable(%q, %q) = %v, want %v", c.logged, c.configured, got, c.want)
		}
	}
}

const whereWorkflow = `name: Release
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 20
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish --provenance --access public
`

// A log that is conclusive alone still cites the workflow line to change, and a publish to
// registry.npmjs.org is asked at the configured address; one to another registry is not.
func TestDiagnoseRunCitesWorkflowAndAsksTheConfiguredRegistry(t *testing.T) {
	reg := &fakeRegistry{base: "http://127.0.0.1:4873/", packages: map[string][]string{"@acme/widgets": {"2.3.0"}},
		trusted: map[string][]RunIdentity{"@acme/widgets": {{Repository: "acme/widgets", WorkflowFile: "release.yml"}}}}

	oldNPM := example(t, "old-npm.log")
	run := func(log string) *diagnose.Result {
		t.Helper()
		r := &Run{
			Ref:          RunRef{Owner: "acme", Repo: "widgets", RunID: 42},
			WorkflowPath: ".github/workflows/release.yml", Event: "push",
			FailedJobs: []Job{{Name: "publish", Log: []byte(log)}},
			Workflow:   []byte(whereWorkflow),
		}
		results, err := DiagnoseRun(context.Background(), testEngine(t), r, reg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 1 || len(results[0].Diagnoses) == 0 {
			t.Fatalf("results: %+v", results)
		}
		return results[0]
	}

	res := run(oldNPM)
	d := res.Diagnoses[0]
	if res.Verdict != diagnose.Diagnosed || d.ID != "oidc-npm-too-old" {
		t.Fatalf("got %s %s", res.Verdict, d.ID)
	}
	want := diagnose.Evidence{Line: lineOf(t, whereWorkflow, "node-version: 20"), Text: "node-version: 20", Source: "workflow", File: "release.yml"}
	if d.Evidence[0] != want {
		t.Errorf("first evidence %+v, want %+v", d.Evidence[0], want)
	}
	if ref := res.FactEvidence["npm_version"]; ref.Source != "log" {
		t.Errorf("npm_version from %s, want the log's", ref.Source)
	}
	if ref := res.FactEvidence["trusted_publisher"]; ref.Source != "registry" || res.Facts["trusted_publisher"] != "match" {
		t.Errorf("trusted_publisher = %q from %q, want match from the registry", res.Facts["trusted_publisher"], ref.Source)
	}
	asked := len(reg.asked)
	if asked == 0 || reg.asked[0] != "@acme/widgets" {
		t.Errorf("the registry was not asked about the package: %q", reg.asked)
	}

	// The same failure published to GitHub Packages: not the registry configured, not asked.
	gpr := strings.ReplaceAll(oldNPM, "https://registry.npmjs.org/", "https://npm.pkg.github.com/")
	res = run(gpr)
	if n := len(reg.asked); n != asked {
		t.Errorf("a publish to GitHub Packages asked the configured registry: %q", reg.asked[asked:])
	}
	for name, ref := range res.FactEvidence {
		if ref.Source == "registry" {
			t.Errorf("registry fact %s without asking", name)
		}
	}
}

const callerWorkflow = `name: Release
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v5
        with:
          node-version: 18
      - run: npm test
  release:
    uses: ./.github/workflows/publish.yml
`

const calleeWorkflow = `name: Publish
on: workflow_call
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v5
        with:
          node-version: 24
          registry-url: https://registry.npmjs.org
      - run: npm publish
`

// A failed job of a called workflow ("caller / callee") is read from the callee, cites
// the callee's permissions line, and knows the caller's uses: line.
func TestDiagnoseRunReadsTheCalledJob(t *testing.T) {
	r := &Run{
		Ref:          RunRef{Owner: "acme", Repo: "widgets", RunID: 42},
		WorkflowPath: ".github/workflows/release.yml", Event: "push",
		FailedJobs: []Job{{Name: "release / publish", Log: []byte(example(t, "missing-id-token.log"))}},
		Workflow:   []byte(callerWorkflow),
		Callees:    map[string][]byte{".github/workflows/publish.yml": []byte(calleeWorkflow)},
		PackageJSON: []byte(`{
  "name": "@acme/widgets",
  "version": "2.4.0",
  "repository": {
    "type": "git",
    "url": "git+https://github.com/acme/widgets.git"
  }
}`),
	}
	results, err := DiagnoseRun(context.Background(), testEngine(t), r, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res := results[0]
	d := res.Diagnoses[0]
	if d.ID != "oidc-missing-id-token-permission" {
		t.Fatalf("got %s %s", res.Verdict, d.ID)
	}
	want := diagnose.Evidence{Line: 3, Text: "permissions:  # id-token: write is not granted", Source: "workflow", File: "publish.yml"}
	if d.Evidence[0] != want {
		t.Errorf("first evidence %+v, want %+v", d.Evidence[0], want)
	}
	if ref := res.FactEvidence["reusable_call"]; ref.File != "release.yml" || ref.Line != lineOf(t, callerWorkflow, "uses: ./") {
		t.Errorf("reusable_call at %s:%d, want the caller's uses: line", ref.File, ref.Line)
	}
	if ref := res.FactEvidence["setup_node_version"]; ref.File != "publish.yml" {
		t.Errorf("setup_node_version from %s:%d, want the callee's (not the test job's)", ref.File, ref.Line)
	}
}

// A job is found by the name GitHub shows: its name:, else its id, with a matrix suffix.
func TestRunFilesFindTheFailedJob(t *testing.T) {
	src := `on: push
jobs:
  build:
    name: Build and test
    runs-on: ubuntu-latest
    steps:
      - run: npm test
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
`
	rf := parseRunFiles(&Run{WorkflowPath: ".github/workflows/ci.yml", Workflow: []byte(src)}, slog.New(slog.DiscardHandler))
	for name, want := range map[string]string{
		"Build and test":                     "build",
		"Build and test (18, ubuntu-latest)": "build",
		"publish":                            "publish",
		"something else":                     "publish", // unknown: the publish job
	} {
		if _, j, _ := rf.job(name); j == nil || j.ID != want {
			t.Errorf("job(%q) = %v, want %s", name, j, want)
		}
	}
	// A job that does not publish gets no oidc_intended: its log is not a publish.
	for _, f := range rf.facts("Build and test") {
		if f.Name == "oidc_intended" {
			t.Error("oidc_intended on a job that does not publish")
		}
	}
}

func TestPackageSites(t *testing.T) {
	cases := map[string]struct {
		src  string
		want []string // name@line
	}{
		"repository object": {`{
  "name": "x",
  "version": "1.0.0",
  "repository": {
    "type": "git",
    "url": "git+https://github.com/acme/x.git"
  }
}`, []string{"package_repository@6", "package_version_field@3"}},
		"repository string, nested version ignored": {`{"name": "x",
"dependencies": {"version": "1"},
"repository": "github:acme/x"}`, []string{"package_repository@3"}},
		"not JSON":   {`{"name": `, nil},
		"empty file": {``, nil},
	}
	for name, c := range cases {
		var got []string
		for _, s := range packageSites([]byte(c.src)) {
			if s.File != "package.json" || s.Source != "workflow" || s.Text == "" {
				t.Errorf("%s: site %+v", name, s)
			}
			got = append(got, fmt.Sprintf("%s@%d", s.Name, s.Line))
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: sites %v, want %v", name, got, c.want)
		}
	}
}

// Other registries' jobs are found by name too: their permission lines are cited.
func TestDiagnoseRunCitesTheFailedJobsPermissions(t *testing.T) {
	cases := []struct {
		name, job, workflow, log, want, cite string
	}{
		{"ghcr push with packages: read", "docker", `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    permissions:
      packages: write
    steps:
      - run: make test
  docker:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: read
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: true
`, "GITHUB_TOKEN Permissions\n  Contents: read\n  Metadata: read\n  Packages: read\nSecret source: Actions\nThe push refers to repository [ghcr.io/acme/api]\n5f70bf18a086: Preparing\ndenied: installation not allowed to Write organization package\nError: Process completed with exit code 1.\n",
			"ghcr-missing-packages-write", "packages: read"},
		{"PyPI upload without id-token: write", "Upload to PyPI", `on: push
permissions:
  contents: read
jobs:
  pypi:
    name: Upload to PyPI
    runs-on: ubuntu-latest
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
`, "Run uv publish --trusted-publishing always\nPublishing 2 files https://upload.pypi.org/legacy/\nerror: Failed to obtain token for trusted publishing\n  Caused by: Environment variable ACTIONS_ID_TOKEN_REQUEST_TOKEN not set, is the `id-token: write` permission missing?\nError: Process completed with exit code 2.\n",
			"pypi-missing-id-token", "permissions:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Run{
				WorkflowPath: ".github/workflows/ci.yml", Event: "push",
				FailedJobs: []Job{{Name: c.job, Log: []byte(c.log)}},
				Workflow:   []byte(c.workflow),
			}
			results, err := DiagnoseRun(context.Background(), testEngine(t), r, nil, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			res := results[0]
			if len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != c.want {
				t.Fatalf("got %s %v, want %s", res.Verdict, res.Diagnoses, c.want)
			}
			ev := res.Diagnoses[0].Evidence[0]
			if ev.Source != "workflow" || ev.File != "ci.yml" || ev.Line != lineOf(t, c.workflow, c.cite) || !strings.HasPrefix(ev.Text, c.cite) {
				t.Errorf("first evidence %+v, want ci.yml:%d %q", ev, lineOf(t, c.workflow, c.cite), c.cite)
			}
		})
	}
}
