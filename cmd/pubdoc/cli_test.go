package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command's --help is its own: its usage line, its flags, its environment, within
// 80 columns, on stdout with exit 0.
func TestHelpIsPerCommand(t *testing.T) {
	root := newRoot(nil, io.Discard, io.Discard, nil)
	seen := map[string]string{}
	n := 0
	visitCommands(root, func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		code, out, stderr := runCLI(t, "", append(path, "--help")...)
		name := strings.Join(append([]string{"pubdoc"}, path...), " ")
		if code != exitOK || stderr != "" {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, stderr)
		}
		if !strings.Contains(out, "Usage:\n  "+name) {
			t.Errorf("%s --help does not show its own usage line:\n%s", name, out)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(out, "--"+f.Name) {
				t.Errorf("%s --help does not list --%s", name, f.Name)
			}
		})
		if prev, dup := seen[out]; dup {
			t.Errorf("%s --help is the same text as %s --help", name, prev)
		}
		seen[out] = name
		if !strings.HasPrefix(name, "pubdoc completion") { // cobra's own words
			for _, l := range strings.Split(out, "\n") {
				if w := utf8.RuneCountInString(l); w > 80 {
					t.Errorf("%s --help: a line of %d columns: %q", name, w, l)
				}
			}
		}
		n++
	})
	if n < 15 {
		t.Errorf("visited %d commands", n)
	}
	for cmd, env := range map[string][]string{
		"serve":    {"PUBDOC_ADDR", "PUBDOC_DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GITHUB_WEBHOOK_SECRET", "GITHUB_APP_PRIVATE_KEY", "PUBDOC_API_TOKEN", "PUBDOC_ADMIN_ADDR", "PUBDOC_ROUTES", "PUBDOC_NPM_REGISTRY_URL"},
		"diagnose": {"NO_COLOR", "PUBDOC_LOG_LEVEL", "GITHUB_TOKEN", "GITHUB_API_URL", "NPM_TOKEN", "--repo OWNER/REPO", "pull request"},
		"action":   {"INPUT_", "GITHUB_STEP_SUMMARY", "--mode"},
		"check":    {"--package", "sarif", "github", ".github/workflows"},
	} {
		_, out, _ := runCLI(t, "", cmd, "--help")
		env := env
		if !strings.Contains(out, "Examples:\n") {
			t.Errorf("%s --help has no examples", cmd)
		}
		for _, v := range env {
			if !strings.Contains(out, v) {
				t.Errorf("%s --help does not name %s", cmd, v)
			}
		}
	}
	// `pubdoc help CMD` is CMD --help.
	_, a, _ := runCLI(t, "", "help", "check")
	_, b, _ := runCLI(t, "", "check", "-h")
	if a != b || a == "" {
		t.Error("pubdoc help check differs from pubdoc check -h")
	}
}

// Flags go before or after the arguments, and Go-style single-dash long flags still work.
func TestFlagsAnywhere(t *testing.T) {
	old := repo("examples/old-npm.log")
	for _, args := range [][]string{
		{"diagnose", old, "--format", "json"},
		{"diagnose", "--format=json", old},
		{"diagnose", "-format", "json", old},
		{"diagnose", old, "-v", "--format", "json"},
	} {
		code, out, stderr := runCLI(t, "", args...)
		var ans struct{ Schema, Verdict string }
		if code != exitOK || json.Unmarshal([]byte(out), &ans) != nil || ans.Verdict != "diagnosed" {
			t.Errorf("%q: exit %d, %s%s", args, code, out, stderr)
		}
	}
	for _, args := range [][]string{
		{"kb", "search", "--format", "json", "token"},
		{"kb", "search", "token", "--format", "json"},
	} {
		code, out, _ := runCLI(t, "", args...)
		var ans struct {
			Query string
			Rules []struct{ ID string }
		}
		if code != exitOK || json.Unmarshal([]byte(out), &ans) != nil || ans.Query != "token" || len(ans.Rules) == 0 {
			t.Errorf("%q: exit %d, query %q: %s", args, code, ans.Query, out)
		}
	}
	code, out, _ := runCLI(t, "", "kb", "eval", "-v", "-windows", repo("diagnose/testdata/cases/negative"))
	if code != exitOK || !strings.Contains(out, "top-1") {
		t.Errorf("kb eval -v -windows: exit %d\n%s", code, out)
	}
	// An unknown flag is a usage error; under --format json, an error envelope too.
	code, out, stderr := runCLI(t, "", "diagnose", old, "--format", "json", "--frobnicate")
	if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(out, `"code": "usage"`) {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, "", "version", "extra"); code != exitUsage || strings.Count(stderr, "pubdoc: ") != 1 {
		t.Errorf("version extra: exit %d, stderr %q", code, stderr)
	}
}

