package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/schematest"
	"github.com/pubdoc/pubdoc/knowledge"
)

// The schemas are strict enough to catch a drifting answer: these must all fail.
func TestSchemasRejectDrift(t *testing.T) {
	var good bytes.Buffer
	eng := cliEngine(t)
	res, err := eng.DiagnoseText("npm error code E404\nnpm error 404 Not Found - PUT https://registry.npmjs.org/x - Not found\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeAnswer(&good, []*diagnose.Result{res}); err != nil {
		t.Fatal(err)
	}
	if err := schematest.Check(schematest.DiagnosisFile, good.Bytes()); err != nil {
		t.Fatalf("a real answer fails its schema: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(good.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(good.Bytes(), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for name, data := range map[string][]byte{
		"an array of results": []byte("[" + good.String() + "]"),
		"no schema":           mutate(func(m map[string]any) { delete(m, "schema") }),
		"another schema":      mutate(func(m map[string]any) { m["schema"] = "pubdoc.diagnosis/v2" }),
		"an unknown field":    mutate(func(m map[string]any) { m["Verdict"] = "diagnosed" }),
		"a null list":         mutate(func(m map[string]any) { m["next_checks"] = nil }),
		"an unknown verdict":  mutate(func(m map[string]any) { m["verdict"] = "maybe" }),
		"a camelCase fact":    mutate(func(m map[string]any) { m["facts"] = map[string]any{"npmVersion": "10.9.2"} }),
		"jobs without job":    mutate(func(m map[string]any) { m["jobs"] = []any{} }),
		"a job without name":  mutate(func(m map[string]any) { j := mutateCopy(obj); m["job"] = "x"; m["jobs"] = []any{j} }),
	} {
		if schematest.Check(schematest.DiagnosisFile, data) == nil {
			t.Errorf("%s: accepted by diagnosis.v1.json", name)
		}
	}
	for name, data := range map[string]string{
		"Go field names":  `{"schema":"pubdoc.check/v1","findings":[{"ID":"check-x","Severity":"error","File":"a.yml","Line":1,"Message":"m","Fix":"","Snippet":"","Rule":""}]}`,
		"a bare list":     `[]`,
		"null findings":   `{"schema":"pubdoc.check/v1","findings":null}`,
		"a bad severity":  `{"schema":"pubdoc.check/v1","findings":[{"id":"check-x","rule":"","severity":"fatal","file":"a.yml","line":1,"message":"m","fix":"","snippet":""}]}`,
		"a missing field": `{"schema":"pubdoc.check/v1","findings":[{"id":"check-x","severity":"error","file":"a.yml","line":1,"message":"m","fix":"","snippet":""}]}`,
	} {
		if schematest.Check(schematest.CheckFile, []byte(data)) == nil {
			t.Errorf("%s: accepted by check.v1.json", name)
		}
	}
	for name, data := range map[string]string{
		"text":            `"not found"`,
		"an unknown code": `{"schema":"pubdoc.error/v1","error":{"code":"oops","message":"m"}}`,
		"two lines":       `{"schema":"pubdoc.error/v1","error":{"code":"usage","message":"a\nb"}}`,
		"no message":      `{"schema":"pubdoc.error/v1","error":{"code":"usage"}}`,
	} {
		if schematest.Check(schematest.ErrorFile, []byte(data)) == nil {
			t.Errorf("%s: accepted by error.v1.json", name)
		}
	}
}

// mutateCopy is obj without its "job" name, as a job entry must not be.
func mutateCopy(obj map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range obj {
		if k != "schema" {
			c[k] = v
		}
	}
	return c
}

func cliEngine(t *testing.T) *diagnose.Engine {
	t.Helper()
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := diagnose.New(kb, slog.New(slog.DiscardHandler), diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// checkOneObject validates a diagnosis answer and returns it decoded.
func checkOneObject(t *testing.T, what string, data []byte) map[string]any {
	t.Helper()
	schematest.Validate(t, schematest.DiagnosisFile, what, data)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: not one JSON object: %v", what, err)
	}
	for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if bytes.Contains(data, []byte(esc)) {
			t.Errorf("%s: HTML-escaped (%s)", what, esc)
		}
	}
	return m
}

// Every real and negative case, as `diagnose --format json FILE` writes it: one object each,
// valid against docs/schema/diagnosis.v1.json.
func TestSchemaEveryCase(t *testing.T) {
	eng := cliEngine(t)
	files, _ := filepath.Glob(repo("diagnose/testdata/cases/*/*.log"))
	examples, _ := filepath.Glob(repo("examples/*.log"))
	files = append(files, examples...)
	if len(files) < 200 {
		t.Fatalf("found %d cases", len(files))
	}
	sawAngle := false
	for _, f := range files {
		results, err := diagnoseInput(func() (*diagnose.Engine, error) { return eng, nil }, f, nil)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var buf bytes.Buffer
		if err := writeAnswer(&buf, results); err != nil {
			t.Fatal(err)
		}
		m := checkOneObject(t, f, buf.Bytes())
		if _, ok := m["jobs"]; ok {
			t.Errorf("%s: one log has jobs", f)
		}
		sawAngle = sawAngle || bytes.ContainsAny(buf.Bytes(), "<>&")
	}
	if !sawAngle {
		t.Error("no answer holds <, > or &: the HTML-escaping check checked nothing")
	}
}

// stdin, a zip of a run's logs and error answers, through the CLI.
func TestSchemaCLIAnswers(t *testing.T) {
	paste, err := os.ReadFile(repo("examples/bare-paste.log"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, string(paste), "diagnose", "--format", "json")
	if code != exitOK {
		t.Fatalf("stdin: exit %d", code)
	}
	if m := checkOneObject(t, "stdin", []byte(out)); m["verdict"] != "inconclusive" || m["jobs"] != nil {
		t.Errorf("stdin: verdict %v, jobs %v", m["verdict"], m["jobs"])
	}

	// A zip whose first failed job is a build that broke, the second the publish: the top
	// level is the publish job, jobs holds both.
	old, _ := os.ReadFile(repo("examples/old-npm.log"))
	zipPath := filepath.Join(t.TempDir(), "logs.zip")
	writeZip(t, zipPath, map[string]string{
		"0_build.txt":   "2025-01-01T00:00:00.0000000Z > tsc -p .\n2025-01-01T00:00:01.0000000Z src/a.ts(3,1): error TS2304: Cannot find name 'x'.\n2025-01-01T00:00:02.0000000Z ##[error]Process completed with exit code 2.\n",
		"1_publish.txt": string(old),
		"2_lint.txt":    "2025-01-01T00:00:00.0000000Z all good\n",
	})
	for _, args := range [][]string{{"diagnose", "--format", "json", zipPath}, {"diagnose", "--format", "json", "-"}} {
		stdin := ""
		if args[3] == "-" {
			data, _ := os.ReadFile(zipPath)
			stdin = string(data)
		}
		code, out, stderr := runCLI(t, stdin, args...)
		if code != exitOK {
			t.Fatalf("zip %s: exit %d: %s", args[3], code, stderr)
		}
		m := checkOneObject(t, "zip "+args[3], []byte(out))
		jobs, _ := m["jobs"].([]any)
		if m["job"] != "publish" || len(jobs) != 2 || topID(m) != "oidc-npm-too-old" {
			t.Fatalf("zip %s: top job %v (%s), %d jobs:\n%s", args[3], m["job"], topID(m), len(jobs), out)
		}
		if j0, _ := jobs[0].(map[string]any); j0["job"] != "build" || j0["url"] != nil {
			t.Errorf("zip %s: jobs[0] = %v %v, want build without url", args[3], j0["job"], j0["url"])
		}
	}

	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.log")
	binary := filepath.Join(dir, "core.bin")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(binary, []byte("\x7fELF\x00\x00\x01"), 0o644)
	emptyZip := filepath.Join(dir, "empty.zip")
	writeZip(t, emptyZip, map[string]string{"0_a.txt": ""})
	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"missing file": {[]string{filepath.Join(dir, "nope.log")}, exitUsage, "unreadable"},
		"directory":    {[]string{dir}, exitUsage, "unreadable"},
		"empty file":   {[]string{empty}, exitUsage, "empty"},
		"binary file":  {[]string{binary}, exitUsage, "binary"},
		"empty zip":    {[]string{emptyZip}, exitUsage, "empty"},
		"two inputs":   {[]string{"a.log", "b.log"}, exitUsage, "usage"},
		"bad run URL":  {[]string{"https://github.com/acme/widgets/actions/runs/notanumber"}, exitUsage, "usage"},
	} {
		args := append([]string{"diagnose", "--format", "json"}, c.args...)
		code, out, stderr := runCLI(t, "", args...)
		checkError(t, name, code, out, stderr, c.code, c.want)
	}
	// Text answers errors on stderr only.
	if code, out, _ := runCLI(t, "", "diagnose", empty); code != exitUsage || out != "" {
		t.Errorf("text: exit %d, stdout %q", code, out)
	}
}

func checkError(t *testing.T, name string, code int, out, stderr string, wantCode int, want string) {
	t.Helper()
	if code != wantCode || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "pubdoc: ") {
		t.Errorf("%s: exit %d (want %d), stderr %q", name, code, wantCode, stderr)
	}
	schematest.Validate(t, schematest.ErrorFile, name, []byte(out))
	var e diagnose.ErrorAnswer
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Error.Code != want {
		t.Errorf("%s: error code %q (%v), want %q: %s", name, e.Error.Code, err, want, out)
	}
	if msg := strings.TrimSpace(strings.TrimPrefix(stderr, "pubdoc: ")); e.Error.Message != msg {
		t.Errorf("%s: JSON message %q, stderr %q", name, e.Error.Message, msg)
	}
}

