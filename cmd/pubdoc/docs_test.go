package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/config"
)

// Docs that run: the operator's commands in docs/slack.md and docs/deploy.md. The shell
// blocks that need only pubdoc are run (in a scratch directory holding copies of the
// repository files they name, with fake Slack on loopback); those that need real Slack,
// GitHub, Docker or a cluster are checked for syntax (bash -n), and every block for the
// files and environment variables it names. Config blocks are parsed (YAML, JSON, HTML),
// a routes block by the routes parser itself.

// operatorDocs are the pages this test reads, from the repository root.
var operatorDocs = []string{"docs/slack.md", "docs/deploy.md"}

// envExceptions are the variables the docs may name that internal/config does not read,
// each with the file that reads it (it must name the variable) or "" for the toolchain's.
var envExceptions = map[string]string{
	"CGO_ENABLED":       "",                          // the Go toolchain's
	"DOCKER_BUILDKIT":   "",                          // Docker's
	"POSTGRES_PASSWORD": "deploy/docker-compose.yml", // compose passes it to PostgreSQL
	"NAME_FILE":         "",                          // the generic form of every secret
	"JOB_ID":            "",                          // a placeholder in a job's URL
}

// operatorFiles are files the docs name that the operator makes without a command in the
// docs, with why.
var operatorFiles = map[string]string{
	"deploy/.env":            "optional: compose reads POSTGRES_PASSWORD from it",
	"deploy/k8s/secret.yaml": "a filled-in copy of k8s/secret.example.yaml (git-ignored)",
}

// docBlock is one fenced code block of a page.
type docBlock struct {
	doc  string // docs/slack.md
	line int    // of the opening fence
	lang string // sh, yaml, json, html or ""
	text string
}

func (b docBlock) String() string { return fmt.Sprintf("%s:%d (%s)", b.doc, b.line, b.lang) }

// fenceRE is an opening or closing code fence, indented or not (blocks in list items).
var fenceRE = regexp.MustCompile("^\\s*(`{3,})\\s*([A-Za-z0-9_-]*)\\s*$")

