package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/fakenpm"
	"github.com/pubdoc/pubdoc/internal/schematest"
)

// fixAnswer is the part of `check --format json` (with --fix or --diff) these tests read.
type fixAnswer struct {
	Findings []workflow.Finding `json:"findings"`
	Fixed    []workflow.Finding `json:"fixed"`
	Patch    string             `json:"patch"`
}

func checkJSON(t *testing.T, args ...string) fixAnswer {
	t.Helper()
	_, out, stderr := runCLI(t, "", append([]string{"check", "--format", "json"}, args...)...)
	schematest.Validate(t, schematest.CheckFile, "check "+strings.Join(args, " "), []byte(out))
	var a fixAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("check %v: %v\n%s%s", args, err, out, stderr)
	}
	return a
}

// kinds counts findings by check and rule.
func kinds(fs []workflow.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.ID+" "+f.Rule]++
	}
	return m
}

// commentLines are a file's comment lines.
func commentLines(src []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(src), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out
}

// gitApplyCheck runs `git apply --check` of diff in dir, a git repository holding the
// files before the fix; it reports false when git is not installed.
func gitApplyCheck(t *testing.T, dir, diff string) bool {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	cmd := exec.Command("git", "-C", dir, "apply", "--check", "-")
	cmd.Stdin = strings.NewReader(diff)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git apply --check: %v\n%s\n%s", err, out, diff)
	}
	return true
}

