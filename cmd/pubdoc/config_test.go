package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// plantSecrets sets every secret, some through their _FILE form, to values that contain
// planted, and returns it.
func plantSecrets(t *testing.T) string {
	t.Helper()
	const planted = "planted-7f3a9c1e5b"
	dir := t.TempDir()
	for _, name := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "PUBDOC_API_TOKEN"} {
		t.Setenv(name, "xox-"+planted+"-"+name)
	}
	// The _FILE forms: NPM_TOKEN_FILE alone used to be ignored.
	for name, value := range map[string]string{
		"NPM_TOKEN":              "npm_" + planted,
		"PUBDOC_DATABASE_URL":    "postgres://pubdoc:" + planted + "@db:5432/pubdoc",
		"GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\n" + planted + "\n-----END RSA PRIVATE KEY-----",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(name, "")
		t.Setenv(name+"_FILE", p)
	}
	t.Setenv("GITHUB_APP_ID", "12345")
	return planted
}

func TestConfigRedactsSecrets(t *testing.T) {
	planted := plantSecrets(t)
	t.Setenv("PUBDOC_THREAD_WINDOW", "2h")
	code, out, stderr := runCLI(t, "", "config")
	if code != exitOK || stderr != "" {
		t.Fatalf("config: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(out, planted) {
		t.Fatalf("pubdoc config prints a secret:\n%s", out)
	}
	for _, want := range []string{"NPM_TOKEN  ", "PUBDOC_THREAD_WINDOW  ", "2h\n", "GITHUB_APP_ID  ", "12345",
		"PUBDOC_NPM_REGISTRY_URL  https://registry.npmjs.org/ (default)"} {
		if !strings.Contains(out, want) {
			t.Errorf("config text lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, _ := strings.Cut(line, " ")
		secretVar := strings.HasSuffix(name, "TOKEN") || strings.HasSuffix(name, "SECRET") || strings.HasSuffix(name, "_KEY") || name == "PUBDOC_DATABASE_URL"
		if secretVar && strings.TrimSpace(value) != "<secret>" {
			t.Errorf("%s shows %q, want <secret> (set, from NAME or NAME_FILE)", name, strings.TrimSpace(value))
		}
	}

	code, out, stderr = runCLI(t, "", "config", "--format", "json")
	if code != exitOK || stderr != "" {
		t.Fatalf("config --format json: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(out, planted) {
		t.Fatalf("pubdoc config --format json prints a secret:\n%s", out)
	}
	var ans struct {
		Schema    string `json:"schema"`
		Variables []struct {
			Name    string `json:"name"`
			Value   string `json:"value"`
			Secret  bool   `json:"secret"`
			Default bool   `json:"default"`
		} `json:"variables"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil || ans.Schema != "pubdoc.config/v1" {
		t.Fatalf("config JSON: %v, schema %q", err, ans.Schema)
	}
	secrets := 0
	for _, v := range ans.Variables {
		if v.Secret {
			secrets++
			if v.Value != "<secret>" {
				t.Errorf("%s = %q, want <secret>", v.Name, v.Value)
			}
		}
	}
	if secrets != 9 {
		t.Errorf("%d secrets listed, want 9", secrets)
	}
}

func TestConfigInvalidValue(t *testing.T) {
	for name, value := range map[string]string{
		"PUBDOC_THREAD_WINDOW":    "a day",
		"PUBDOC_NPM_REGISTRY_URL": "registry.npmjs.org",
		"PUBDOC_LOG_LEVEL":        "loud",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			code, out, stderr := runCLI(t, "", "config")
			if code != exitUsage || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, name) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line naming %s", code, out, stderr, name)
			}
		})
	}
}

// TestLogLevelOneParser: serve and the CLI accept the same words, and refuse the same.
func TestLogLevelOneParser(t *testing.T) {
	for _, level := range []string{"debug", "info", "warn", "warning", "error", "ERROR"} {
		if _, err := newLogger(&bytes.Buffer{}, level); err != nil {
			t.Errorf("PUBDOC_LOG_LEVEL=%s: %v", level, err)
		}
	}
	t.Setenv("PUBDOC_LOG_LEVEL", "verbose")
	code, _, stderr := runCLI(t, "", "kb", "list")
	if code != exitUsage || stderr != "pubdoc: PUBDOC_LOG_LEVEL must be debug, info, warn or error, not \"verbose\"\n" {
		t.Errorf("kb list with a bad level: exit %d, stderr %q", code, stderr)
	}
}

// TestServeRefusesBadConfig: an invalid value stops serve's start with one line naming
// the variable, exit 2, before it listens.
func TestServeRefusesBadConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	for name, value := range map[string]string{
		"PUBDOC_LOG_LEVEL":     "loud",
		"PUBDOC_THREAD_WINDOW": "a day",
		"PUBDOC_ADDR":          "8080",
		"NPM_TOKEN_FILE":       "/nonexistent/npm-token",
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(pubdocBinary(t), "serve")
			cmd.Env = append(os.Environ(), "SLACK_BOT_TOKEN=xoxb-test", "SLACK_SIGNING_SECRET=s", "PUBDOC_DATA_DIR="+t.TempDir(),
				"PUBDOC_ADDR=127.0.0.1:0", name+"="+value)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
				t.Fatalf("serve with %s=%q: %v, want exit 2\n%s", name, value, err, stderr.String())
			}
			if strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "pubdoc: ") || !strings.Contains(stderr.String(), name) || stdout.Len() != 0 {
				t.Errorf("stderr %q, stdout %q; want one line naming %s", stderr.String(), stdout.String(), name)
			}
		})
	}
}

// TestServeSaysWhichRegistry: look-ups are on by default, and the start-up line says
// against which registry, and that NPM_TOKEN_FILE alone gives the token.
func TestServeSaysWhichRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	tok := filepath.Join(t.TempDir(), "npm-token")
	if err := os.WriteFile(tok, []byte("npm_fromfile0000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	slack := newFakeSlack(t)
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "NPM_TOKEN=", "NPM_TOKEN_FILE="+tok)...)
	// The probes answer as the listeners start, a moment before the start-up line.
	waitFor(t, 5*time.Second, "the start-up line", func() bool { return strings.Contains(s.logs.String(), "pubdoc serve listening") })
	logs := s.logs.String()
	if !strings.Contains(logs, `"npm_registry":"http://127.0.0.1:1/"`) || !strings.Contains(logs, `"npm_token":true`) {
		t.Errorf("the start-up line does not name the registry and its token:\n%s", logs)
	}
	if strings.Contains(logs, "npm_fromfile") {
		t.Error("the npm token is in the log")
	}
}

// TestAutoModeReadsNPMTokenFile: auto mode reads the _FILE forms (it read none before),
// and asks the registry with the token: the trusted-publisher list needs it.
func TestAutoModeReadsNPMTokenFile(t *testing.T) {
	paste, reg := seedRun(t, true)
	dir := t.TempDir()
	for name, value := range map[string]string{"gh": "test-token\n", "npm": "npm_readToken\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "\n      id-token: write", "'24'"), paste)
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GITHUB_TOKEN_FILE", filepath.Join(dir, "gh"))
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
	t.Setenv("NPM_TOKEN", "")
	t.Setenv("NPM_TOKEN_FILE", filepath.Join(dir, "npm"))
	code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", "https://github.com/acme/widgets/actions/runs/42")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ans struct {
		Diagnoses []struct {
			ID string `json:"id"`
		} `json:"diagnoses"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.Diagnoses) == 0 || ans.Diagnoses[0].ID != "oidc-workflow-filename-mismatch" {
		t.Fatalf("want oidc-workflow-filename-mismatch (the trusted-publisher list, read with the token from NPM_TOKEN_FILE): %v\n%s", err, out)
	}

	// Both forms set: exit 2, one line naming the variable.
	t.Setenv("NPM_TOKEN", "npm_readToken")
	code, _, stderr = runCLI(t, "", "diagnose", "https://github.com/acme/widgets/actions/runs/42")
	if code != exitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "NPM_TOKEN_FILE") {
		t.Errorf("NPM_TOKEN and NPM_TOKEN_FILE both set: exit %d, %q", code, stderr)
	}
}