func topID(m map[string]any) string {
	ds, _ := m["diagnoses"].([]any)
	if len(ds) == 0 {
		return ""
	}
	d, _ := ds[0].(map[string]any)
	id, _ := d["id"].(string)
	return id
}

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A run URL in auto mode, against the fake GitHub and registry of auto_test.go; and its
// runtime failure as JSON.
func TestSchemaRunURL(t *testing.T) {
	paste, reg := seedRun(t, false)
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "", "'24'"), paste)
	t.Setenv("GITHUB_TOKEN", "test-token")
	t.Setenv("GITHUB_API_URL", gh.URL+"/")
	t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
	t.Setenv("NPM_TOKEN", "")
	const run = "https://github.com/acme/widgets/actions/runs/42"
	code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", run)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := checkOneObject(t, "run URL", []byte(out))
	jobs, _ := m["jobs"].([]any)
	if m["job"] != "publish" || len(jobs) != 1 || m["verdict"] != "diagnosed" {
		t.Fatalf("run URL: job %v, %d jobs, verdict %v:\n%s", m["job"], len(jobs), m["verdict"], out)
	}
	if j, _ := jobs[0].(map[string]any); j["url"] != "https://github.com/acme/widgets/actions/runs/42/job/7" || j["job"] != "publish" || topID(j) != topID(m) {
		t.Errorf("jobs[0]: %v %v %s", j["job"], j["url"], topID(j))
	}

	t.Setenv("GITHUB_TOKEN", "wrong-token")
	code, out, stderr = runCLI(t, "", "diagnose", "--format", "json", run)
	checkError(t, "bad credentials", code, out, stderr, exitRuntime, "runtime")
	if strings.Contains(out+stderr, "wrong-token") {
		t.Error("the token leaked")
	}
}