// TestCheckFixEveryFixture: on every workflow fixture of check that has a finding (the
// check tests' files, and the "before" and "after" repositories of real fix commits),
// --diff prints a patch git applies, --fix makes the same change, the fixed files parse
// and keep their comments, check then reports none of the fixed findings, and a second
// --fix changes nothing.
func TestCheckFixEveryFixture(t *testing.T) {
	src, err := filepath.Abs(filepath.Join("..", "..", "diagnose", "workflow", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []string
	for _, pat := range []string{"*.yml", "reusable/*.yml"} {
		m, err := filepath.Glob(filepath.Join(src, pat))
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, m...)
	}
	repos, err := filepath.Glob(filepath.Join(src, "realfix", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	var stats fixStats
	for _, fx := range fixtures {
		rel, _ := filepath.Rel(src, fx)
		before, err := os.ReadFile(fx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workflow.Parse(rel, before); err != nil {
			continue // invalid.yml
		}
		name := strings.ReplaceAll(strings.TrimSuffix(rel, ".yml"), "/", "-")
		t.Run(name, func(t *testing.T) {
			files := map[string][]byte{filepath.Join(".github", "workflows", filepath.Base(rel)): before}
			if p, err := os.ReadFile(strings.TrimSuffix(fx, ".yml") + ".package.json"); err == nil {
				files["package.json"] = p
			}
			stats.add(checkFixRepo(t, name, files))
		})
	}
	for _, r := range repos {
		rel, _ := filepath.Rel(filepath.Join(src, "realfix"), r)
		name := "realfix-" + strings.ReplaceAll(rel, string(filepath.Separator), "-")
		t.Run(name, func(t *testing.T) {
			files := map[string][]byte{}
			err := filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				rp, _ := filepath.Rel(r, p)
				files[rp] = b
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			stats.add(checkFixRepo(t, name, files))
		})
	}
	if stats.withFindings < 30 || stats.fixed < 20 {
		t.Errorf("%d fixtures with findings, %d fixed: fewer than the fixtures hold", stats.withFindings, stats.fixed)
	}
	t.Logf("%d fixtures with findings, %d with fixes; %d findings, %d fixed", stats.withFindings, stats.fixed, stats.findings, stats.findingsFixed)
}

type fixStats struct{ withFindings, fixed, findings, findingsFixed int }

func (s *fixStats) add(o fixStats) {
	s.withFindings += o.withFindings
	s.fixed += o.fixed
	s.findings += o.findings
	s.findingsFixed += o.findingsFixed
}

// checkFixRepo writes files (repository paths) under dir and runs check, --diff and --fix
// there as a user would at the repository's root.
func checkFixRepo(t *testing.T, dir string, files map[string][]byte) fixStats {
	t.Helper()
	for p, b := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	var st fixStats
	first := checkJSON(t)
	if len(first.Findings) == 0 {
		return st
	}
	st.withFindings, st.findings = 1, len(first.Findings)
	_, diff, _ := runCLI(t, "", "check", "--diff")
	if preview := checkJSON(t, "--diff"); preview.Patch != diff {
		t.Errorf("--diff and --diff --format json differ:\n%s\n%s", diff, preview.Patch)
	}
	if diff != "" {
		gitApplyCheck(t, ".", diff)
	}
	res := checkJSON(t, "--fix")
	if res.Patch != diff {
		t.Errorf("--fix made another change than --diff printed:\n%s\n%s", res.Patch, diff)
	}
	if len(res.Fixed) > 0 {
		st.fixed, st.findingsFixed = 1, len(res.Fixed)
		if diff == "" {
			t.Errorf("fixed %v but no file changed", kinds(res.Fixed))
		}
	}
	for p, before := range files {
		after, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") {
			if _, err := workflow.Parse(p, after); err != nil {
				t.Errorf("%s does not parse after --fix: %v\n%s", p, err, after)
			}
			for _, c := range commentLines(before) {
				if !strings.Contains(string(after), c) {
					t.Errorf("%s: comment %q is gone", p, c)
				}
			}
		} else if strings.HasSuffix(p, ".json") && !json.Valid(after) {
			t.Errorf("%s is not JSON after --fix:\n%s", p, after)
		}
	}
	left := kinds(checkJSON(t).Findings)
	was := kinds(first.Findings)
	for k, n := range kinds(res.Fixed) {
		if left[k] > was[k]-n {
			t.Errorf("fixed %s is still reported (%d left of %d)", k, left[k], was[k])
		}
	}
	if again := checkJSON(t, "--fix"); again.Patch != "" || len(again.Fixed) != 0 {
		t.Errorf("a second --fix changes more: %v\n%s", kinds(again.Fixed), again.Patch)
	}
	return st
}

func TestCheckFixFlags(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "release.yml")
	if err := os.WriteFile(wf, []byte(badWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCLI(t, "", "check", "--fix", "--diff", wf); code != exitUsage {
		t.Errorf("--fix --diff: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, "", "check", "--diff", "--format", "sarif", wf); code != exitUsage {
		t.Errorf("--diff --format sarif: exit %d, want %d", code, exitUsage)
	}
	// --diff writes nothing; --fix writes, says what it fixed, and exits 0 once no error
	// is left.
	code, out, _ := runCLI(t, "", "check", "--diff", wf)
	if now, _ := os.ReadFile(wf); code != exitOK || string(now) != badWorkflow || !strings.Contains(out, "+      id-token: write") {
		t.Fatalf("--diff: exit %d, file changed %v\n%s", code, string(now) != badWorkflow, out)
	}
	code, out, _ = runCLI(t, "", "check", "--fix", wf)
	if code != exitOK || !strings.Contains(out, "fixed ") || !strings.Contains(out, "0 finding(s)") {
		t.Errorf("--fix: exit %d\n%s", code, out)
	}
}

// failedRuns are three failed publishes as GitHub serves them: the job's log and the
// workflow at the failing commit.
var failedRuns = []struct {
	name, log, workflow, rule string
}{
	{"old npm", "examples/old-npm.log", `name: Release
on:
  push:
    branches: [main]
jobs:
  publish:
    runs-on: ubuntu-latest
    # OIDC: no NPM_TOKEN anywhere
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: 20   # the LTS we test on
      - run: npm ci
      - run: npm publish --access public
`, "oidc-npm-too-old"},
	{"missing id-token", "examples/missing-id-token.log", `name: Release
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read # least privilege
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v5
        with:
          node-version: '24'
      - run: npm ci
      - run: npm publish --access public
`, "oidc-missing-id-token-permission"},
	{"registry-url and a placeholder token", "", `name: Release
on:
  push:
    branches: [main]
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
          node-version: '24'
          # setup-node writes an .npmrc with _authToken=${NODE_AUTH_TOKEN}
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish --loglevel verbose
        env:
          NODE_AUTH_TOKEN: ''
`, "oidc-token-fallback-masks-failure"},
}

// placeholderLog is the publish of a run whose OIDC exchange worked but whose .npmrc
// (setup-node's registry-url) sent the placeholder token on the PUT.
const placeholderLog = `##[group]Run npm publish --loglevel verbose
npm publish --loglevel verbose
env:
  NPM_CONFIG_USERCONFIG: /home/runner/work/_temp/.npmrc
  NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX
##[endgroup]
npm info using npm@11.6.2
npm verbose oidc Successfully retrieved and set token
npm notice Publishing to https://registry.npmjs.org/ with tag latest and public access
npm notice Access token expired or revoked. Please try logging in again.
npm error code E404
npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found
npm error 404  The requested resource '@acme/widgets@2.4.0' could not be found or you do not have permission to access it.
##[error]Process completed with exit code 1.
`

// TestRunAnswersCarryAPatch: through the loopback GitHub and registry doubles, the
// answer to each failed run has a patch of the workflow at that commit that git applies,
// after which check reports none of the cause's findings.
func TestRunAnswersCarryAPatch(t *testing.T) {
	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	reg.AddToken("npm_readToken", "")
	reg.AddPackage("@acme/widgets", fakenpm.Package{Versions: []string{"2.3.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", AllowPublish: true}})
	for _, run := range failedRuns {
		t.Run(run.name, func(t *testing.T) {
			log := placeholderLog
			if run.log != "" {
				b, err := os.ReadFile(repo(run.log))
				if err != nil {
					t.Fatal(err)
				}
				log = string(b)
			}
			gh := fakeGitHub(t, run.workflow, log)
			t.Setenv("GITHUB_TOKEN", "test-token")
			t.Setenv("GITHUB_API_URL", gh.URL+"/")
			t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
			t.Setenv("NPM_TOKEN", "npm_readToken")
			code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", "https://github.com/acme/widgets/actions/runs/42")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			schematest.Validate(t, schematest.DiagnosisFile, run.name, []byte(out))
			var ans diagnose.Answer
			if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.Diagnoses) == 0 {
				t.Fatalf("answer (%v):\n%s", err, out)
			}
			top := ans.Diagnoses[0]
			if top.ID != run.rule || top.Fix.Patch == "" {
				t.Fatalf("top diagnosis %s with patch %q, want %s with a patch\n%s", top.ID, top.Fix.Patch, run.rule, out)
			}
			p := top.Fix.Patch
			t.Logf("%s: patch\n%s", top.ID, p)
			if !strings.HasPrefix(p, "--- a/.github/workflows/release.yml\n+++ b/.github/workflows/release.yml\n@@ ") {
				t.Errorf("patch header:\n%s", p)
			}

			// The repository at the failing commit, then the patch applied to it.
			dir := t.TempDir()
			wf := filepath.Join(dir, ".github", "workflows", "release.yml")
			if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(wf, []byte(run.workflow), 0o644); err != nil {
				t.Fatal(err)
			}
			before := checkJSON(t, wf)
			if kinds(before.Findings)[findingOf(before.Findings, run.rule)] == 0 {
				t.Fatalf("check does not see %s before the patch: %v", run.rule, kinds(before.Findings))
			}
			if !gitApplyCheck(t, dir, p) {
				t.Log("git is not installed: the patch is applied by check --fix's own edits only")
			}
			applied, err := applyUnified(run.workflow, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(wf, []byte(applied), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, f := range checkJSON(t, wf).Findings {
				if sameCause(f.Rule, run.rule) {
					t.Errorf("after the patch check still reports %s: %s", f.Rule, f.Message)
				}
			}
			for _, c := range commentLines([]byte(run.workflow)) {
				if !strings.Contains(applied, c) && !strings.Contains(c, "setup-node writes") {
					t.Errorf("the patch drops comment %q", c)
				}
			}

			// The same patch in the text and Markdown renderings.
			_, text, _ := runCLI(t, "", "diagnose", "https://github.com/acme/widgets/actions/runs/42")
			_, md, _ := runCLI(t, "", "diagnose", "--format", "markdown", "https://github.com/acme/widgets/actions/runs/42")
			if !strings.Contains(text, "Patch:") || !strings.Contains(text, "+++ b/.github/workflows/release.yml") {
				t.Errorf("text answer lacks the patch:\n%s", text)
			}
			if !strings.Contains(md, "```diff\n--- a/.github/workflows/release.yml") {
				t.Errorf("Markdown answer lacks the patch:\n%s", md)
			}
		})
	}
}

// sameCause: a check finding for the rule, or one its fix removes alike.
func sameCause(a, b string) bool {
	idToken := map[string]bool{"oidc-missing-id-token-permission": true, "provenance-missing-id-token-permission": true}
	return a == b || idToken[a] && idToken[b]
}

func findingOf(fs []workflow.Finding, rule string) string {
	for _, f := range fs {
		if sameCause(f.Rule, rule) {
			return f.ID + " " + f.Rule
		}
	}
	return ""
}

// applyUnified applies a one-file unified diff as patch does: each hunk's context and
// removed lines must be where its header says.
func applyUnified(src, diff string) (string, error) {
	a := strings.SplitAfter(src, "\n")
	if a[len(a)-1] == "" {
		a = a[:len(a)-1]
	}
	var out []string
	at := 0
	lines := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(lines) && lines[i] != ""; {
		var as, ac, bs, bc int
		if _, err := fmt.Sscanf(lines[i], "@@ -%d,%d +%d,%d @@", &as, &ac, &bs, &bc); err != nil {
			return "", fmt.Errorf("hunk header %q: %w", lines[i], err)
		}
		start := as - 1
		if ac == 0 {
			start = as
		}
		out = append(out, a[at:start]...)
		at = start
		for i++; i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i]
			switch l[0] {
			case ' ', '-':
				if at >= len(a) || a[at] != l[1:] {
					return "", fmt.Errorf("line %d is not %q", at+1, l[1:])
				}
				if l[0] == ' ' {
					out = append(out, l[1:])
				}
				at++
			case '+':
				out = append(out, l[1:])
			}
		}
	}
	return strings.Join(append(out, a[at:]...), ""), nil
}

// The Action's job summary shows the patch: in check mode the fixes of the findings, in
// diagnose mode the fix of the run's cause, both collapsed under "Patch".
func TestActionSummariesShowThePatch(t *testing.T) {
	run := failedRuns[1]
	log, err := os.ReadFile(repo(run.log)) // before the Actions environment changes directory
	if err != nil {
		t.Fatal(err)
	}
	env := newActionsEnv(t, map[string]string{"mode": "check"})
	wf := filepath.Join(env.workspace, ".github", "workflows", "release.yml")
	if err := os.WriteFile(wf, []byte(brokenWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "action"); code != exitRuntime {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	summary := env.summaryText(t)
	if !strings.Contains(summary, "<details><summary>Patch: the fix of 2 finding(s)") || !strings.Contains(summary, "```diff\n--- a/.github/workflows/release.yml\n") {
		t.Errorf("check summary lacks the patch:\n%s", summary)
	}
	if now, _ := os.ReadFile(wf); string(now) != brokenWorkflow {
		t.Errorf("check mode changed the workflow")
	}

	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	gh := fakeGitHub(t, run.workflow, string(log))
	env = newActionsEnv(t, map[string]string{"mode": "diagnose"})
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
	if code, _, stderr := runCLI(t, "", "action"); code != exitOK {
		t.Fatalf("diagnose: exit %d: %s", code, stderr)
	}
	summary = env.summaryText(t)
	if !strings.Contains(summary, "**Patch**") || !strings.Contains(summary, "+      id-token: write") {
		t.Errorf("diagnose summary lacks the patch:\n%s", summary)
	}
}

// A cause fixed on npmjs.com has no patch: the answer gives the npm trust commands for the
// run's package, repository and workflow file instead.
func TestRunAnswerGivesTheTrustCommand(t *testing.T) {
	paste, reg := seedRun(t, true) // the trusted publisher names publish.yml
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "\n      id-token: write", "'24'"), paste)
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
	t.Setenv("NPM_TOKEN", "npm_readToken")
	code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", "https://github.com/acme/widgets/actions/runs/42")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	schematest.Validate(t, schematest.DiagnosisFile, "trust command", []byte(out))
	var ans diagnose.Answer
	if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.Diagnoses) == 0 {
		t.Fatalf("answer (%v):\n%s", err, out)
	}
	top := ans.Diagnoses[0]
	if top.ID != "oidc-workflow-filename-mismatch" || top.Fix.Patch != "" {
		t.Fatalf("top %s, patch %q", top.ID, top.Fix.Patch)
	}
	want := "npm trust github @acme/widgets --repo acme/widgets --file release.yml --allow-publish --yes\n"
	if !strings.HasPrefix(top.Fix.Command, "npm trust list @acme/widgets\n") || !strings.HasSuffix(top.Fix.Command, want) {
		t.Errorf("command:\n%s", top.Fix.Command)
	}
}