// docBlocks returns a page's fenced code blocks in order. A fence of four backticks may
// hold one of three (slack.md's pasted log); the indentation of a list item is removed.
func docBlocks(t *testing.T, doc string) []docBlock {
	t.Helper()
	var out []docBlock
	var cur *docBlock
	var fence, indent string
	for i, line := range strings.Split(readRepo(t, doc), "\n") {
		m := fenceRE.FindStringSubmatch(line)
		switch {
		case cur == nil && m != nil:
			cur = &docBlock{doc: doc, line: i + 1, lang: m[2]}
			fence = m[1]
			indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
		case cur != nil && m != nil && m[2] == "" && len(m[1]) >= len(fence):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s: the code block at line %d is not closed", doc, cur.line)
	}
	return out
}

func readRepo(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(repo(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runnableCommands are the commands a shell block may use to be run by this test; a
// block using anything else (docker, kubectl, curl, …) is checked for syntax only.
var runnableCommands = []string{"export", "cp", "go", "pubdoc", "bin/pubdoc"}

// assignRE is a NAME=value prefix of a shell command.
var assignRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// runnable says whether every command of a shell block is one this test can run, and
// every path it names is relative (an absolute path is the operator's machine).
func runnable(b docBlock) bool {
	for _, line := range strings.Split(b.text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		for len(fields) > 0 && assignRE.MatchString(fields[0]) {
			if strings.Contains(fields[0], "=/") {
				return false
			}
			fields = fields[1:]
		}
		if len(fields) == 0 || !slices.Contains(runnableCommands, fields[0]) {
			return false
		}
	}
	return true
}

// TestDocsBlocksParse: every shell block passes bash -n, every YAML, JSON and HTML block
// parses, a routes block passes the routes parser, and at least the blocks this test runs
// are there (a page rewritten so that nothing runs fails here).
func TestDocsBlocksParse(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	var run []string
	for _, doc := range operatorDocs {
		for _, b := range docBlocks(t, doc) {
			switch b.lang {
			case "sh", "bash", "shell":
				cmd := exec.Command("bash", "-n")
				cmd.Stdin = strings.NewReader(b.text)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: bash -n: %v\n%s", b, err, out)
				}
				if runnable(b) {
					run = append(run, b.String())
				}
			case "yaml", "yml":
				var v any
				if err := yaml.Unmarshal([]byte(b.text), &v); err != nil {
					t.Errorf("%s: %v", b, err)
				}
				if strings.Contains(b.text, "routes:") {
					if _, err := bot.ParseRoutes([]byte(b.text)); err != nil {
						t.Errorf("%s: the routes parser refuses it: %v", b, err)
					}
				}
			case "json":
				if !json.Valid([]byte(b.text)) {
					t.Errorf("%s: not JSON", b)
				}
			case "html":
				dec := xml.NewDecoder(strings.NewReader(b.text))
				dec.Strict = true
				for {
					_, err := dec.Token()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Errorf("%s: %v", b, err)
						break
					}
				}
			case "":
				// Slack text: a slash command and an answer (TestDocsSlackAnswerIsCurrent).
			default:
				t.Errorf("%s: a code block in a language this test does not check", b)
			}
		}
	}
	if len(run) < 3 {
		t.Errorf("only %d shell blocks are runnable here (%v): the quick start, Socket Mode and the build should be", len(run), run)
	}
}

// envWordRE is a word that looks like an environment variable: upper case with an
// underscore.
var envWordRE = regexp.MustCompile(`\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b`)

// knownVar says whether internal/config reads name (or its _FILE form).
func knownVar(name string) bool {
	for _, v := range config.Vars {
		if v.Name == name || (v.Secret && v.Name+"_FILE" == name) {
			return true
		}
	}
	return false
}

// TestDocsNameKnownVariables: every variable the pages name, in prose or in a block, is
// one internal/config reads (or a listed exception), deploy.md's table lists every one of
// config.Vars with the default `pubdoc config` reports, and its list of secrets is
// config's.
func TestDocsNameKnownVariables(t *testing.T) {
	for _, doc := range operatorDocs {
		seen := map[string]bool{}
		for _, name := range envWordRE.FindAllString(readRepo(t, doc), -1) {
			if seen[name] || knownVar(name) {
				continue
			}
			seen[name] = true
			file, ok := envExceptions[name]
			switch {
			case !ok:
				t.Errorf("%s names %s, which internal/config does not read (config.Vars) and is no listed exception", doc, name)
			case file != "" && !strings.Contains(readRepo(t, file), name):
				t.Errorf("%s names %s as read by %s, which does not name it", doc, name, file)
			}
		}
	}

	deploy := readRepo(t, "docs/deploy.md")
	rowRE := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)` \\| *([^|]*?) *\\|")
	rows := map[string]string{}
	for _, m := range rowRE.FindAllStringSubmatch(deploy, -1) {
		rows[m[1]] = m[2]
	}
	defaults := configDefaults(t)
	for _, v := range config.Vars {
		def, ok := rows[v.Name]
		if !ok {
			t.Errorf("docs/deploy.md's table of variables lacks %s", v.Name)
			continue
		}
		// The first `value` of the default column is the default pubdoc config reports.
		want := defaults[v.Name]
		if m := regexp.MustCompile("`([^`]*)`").FindStringSubmatch(def); m != nil && want != "" && m[1] != want {
			t.Errorf("docs/deploy.md says %s defaults to %s; pubdoc config says %s", v.Name, m[1], want)
		}
	}
	for name := range rows {
		if !knownVar(name) {
			t.Errorf("docs/deploy.md's table lists %s, which internal/config does not read", name)
		}
	}

	secretsRE := regexp.MustCompile("(?s)The secrets are (.*?)\\. Each of them has a `_FILE` form")
	m := secretsRE.FindStringSubmatch(deploy)
	if m == nil {
		t.Fatal("docs/deploy.md no longer lists the secrets (\"The secrets are …\")")
	}
	var listed, want []string
	for _, n := range regexp.MustCompile("`([A-Z_]+)`").FindAllStringSubmatch(m[1], -1) {
		listed = append(listed, n[1])
	}
	for _, v := range config.Vars {
		if v.Secret {
			want = append(want, v.Name)
		}
	}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("docs/deploy.md lists the secrets %v; internal/config's are %v", listed, want)
	}
}