func TestKBShow(t *testing.T) {
	code, out, stderr := runCLI(t, "", "kb", "show", "oidc-npm-too-old")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"oidc-npm-too-old  npm is too old for trusted publishing\n", "\nCause\n  npm older than 11.5.1",
		"\nFix\n", "npm install -g npm@^11.5.1", "\nAnchors (", "regex   ", "npm/cli lib/utils/error-message.js",
		"\nRefs\n  https://",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kb show lacks %q:\n%s", want, out)
		}
	}
	code, _, stderr = runCLI(t, "", "kb", "show", "oidc-npm-to")
	if code != exitUsage || !strings.Contains(stderr, "did you mean oidc-npm-too-old") {
		t.Errorf("unknown id: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "", "kb", "show"); code != exitUsage {
		t.Errorf("no id: exit %d", code)
	}
}

var annotationLine = regexp.MustCompile(`^::(error|warning) file=[^,:]+,line=\d+,title=Pubdoc%3A [a-z0-9-]+::\S`)

func TestCheckDirectoryEveryFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wf")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "good.yml"), []byte(goodWorkflow), 0o644)
	os.WriteFile(filepath.Join(dir, "release.yaml"), []byte(badWorkflow), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a workflow"), 0o644)
	bad := filepath.Join(dir, "release.yaml")

	code, out, _ := runCLI(t, "", "check", dir)
	if code != exitRuntime || !strings.Contains(out, bad+":") || !strings.Contains(out, "2 workflow file(s)") {
		t.Errorf("text: exit %d, want the full path %s:\n%s", code, bad, out)
	}

	code, out, _ = runCLI(t, "", "check", dir, "--format", "json")
	var ans checkAnswer
	if code != exitRuntime || json.Unmarshal([]byte(out), &ans) != nil || len(ans.Findings) == 0 || ans.Findings[0].File != bad {
		t.Errorf("json: exit %d: %s", code, out)
	}

	code, out, _ = runCLI(t, "", "check", "--format", "markdown", dir)
	if code != exitRuntime || !strings.HasPrefix(out, "# Pubdoc check:") || !strings.Contains(out, "| ❌ | `"+bad+":") {
		t.Errorf("markdown: exit %d:\n%s", code, out)
	}

	code, out, _ = runCLI(t, "", "check", "--format", "sarif", dir)
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool    struct{ Driver struct{ Name string } }
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || code != exitRuntime || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != len(ans.Findings) {
		t.Fatalf("sarif (exit %d, %v): %s", code, err, out)
	}
	for _, r := range sarif.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation
		if r.RuleID == "" || loc.Region.StartLine == 0 || !strings.HasSuffix(loc.ArtifactLocation.URI, "wf/release.yaml") || strings.Contains(loc.ArtifactLocation.URI, `\`) {
			t.Errorf("sarif result without rule, line or file: %+v", r)
		}
	}

	code, out, _ = runCLI(t, "", "check", "--format", "github", dir)
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		lines++
		if !annotationLine.MatchString(sc.Text()) {
			t.Errorf("github: not a workflow command: %q", sc.Text())
		}
	}
	if code != exitRuntime || lines != len(ans.Findings) || !strings.Contains(out, "::error file="+filepath.ToSlash(bad)+",line=") {
		t.Errorf("github: exit %d, %d lines for %d findings:\n%s", code, lines, len(ans.Findings), out)
	}

	// No argument: .github/workflows of the working directory.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, ".github", "workflows"), 0o755)
	os.WriteFile(filepath.Join(root, ".github", "workflows", "ok.yml"), []byte(goodWorkflow), 0o644)
	t.Chdir(root)
	code, out, stderr := runCLI(t, "", "check")
	if code != exitOK || !strings.Contains(out, "1 workflow file(s), 0 finding(s)") {
		t.Errorf("default directory: exit %d: %s%s", code, out, stderr)
	}
	// An absolute path under the working directory is annotated from the repository root.
	abs := filepath.Join(root, ".github", "workflows", "release.yml")
	os.WriteFile(abs, []byte(badWorkflow), 0o644)
	if _, out, _ := runCLI(t, "", "check", "--format", "github", abs); !strings.HasPrefix(out, "::error file=.github/workflows/release.yml,line=") {
		t.Errorf("github, absolute path: %s", out)
	}
	if code, _, _ := runCLI(t, "", "check", "--format", "yaml"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := runCLI(t, "", "check", t.TempDir()); code != exitUsage {
		t.Errorf("empty directory: exit %d", code)
	}
}

// A pull request URL diagnoses the failed runs of its head commit.
func TestDiagnosePullRequest(t *testing.T) {
	paste, _ := os.ReadFile(repo("examples/old-npm.log"))
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "", "'24'"), string(paste))
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", "http://127.0.0.1:1")
	code, out, stderr := runCLI(t, "", "diagnose", "https://github.com/acme/widgets/pull/5", "--format", "json")
	var ans struct {
		Schema, Job string
		Jobs        []struct{ Job, URL string }
		Diagnoses   []struct{ ID string }
	}
	if code != exitOK || json.Unmarshal([]byte(out), &ans) != nil || ans.Job != "publish" || len(ans.Jobs) != 1 ||
		ans.Jobs[0].URL != "https://github.com/acme/widgets/actions/runs/42/job/7" || len(ans.Diagnoses) == 0 {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "", "diagnose", "https://github.com/acme/widgets/pull/6")
	if code != exitRuntime || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unknown pull request: exit %d, stderr %q", code, stderr)
	}
}

// A run id with --repo, or with the repository of the current git remote.
func TestDiagnoseRunID(t *testing.T) {
	paste, _ := os.ReadFile(repo("examples/old-npm.log"))
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "", "'24'"), string(paste))
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", "http://127.0.0.1:1")
	code, out, stderr := runCLI(t, "", "diagnose", "--repo", "acme/widgets", "42")
	if code != exitOK || !strings.Contains(out, "== job: publish ==") {
		t.Fatalf("--repo: exit %d: %s%s", code, out, stderr)
	}
	for _, args := range [][]string{
		{"diagnose", "--repo", "acme", "42"},
		{"diagnose", "--repo", "acme/widgets", "job.log"},
	} {
		if code, _, stderr := runCLI(t, "", args...); code != exitUsage || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}

	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git for the remote")
	}
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"remote", "add", "origin", "git@github.com:acme/widgets.git"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	t.Chdir(dir)
	code, out, stderr = runCLI(t, "", "diagnose", "42", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"job": "publish"`) {
		t.Fatalf("git remote: exit %d: %s%s", code, out, stderr)
	}
	t.Chdir(t.TempDir()) // no repository: say to give --repo
	if code, _, stderr := runCLI(t, "", "diagnose", "42"); code != exitUsage || !strings.Contains(stderr, "--repo") {
		t.Errorf("no remote: exit %d, stderr %q", code, stderr)
	}
}