// `check --format json` over the workflows of diagnose/workflow/testdata, and its errors.
func TestSchemaCheck(t *testing.T) {
	files, _ := filepath.Glob(repo("diagnose/workflow/testdata/*.yml"))
	var ok []string
	for _, f := range files {
		if filepath.Base(f) != "invalid.yml" {
			ok = append(ok, f)
		}
	}
	if len(ok) < 20 {
		t.Fatalf("found %d workflows", len(ok))
	}
	code, out, stderr := runCLI(t, "", append([]string{"check", "--format", "json"}, ok...)...)
	if code != exitRuntime {
		t.Fatalf("exit %d, want %d (errors among the findings): %s", code, exitRuntime, stderr)
	}
	schematest.Validate(t, schematest.CheckFile, "check", []byte(out))
	var got struct {
		Schema   string           `json:"schema"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Schema != diagnose.SchemaCheck || len(got.Findings) < 10 {
		t.Fatalf("check: %v, %d findings: %s", err, len(got.Findings), out)
	}
	if strings.Contains(out, `\u003e`) || strings.Contains(out, `\u003c`) || strings.Contains(out, `\u0026`) {
		t.Error("check's JSON is HTML-escaped")
	}
	for _, f := range got.Findings {
		if file, _ := f["file"].(string); !slices.Contains(ok, file) {
			t.Errorf("finding %v names %q, not a path as given", f["id"], file)
		}
	}
	code, out, _ = runCLI(t, "", "check", "--format", "json", ok[0])
	if code == exitUsage {
		t.Fatalf("one workflow: exit %d", code)
	}
	schematest.Validate(t, schematest.CheckFile, "check one file", []byte(out))

	good := filepath.Join(t.TempDir(), "good.yml")
	os.WriteFile(good, []byte(goodWorkflow), 0o644)
	code, out, _ = runCLI(t, "", "check", "--format", "json", good)
	schematest.Validate(t, schematest.CheckFile, "no findings", []byte(out))
	if code != exitOK || !strings.Contains(out, `"findings": []`) {
		t.Errorf("no findings: exit %d: %s", code, out)
	}

	code, out, stderr = runCLI(t, "", "check", "--format", "json", repo("diagnose/workflow/testdata/invalid.yml"))
	checkError(t, "invalid workflow", code, out, stderr, exitUsage, "usage")
	code, out, stderr = runCLI(t, "", "check", "--format", "json", filepath.Join(t.TempDir(), "missing.yml"))
	checkError(t, "missing workflow", code, out, stderr, exitUsage, "usage")
}