// configDefaults is `pubdoc config --format json` in an empty environment: each
// variable's default.
func configDefaults(t *testing.T) map[string]string {
	t.Helper()
	out, stderr, err := runPubdoc(t, repo("."), cleanEnv(), "", "config", "--format", "json")
	if err != nil {
		t.Fatalf("pubdoc config: %v\n%s", err, stderr)
	}
	var ans configAnswer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatal(err)
	}
	defs := map[string]string{}
	for _, e := range ans.Variables {
		if !e.Default {
			t.Errorf("pubdoc config in an empty environment: %s is not its default (%q)", e.Name, e.Value)
		}
		defs[e.Name] = e.Value
	}
	return defs
}

// cleanEnv is an environment without any of Pubdoc's variables (the test's own may have
// GITHUB_TOKEN), with registry look-ups kept off the network.
func cleanEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if d := os.Getenv("TMPDIR"); d != "" {
		env = append(env, "TMPDIR="+d)
	}
	return env
}

// runPubdoc runs the binary in dir with env and stdin.
func runPubdoc(t *testing.T, dir string, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pubdocBinary(t), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// pathRE is a repository path in a page: under one of the repository's directories (k8s/
// is deploy/k8s/), or $PWD/… in a command. A path inside a URL or an absolute path is the
// operator's or the container's, not the repository's.
var pathRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.~/$-])((?:\$PWD/)?(?:deploy|docs|examples|cmd|k8s|bin|knowledge|internal|bot|diagnose|store|mcpserver|tools)/[A-Za-z0-9_./-]*)`)

// docPaths returns the repository paths named in text, cleaned.
func docPaths(text string) []string {
	var out []string
	for _, m := range pathRE.FindAllStringSubmatch(text, -1) {
		p := strings.TrimRight(strings.TrimPrefix(m[1], "$PWD/"), ".")
		if strings.HasPrefix(p, "k8s/") {
			p = "deploy/" + p
		}
		out = append(out, p)
	}
	return out
}

// createdBy returns the paths a shell line creates: cp's target, go build's -o, a > redirect.
func createdBy(line string) []string {
	line, _, _ = strings.Cut(line, "#")
	f := strings.Fields(line)
	var out []string
	for i, w := range f {
		switch {
		case w == "cp" && i+2 < len(f):
			out = append(out, f[i+2])
		case w == "-o" && i+1 < len(f):
			out = append(out, f[i+1])
		case w == ">" && i+1 < len(f):
			out = append(out, f[i+1])
		}
	}
	return out
}

// TestDocsNameFilesThatExist: every repository path the pages name exists, or a command
// of the pages creates it (cp, go build -o, >) — and a command uses it only after the
// command that creates it, in the order an operator follows the page.
func TestDocsNameFilesThatExist(t *testing.T) {
	exists := func(p string) bool { _, err := os.Stat(repo(p)); return err == nil && !ignoredOutput(p) }
	created := map[string]string{} // path → the block that creates it, over both pages
	for _, doc := range operatorDocs {
		for _, b := range docBlocks(t, doc) {
			for _, line := range strings.Split(b.text, "\n") {
				for _, p := range createdBy(line) {
					if _, ok := created[p]; !ok {
						created[p] = b.String()
					}
				}
			}
		}
	}
	for _, doc := range operatorDocs {
		// Commands, in order: a path is used after it is made.
		made := map[string]bool{}
		for _, b := range docBlocks(t, doc) {
			if b.lang != "sh" {
				continue
			}
			for _, line := range strings.Split(b.text, "\n") {
				mine := createdBy(line)
				for _, p := range docPaths(line) {
					if slices.Contains(mine, p) || exists(p) || made[p] {
						continue
					}
					if by, ok := created[p]; ok {
						t.Errorf("%s uses %s before the step that creates it (%s)", b, p, by)
					} else if _, ok := operatorFiles[p]; !ok {
						t.Errorf("%s names %s, which is not in the repository and no step creates", b, p)
					}
				}
				for _, p := range mine {
					made[p] = true
				}
			}
		}
		// Prose: the file exists, a step creates it, or the operator makes it.
		for _, p := range docPaths(readRepo(t, doc)) {
			_, byStep := created[p]
			_, byOperator := operatorFiles[p]
			if !exists(p) && !byStep && !byOperator {
				t.Errorf("%s names %s, which is not in the repository and no step creates", doc, p)
			}
		}
	}
}

// ignoredOutput: a path that exists in a working copy only because someone built or filled
// it in (the build's output, a filled-in secret), which a fresh clone does not have.
func ignoredOutput(p string) bool {
	return strings.HasPrefix(p, "bin/") || slices.Contains([]string{"deploy/pubdoc.env", "deploy/routes.yaml", "deploy/.env", "deploy/k8s/secret.yaml"}, p)
}

// shellShims stand in for what the test does not run: `go run ./cmd/pubdoc` and `go build
// -o X ./cmd/pubdoc` use the test's binary (built the same way), pubdoc is that binary.
const shellShims = `set -e
pubdoc() { "$PUBDOC_BIN" "$@"; }
go() {
  case "$1 $2" in
    "run ./cmd/pubdoc") shift 2; "$PUBDOC_BIN" "$@" ;;
    "build "*)
      out=""; prev=""
      for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
      [ "${@: -1}" = "./cmd/pubdoc" ] || { echo "go build of something else than ./cmd/pubdoc" >&2; return 97; }
      mkdir -p "$(dirname "$out")"; cp "$PUBDOC_BIN" "$out" ;;
    *) echo "go $*: not run by the docs test" >&2; return 97 ;;
  esac
}
`