func TestRepoFromRemote(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/widgets.git":         "acme/widgets",
		"https://github.com/acme/widgets":             "acme/widgets",
		"git@github.com:acme/widgets.git":             "acme/widgets",
		"ssh://git@ghe.example.com/acme/widgets.git":  "acme/widgets",
		"https://user@github.com/acme/widgets.js.git": "acme/widgets.js",
		"/srv/git/widgets.git":                        "",
		"https://gitlab.com/group/sub/widgets.git":    "",
	} {
		if got := repoFromRemote(in); got != want {
			t.Errorf("repoFromRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

// Missing GitHub credentials are a usage error (exit 2), as JSON too under --format json.
func TestMissingCredentialsExit2(t *testing.T) {
	for _, k := range []string{"GITHUB_TOKEN", "GITHUB_TOKEN_FILE", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_FILE"} {
		t.Setenv(k, "")
	}
	for _, in := range []string{
		"https://github.com/acme/widgets/actions/runs/42",
		"https://github.com/acme/widgets/pull/5",
	} {
		code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", in)
		if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "GITHUB_TOKEN") || !strings.Contains(out, `"code": "usage"`) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", in, code, out, stderr)
		}
	}
	if code, _, _ := runCLI(t, "", "diagnose", "--repo", "acme/widgets", "42"); code != exitUsage {
		t.Errorf("--repo: exit %d", code)
	}
}

// On a terminal, stdin says what it waits for; on a pipe it does not.
func TestPastePrompt(t *testing.T) {
	log, _ := os.ReadFile(repo("examples/old-npm.log"))
	defer func(f func(io.Reader) bool) { stdinIsTerminal = f }(stdinIsTerminal)
	stdinIsTerminal = func(io.Reader) bool { return true }
	code, out, stderr := runCLI(t, string(log), "diagnose")
	if code != exitOK || stderr != pastePrompt || !strings.Contains(stderr, "Ctrl-D (Ctrl-Z Enter on Windows)") || !strings.HasPrefix(out, "DIAGNOSED") {
		t.Errorf("terminal: exit %d, stderr %q", code, stderr)
	}
	stdinIsTerminal = func(io.Reader) bool { return false }
	if _, _, stderr := runCLI(t, string(log), "diagnose", "-"); stderr != "" {
		t.Errorf("pipe: stderr %q", stderr)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, _ := runCLI(t, "", "completion", shell)
		if code != exitOK || len(out) < 1000 || !strings.Contains(out, "pubdoc") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
	// The shells ask the binary; --format's values and rule ids complete.
	_, out, _ := runCLI(t, "", "__complete", "check", "--format", "")
	if !strings.Contains(out, "sarif") || !strings.Contains(out, "github") {
		t.Errorf("--format completion: %q", out)
	}
	_, out, _ = runCLI(t, "", "__complete", "kb", "show", "oidc-npm-too")
	if !strings.Contains(out, "oidc-npm-too-old") {
		t.Errorf("rule id completion: %q", out)
	}
}
