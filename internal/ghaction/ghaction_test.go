package ghaction

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/knowledge"
)

func TestAnnotationEscaping(t *testing.T) {
	a := Annotation{Level: LevelError, File: "dir,x/a:b.yml", Line: 14, Title: "Pubdoc: 100% sure, really", Message: "line one\nline two 50%\r"}
	want := "::error file=dir%2Cx/a%3Ab.yml,line=14,title=Pubdoc%3A 100%25 sure%2C really::line one%0Aline two 50%25%0D"
	if got := a.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := (Annotation{Message: "plain"}).String(); got != "::error::plain" {
		t.Fatalf("got %s", got)
	}
	if got := (Annotation{Level: LevelNotice, File: "f.yml", Message: "m"}).String(); got != "::notice file=f.yml::m" {
		t.Fatalf("got %s", got)
	}
}

func TestSetOutputsAndSummary(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := SetOutputs(out, [][2]string{{"verdict", "diagnosed"}, {"multi", "a\nb"}, {"empty", ""}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(string(data), "\n")
	if lines[0] != "verdict=diagnosed" || !strings.HasPrefix(lines[1], "multi<<ghadelimiter_") || lines[2] != "a" || lines[3] != "b" ||
		lines[4] != strings.TrimPrefix(lines[1], "multi<<") || lines[5] != "empty=" {
		t.Fatalf("GITHUB_OUTPUT:\n%s", data)
	}
	if err := SetOutputs(out, [][2]string{{"a=b", "x"}}); err == nil {
		t.Error("an output name with '=' was accepted")
	}
	if err := SetOutputs("", nil); err == nil {
		t.Error("no GITHUB_OUTPUT: no error")
	}
	sum := filepath.Join(dir, "sum")
	if err := AppendSummary(sum, "# one"); err != nil {
		t.Fatal(err)
	}
	if err := AppendSummary(sum, "two\n"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(sum); string(data) != "# one\ntwo\n" {
		t.Fatalf("summary %q", data)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"INPUT_MODE": "Check", "INPUT_PATH": ".github/workflows\n  ci/extra.yml ", "INPUT_FAIL-ON-ERROR": "false",
		"GITHUB_REPOSITORY": "acme/widgets", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SERVER_URL": "https://ghe.example.com/",
	}
	e, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if e.Mode != ModeCheck || len(e.Paths) != 2 || e.Paths[1] != "ci/extra.yml" || e.FailOnError {
		t.Fatalf("%+v", e)
	}
	if got := e.CurrentRunURL(); got != "https://ghe.example.com/acme/widgets/actions/runs/42/attempts/2" {
		t.Fatalf("run URL %s", got)
	}
	for name, bad := range map[string]map[string]string{
		"mode":            {"INPUT_MODE": "lint"},
		"fail-on-error":   {"INPUT_FAIL_ON_ERROR": "sometimes"},
		"slack half":      {"INPUT_SLACK_CHANNEL": "C1"},
		"attempt":         {"GITHUB_RUN_ATTEMPT": "zero"},
		"slack token too": {"INPUT_SLACK_BOT_TOKEN": "xoxb-1"},
	} {
		if _, err := FromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%s: accepted %v", name, bad)
		}
	}
	e, _ = FromEnv(func(string) string { return "" })
	if e.Mode != ModeDiagnose || !e.FailOnError || e.CurrentRunURL() != "" {
		t.Fatalf("defaults: %+v", e)
	}
	e.Workspace = filepath.FromSlash("/w/repo")
	if got := e.RepoPath(filepath.FromSlash("/w/repo/.github/workflows/a.yml")); got != ".github/workflows/a.yml" {
		t.Errorf("RepoPath %s", got)
	}
	if got := e.RepoPath("./.github/workflows/a.yml"); got != ".github/workflows/a.yml" {
		t.Errorf("RepoPath %s", got)
	}
}

func TestDiagnosisAnnotations(t *testing.T) {
	d := diagnose.Diagnosis{
		ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing", Confidence: 0.93,
		Fix: diagnose.AnswerFix{Fix: knowledge.Fix{Summary: "Use Node 24."}},
		Evidence: []diagnose.Evidence{
			{Line: 14, Text: "node-version: 20", Source: "workflow", File: "release.yml"},
			{Line: 14, Text: "node-version: 20", Source: "workflow", File: "release.yml"},
			{Line: 812, Text: "npm error 404", Source: "log"},
		},
	}
	as := DiagnosisAnnotations(&diagnose.Result{Verdict: diagnose.Diagnosed, Diagnoses: []diagnose.Diagnosis{d}}, "publish")
	if len(as) != 1 || as[0].File != ".github/workflows/release.yml" || as[0].Line != 14 || as[0].Level != LevelError ||
		!strings.HasPrefix(as[0].Title, "publish: Pubdoc: npm is too old") || !strings.Contains(as[0].Message, "node-version: 20") {
		t.Fatalf("%+v", as)
	}
	d.Evidence = d.Evidence[2:]
	as = DiagnosisAnnotations(&diagnose.Result{Verdict: diagnose.Diagnosed, Diagnoses: []diagnose.Diagnosis{d}}, "")
	if len(as) != 1 || as[0].File != "" || !strings.Contains(as[0].Message, "[oidc-npm-too-old]") {
		t.Fatalf("%+v", as)
	}
	as = DiagnosisAnnotations(&diagnose.Result{Verdict: diagnose.Inconclusive, Diagnoses: []diagnose.Diagnosis{d, d, d, d}, NextChecks: []string{"Look at Set up job."}}, "")
	if len(as) != 1 || as[0].Level != LevelWarning || strings.Count(as[0].Message, d.Title) != maxCandidates || !strings.Contains(as[0].Message, "Set up job") {
		t.Fatalf("%+v", as)
	}
	as = DiagnosisAnnotations(&diagnose.Result{Verdict: diagnose.NoKnownCause}, "")
	if len(as) != 1 || as[0].Level != LevelNotice {
		t.Fatalf("%+v", as)
	}
	if RepoFile("package.json") != "package.json" || RepoFile(".github/workflows/x.yaml") != ".github/workflows/x.yaml" || RepoFile("x.yaml") != ".github/workflows/x.yaml" {
		t.Error("RepoFile")
	}
}

func TestCheckSARIF(t *testing.T) {
	fs := []workflow.Finding{
		{ID: "check-npm-too-old", Severity: "error", File: "release.yml", Line: 14, Message: "npm 10", Fix: "Node 24", Rule: "oidc-npm-too-old"},
		{ID: "check-scoped-access", Severity: "warning", File: "release.yml", Line: 20, Message: "scoped"},
		{ID: "check-npm-too-old", Severity: "error", File: "other.yml", Line: 3, Message: "npm 10"},
	}
	path := func(f string) string { return ".github/workflows/" + f }
	s := CheckSARIF(fs, "v1.2.3", path)
	run := s.Runs[0]
	if s.Version != "2.1.0" || len(run.Tool.Driver.Rules) != 2 || len(run.Results) != 3 || run.Tool.Driver.Version != "v1.2.3" {
		t.Fatalf("%+v", s)
	}
	r := run.Results[2]
	if r.RuleIndex != 0 || r.Level != "error" || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != ".github/workflows/other.yml" || r.Locations[0].PhysicalLocation.Region.StartLine != 3 {
		t.Fatalf("%+v", r)
	}
	if run.Results[1].Level != "warning" || !strings.Contains(run.Results[0].Message.Text, "Fix: Node 24") {
		t.Fatalf("%+v", run.Results)
	}
	var b strings.Builder
	if err := s.Write(&b); err != nil || !strings.Contains(b.String(), `"version": "2.1.0"`) {
		t.Fatalf("%v %s", err, b.String())
	}
	as := CheckAnnotations(fs, path)
	if len(as) != 3 || as[0].Level != LevelError || as[1].Level != LevelWarning || as[0].File != ".github/workflows/release.yml" || as[0].Line != 14 {
		t.Fatalf("%+v", as)
	}
}