// sandbox is a scratch directory holding copies of the repository files block names.
func sandbox(t *testing.T, b docBlock) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range docPaths(b.text) {
		data, err := os.ReadFile(repo(p))
		if err != nil || ignoredOutput(p) {
			continue // made by the block, or a directory
		}
		dst := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// findBlock is the one shell block of doc that contains every one of want.
func findBlock(t *testing.T, doc string, want ...string) docBlock {
	t.Helper()
	var found []docBlock
	for _, b := range docBlocks(t, doc) {
		ok := b.lang == "sh"
		for _, w := range want {
			ok = ok && strings.Contains(b.text, w)
		}
		if ok {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d shell blocks contain %q, want 1", doc, len(found), want)
	}
	if !runnable(found[0]) {
		t.Fatalf("%s uses a command this test cannot run", found[0])
	}
	return found[0]
}

// shellRun is a block running under bash, in its own process group.
type shellRun struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when bash has ended
	err  error         // bash's exit, once done is closed
}

// runBlock starts block under bash in a sandbox, with env (the deployment's: the listen
// address, the fakes' URLs) under it.
func runBlock(t *testing.T, b docBlock, env ...string) *shellRun {
	t.Helper()
	dir := sandbox(t, b)
	cmd := exec.Command("bash", "-c", shellShims+b.text)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), append([]string{"PUBDOC_BIN=" + pubdocBinary(t),
		"PUBDOC_NPM_REGISTRY_URL=http://127.0.0.1:1/"}, env...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r := &shellRun{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		// The group is this block's bash and what it started: pubdoc serve.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
		if t.Failed() {
			t.Logf("%s printed:\n%s", b, r.logs.String())
		}
	})
	return r
}

// docGet is a GET's status and body; 0 while nothing answers.
func docGet(u string) (int, string) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

// waitServing waits for the start-up line and then for /readyz to answer ready (what
// deploy.md's `curl -s localhost:8080/readyz  # → ready` shows), and checks /healthz.
func waitServing(t *testing.T, r *shellRun, base string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(r.logs.String(), `"msg":"pubdoc serve listening"`) {
		select {
		case <-r.done:
			t.Fatalf("the block ended before serving: %v", r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no \"pubdoc serve listening\" line within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var start string
	for _, l := range strings.Split(r.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"pubdoc serve listening"`) {
			start = l
		}
	}
	// deploy.md's compose step probes it with curl and shows the answer.
	probe := regexp.MustCompile(`curl -s localhost:8080/readyz\s+# → (\S+)`).FindStringSubmatch(readRepo(t, "docs/deploy.md"))
	if probe == nil {
		t.Fatal("docs/deploy.md no longer shows the /readyz probe's answer (curl … /readyz  # → …)")
	}
	waitFor(t, 20*time.Second, "/readyz to answer "+probe[1], func() bool {
		code, body := docGet(base + "/readyz")
		return code == http.StatusOK && body == probe[1]
	})
	if code, body := docGet(base + "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz: %d %q, want 200 ok (deploy.md §8)", code, body)
	}
	return start
}

// slack.md step 4, as written: the start-up line says "slack_http":true, the probes
// answer, and a request with a wrong signature is refused with 401 and counted where
// deploy.md's alert looks (pubdoc_events_rejected_total{reason="bad_signature"}).
func TestDocsSlackQuickStartRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	b := findBlock(t, "docs/slack.md", "serve", "SLACK_SIGNING_SECRET")
	slack := newFakeSlack(t)
	addr := freeAddr(t)
	r := runBlock(t, b, "PUBDOC_ADDR="+addr, "PUBDOC_LOG_LEVEL=info", "PUBDOC_SLACK_API_URL="+slack.srv.URL+"/api/")
	base := "http://" + addr
	start := waitServing(t, r, base)
	if !strings.Contains(start, `"slack_http":true`) {
		t.Errorf("slack.md says the start-up line shows \"slack_http\":true; it is %s", start)
	}
	if !strings.Contains(start, `"routes":`) || strings.Contains(start, `"routes":0`) {
		t.Errorf("the block's routes file was not read: %s", start)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", strings.NewReader(`{"type":"url_verification","challenge":"x"}`))
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(time.Now().Unix()))
	req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong Slack signature: %d, want 401 (slack.md, Troubleshooting)", resp.StatusCode)
	}
	checkRejectedMetric(t, base, "slack", "bad_signature")
	if !strings.Contains(r.logs.String(), `"msg":"refused a Slack request"`) {
		t.Error(`deploy.md promises a "refused a Slack request" line for a refused request`)
	}
}

// checkRejectedMetric: /metrics counts one refusal of source for reason, under the name
// and labels docs/deploy.md's alert uses.
func checkRejectedMetric(t *testing.T, base, source, reason string) {
	t.Helper()
	alert := regexp.MustCompile(`increase\((pubdoc_events_rejected_total)\{reason="(\w+)"\}`).FindStringSubmatch(readRepo(t, "docs/deploy.md"))
	if alert == nil {
		t.Fatal("docs/deploy.md no longer shows the alert on pubdoc_events_rejected_total")
	}
	_, metrics := docGet(base + "/metrics")
	re := regexp.MustCompile(`(?m)^` + alert[1] + `\{([^}]*)\} (\d+)`)
	for _, m := range re.FindAllStringSubmatch(metrics, -1) {
		if strings.Contains(m[1], `reason="`+reason+`"`) && strings.Contains(m[1], `source="`+source+`"`) {
			if m[2] != "1" {
				t.Errorf("%s{%s} = %s, want 1", alert[1], m[1], m[2])
			}
			if reason == "bad_signature" && alert[2] != reason {
				t.Errorf("deploy.md's alert watches reason=%q; a wrong signature counts as %q", alert[2], reason)
			}
			return
		}
	}
	t.Errorf("/metrics has no %s{reason=%q,source=%q}:\n%s", alert[1], reason, source, grepLines(metrics, alert[1]))
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// deploy.md §8: every refusal is counted by source and reason, and the reasons it lists
// are those the code counts. A wrong GitHub signature and a wrong API token are counted
// where the page says.
func TestDocsRejectedReasons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	deploy := readRepo(t, "docs/deploy.md")
	row := grepLines(deploy, "`pubdoc_events_rejected_total")
	// The reasons the code counts: refuse(r, "…"), refuseWebhook(r, "…"), EventRejected("api", "…").
	reasonRE := regexp.MustCompile(`(?:refuse|refuseWebhook)\(r, "([a-z_]+)"|EventRejected\("[a-z]+", "([a-z_]+)"\)`)
	var files []string
	for _, pat := range []string{"bot/*.go", "bot/*/*.go"} {
		m, _ := filepath.Glob(repo(pat))
		files = append(files, m...)
	}
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reasonRE.FindAllStringSubmatch(string(src), -1) {
			reason := m[1] + m[2]
			found++
			if !strings.Contains(row, `"`+reason+`"`) && !strings.Contains(row, "`"+reason+"`") {
				t.Errorf("%s counts refusals as reason %q, which docs/deploy.md's metrics table does not name", filepath.Base(f), reason)
			}
		}
	}
	if found < 5 {
		t.Fatalf("found %d refusal reasons in bot/: the pattern no longer matches the code", found)
	}

	slack := newFakeSlack(t)
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "GITHUB_WEBHOOK_SECRET="+testWebhookSecret,
		"PUBDOC_API_TOKEN="+testAPIToken)...)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/github/webhook", strings.NewReader(`{"action":"completed"}`))
	req.Header.Set("X-GitHub-Event", "workflow_run")
	req.Header.Set("X-GitHub-Delivery", "d-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong GitHub signature: %d, want 401 (deploy.md §12)", resp.StatusCode)
	}
	code, _ := httpCall(t, http.MethodPost, s.url+"/api/diagnose", "Bearer wrong", strings.NewReader("npm error code E404\n"))
	if code != http.StatusUnauthorized {
		t.Errorf("/api/diagnose with a wrong token: %d, want 401", code)
	}
	checkRejectedMetric(t, s.url, "github", "bad_signature")
	checkRejectedMetric(t, s.url, "api", "unauthorized")
	if !strings.Contains(s.logs.String(), `"msg":"refused a GitHub delivery"`) {
		t.Error(`deploy.md promises a "refused a GitHub delivery" line for a refused delivery`)
	}
}

// slack.md's Socket Mode block, as written: the start-up line says "socket_mode":true and
// /readyz answers ready once the socket is up.
func TestDocsSocketModeRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	b := findBlock(t, "docs/slack.md", "SLACK_APP_TOKEN", "serve")
	slack := newSocketSlack(t, true)
	slack.setAllow(true)
	addr := freeAddr(t)
	r := runBlock(t, b, "PUBDOC_ADDR="+addr, "PUBDOC_LOG_LEVEL=info", "PUBDOC_SLACK_API_URL="+slack.srv.URL+"/api/")
	start := waitServing(t, r, "http://"+addr)
	if !strings.Contains(start, `"socket_mode":true`) {
		t.Errorf("slack.md says the start-up line shows \"socket_mode\":true; it is %s", start)
	}
}

// deploy.md §1's build block: it builds bin/pubdoc (the test's binary stands in for the
// go build) and bin/pubdoc version answers.
func TestDocsBuildBlockRuns(t *testing.T) {
	b := findBlock(t, "docs/deploy.md", "go build", "bin/pubdoc version")
	r := runBlock(t, b)
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("%s: %v\n%s", b, r.err, r.logs.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the build block did not end within a minute")
	}
	if !strings.Contains(r.logs.String(), "pubdoc") {
		t.Errorf("bin/pubdoc version printed %q", r.logs.String())
	}
}

// The pubdoc commands the pages name inline run: `pubdoc serve` as its help, the others as
// written, from the repository root with a log on stdin.
func TestDocsInlineCommandsRun(t *testing.T) {
	inlineRE := regexp.MustCompile("`(pubdoc [^`]+)`")
	stdin := readRepo(t, "examples/old-npm.log")
	ran := map[string]bool{}
	for _, doc := range operatorDocs {
		for _, m := range inlineRE.FindAllStringSubmatch(readRepo(t, doc), -1) {
			args := strings.Fields(m[1])[1:]
			if slices.Equal(args, []string{"serve"}) {
				args = append(args, "--help")
			}
			key := strings.Join(args, " ")
			if ran[key] {
				continue
			}
			ran[key] = true
			out, stderr, err := runPubdoc(t, repo("."), cleanEnv(), stdin, args...)
			if err != nil {
				t.Errorf("%s: `pubdoc %s`: %v\n%s", doc, key, err, stderr)
				continue
			}
			if strings.TrimSpace(out) == "" {
				t.Errorf("%s: `pubdoc %s` printed nothing", doc, key)
			}
		}
	}
	for _, want := range []string{"serve --help", "config", "diagnose examples/old-npm.log"} {
		if !ran[want] {
			t.Errorf("the pages no longer name `pubdoc %s`", want)
		}
	}
}

// slack.md's first answer is the diagnosis `pubdoc diagnose examples/old-npm.log` gives:
// the same rule, title and confidence, and the evidence line it quotes is that line of the
// example.
func TestDocsSlackAnswerIsCurrent(t *testing.T) {
	var sample string
	for _, b := range docBlocks(t, "docs/slack.md") {
		if b.lang == "" && strings.HasPrefix(b.text, "DIAGNOSED") {
			sample = b.text
		}
	}
	if sample == "" {
		t.Fatal("docs/slack.md no longer shows the first answer (a block starting DIAGNOSED)")
	}
	code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", repo("examples/old-npm.log"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ans struct {
		Diagnoses []struct {
			ID         string  `json:"id"`
			Title      string  `json:"title"`
			Confidence float64 `json:"confidence"`
		} `json:"diagnoses"`
	}
	if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.Diagnoses) == 0 {
		t.Fatalf("decoding the diagnosis: %v", err)
	}
	top := ans.Diagnoses[0]
	head := fmt.Sprintf("DIAGNOSED %s [%s] · confidence %.2f", top.Title, top.ID, top.Confidence)
	if first, _, _ := strings.Cut(sample, "\n"); first != head {
		t.Errorf("slack.md's answer starts\n  %s\npubdoc gives\n  %s", first, head)
	}
	lines := strings.Split(readRepo(t, "examples/old-npm.log"), "\n")
	for _, m := range regexp.MustCompile(`(?m)\bL(\d+) (.+)$`).FindAllStringSubmatch(sample, -1) {
		var n int
		_, _ = fmt.Sscan(m[1], &n)
		if n < 1 || n > len(lines) || !strings.Contains(lines[n-1], m[2]) {
			t.Errorf("slack.md quotes line %s of examples/old-npm.log as %q; it is not there", m[1], m[2])
		}
	}
}

// README's FAQ: diagnosing a file, searching and linting the knowledge base make no
// network call — every address Pubdoc could use, and a proxy, point at a recorder that
// must stay silent — while the answer says auto mode does go to GitHub and the registry.
func TestDocsFAQNetwork(t *testing.T) {
	readme := readRepo(t, "README.md")
	_, faq, ok := strings.Cut(readme, "**Does it send my log anywhere?**")
	if !ok {
		t.Fatal("README's FAQ no longer asks whether a log is sent anywhere")
	}
	faq, _, _ = strings.Cut(faq, "\n\n")
	for _, want := range []string{"Auto mode", "GITHUB_API_URL", "PUBDOC_NPM_REGISTRY_URL"} {
		if !strings.Contains(faq, want) {
			t.Errorf("README's FAQ answer about the network does not mention %s", want)
		}
	}

	var calls atomic.Int64
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no network expected", http.StatusTeapot)
	}))
	defer rec.Close()
	env := append(cleanEnv(), "GITHUB_API_URL="+rec.URL+"/", "PUBDOC_NPM_REGISTRY_URL="+rec.URL+"/",
		"PUBDOC_SLACK_API_URL="+rec.URL+"/api/", "GITHUB_TOKEN=t", "NPM_TOKEN=n",
		"HTTP_PROXY="+rec.URL, "HTTPS_PROXY="+rec.URL, "http_proxy="+rec.URL, "https_proxy="+rec.URL)
	for _, args := range [][]string{
		{"diagnose", "examples/old-npm.log"},
		{"diagnose", "--format", "json", "-"},
		{"kb", "search", "token", "expired"},
		{"kb", "lint"},
	} {
		if _, stderr, err := runPubdoc(t, repo("."), env, readRepo(t, "examples/old-npm.log"), args...); err != nil {
			t.Errorf("pubdoc %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("diagnosing a file made %d network calls; the FAQ says none", n)
	}
	// Auto mode does go out, to the addresses the FAQ names (and the recorder hears it).
	_, _, _ = runPubdoc(t, repo("."), env, "", "diagnose", "https://github.com/acme/widgets/actions/runs/1")
	if calls.Load() == 0 {
		t.Error("auto mode made no call to GITHUB_API_URL: the recorder would not hear a network call")
	}
}
